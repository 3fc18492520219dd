/**
 * `loadModel`: a model folder (or the bundled default) ready for `segment`, with the engine
 * the registry picks. The default folder is found from the package root, not the cwd.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName, EngineInfo } from '../engine/index.js';
import { DentsegError } from '../errors.js';
import { onnxFolderStatus, onnxUnavailableReason } from './onnx-engine.node.js';
import { pickEngine } from './engines.js';
// Node's engines join the registry before anything is picked from it.
import './engines.node.js';
import type { EngineName, LoadedModel } from './types.js';

/** The package root (works from src/infer and dist/infer alike). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The bundled default model folder: `models/teeth-binary/` in the package. */
export const DEFAULT_MODEL_DIR = path.join(PACKAGE_ROOT, 'models', 'teeth-binary');

/** Options of `loadModel`. */
export interface LoadModelOptions {
  /** Force an engine; by default the highest-priority engine whose files the folder has. */
  readonly engine?: EngineName;
  /**
   * TensorFlow.js backend asked for by name (`--backend`). Started only when the tfjs engine
   * runs the model; the ONNX engine has its own runtime (a note says so when logging).
   */
  readonly backend?: BackendName;
  /** Print what runs the model to stderr (`dentseg engine: onnx (onnxruntime-node, 2 threads)`). */
  readonly log?: boolean;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Load a model folder for inference. Without `dir`, the bundled default
 * (`models/teeth-binary/`); an error with a hint when it is missing.
 */
export async function loadModel(dir?: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const folder = path.resolve(dir ?? DEFAULT_MODEL_DIR);
  if (!existsSync(folder)) {
    throw dir === undefined
      ? new DentsegError('E_MODEL_INVALID', 'the bundled default model is missing', {
          file: 'models/teeth-binary/',
          hint: 'pass --model DIR with a folder written by `dentseg train`',
        })
      : new DentsegError('E_FILE_NOT_FOUND', 'no such model folder', { file: dir });
  }
  const factory = pickEngine(folder, opts.engine);
  // Only the tfjs engine computes with TensorFlow.js; starting a backend (libtorch, wasm)
  // for an ONNX model would add ~0.5 s and its memory to every `dentseg predict` and
  // `serve`. The engine module (and with it TensorFlow.js) is imported only then, too.
  let info: EngineInfo | undefined;
  if (factory.name === 'tfjs') {
    const { initEngine } = await import('../engine/index.js');
    info = await initEngine({ backend: opts.backend });
  }
  const { engine, meta } = await factory.load(folder);
  const backend = info?.backend ?? engine.backend;
  const threads = info?.threads ?? engine.threads;
  if (opts.log) {
    const parts = [
      ...(info ? [`${info.backend} backend`] : backend ? [backend] : []),
      ...(threads !== undefined ? [plural(threads, 'thread')] : []),
      ...(info?.note ? [info.note] : []),
    ];
    console.error(
      `dentseg engine: ${engine.name}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`,
    );
    if (!info && opts.backend !== undefined) {
      console.error(
        `dentseg: --backend ${opts.backend} is not used: it picks the TensorFlow.js backend, and the ${engine.name} engine runs this model (add --engine tfjs to compute on ${opts.backend})`,
      );
    }
    // A stale model.onnx is passed over in silence by pickEngine; say so, with the fix.
    const stale = engine.name !== 'onnx' && opts.engine === undefined;
    const why = stale && onnxFolderStatus(folder) !== 'missing' && onnxUnavailableReason(folder);
    if (why)
      console.error(`dentseg: ${why.message}; the ${engine.name} engine runs it (${why.hint})`);
  }
  return {
    meta,
    engine,
    dir: folder,
    ...(backend !== undefined ? { backend } : {}),
    ...(threads !== undefined ? { threads } : {}),
    dispose: () => engine.dispose(),
  };
}
