/**
 * `loadModel`: a model folder (or the bundled default) ready for `segment`, with the engine
 * the registry picks. The default folder is found from the package root, not the cwd.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../engine/index.js';
import { DentsegError } from '../errors.js';
import { pickEngine } from './engines.js';
import type { EngineName, LoadedModel } from './types.js';

/** The package root (works from src/infer and dist/infer alike). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The bundled default model folder: `models/teeth-binary/` in the package. */
export const DEFAULT_MODEL_DIR = path.join(PACKAGE_ROOT, 'models', 'teeth-binary');

/** Options of `loadModel`. */
export interface LoadModelOptions {
  /** Force an engine; by default the highest-priority engine whose files the folder has. */
  readonly engine?: EngineName;
  /** TensorFlow.js backend asked for by name (`--backend`); started even for ONNX models. */
  readonly backend?: BackendName;
  /** Log the TensorFlow.js backend when one is started. */
  readonly log?: boolean;
}

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
  // Only the tfjs engine computes with TensorFlow.js; starting its backend (libtorch, wasm)
  // for an ONNX model would add ~0.5 s to every `dentseg predict`. A backend named by the
  // user is still started, so a broken one is reported rather than silently ignored.
  // The engine module (and with it TensorFlow.js) is imported only then, for the same reason.
  if (factory.name === 'tfjs' || opts.backend !== undefined || process.env.DENTSEG_BACKEND) {
    const { initEngine } = await import('../engine/index.js');
    await initEngine({ backend: opts.backend, log: opts.log });
  }
  const { engine, meta } = await factory.load(folder);
  return {
    meta,
    engine,
    dir: folder,
    dispose: () => engine.dispose(),
  };
}
