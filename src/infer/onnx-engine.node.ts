/**
 * ONNX Runtime for Node as an inference engine: the `model.onnx` that `dentseg export`
 * writes, run by onnxruntime-node's CPU provider with all graph optimisations (ORT folds the
 * NHWC↔NCHW transposes into its blocked layout and fuses Conv+BN+ReLU). The native binding
 * is loaded lazily so that a machine without it still runs the tfjs engine.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { defaultThreads } from '../engine/threads.js';
import { DentsegError } from '../errors.js';
import type { InferenceEngine } from './types.js';
import type { ModelMeta } from '../model/meta.js';
import { onnxMetadata, parseModelMetaText } from './onnx-metadata.js';
import { ortSessionEngine } from './ort-engine.js';

/** The ONNX file's name inside a model folder. */
export const ONNX_FILE = 'model.onnx';
/** The statically quantised (int8, QDQ) twin that `dentseg export --int8` writes beside it. */
export const INT8_ONNX_FILE = 'model.int8.onnx';

export interface OnnxEngineOptions {
  /**
   * Intra-op threads, 1…256. Default: `DENTSEG_THREADS` (capped at the cores) or all
   * cores, as for the tfjs backends.
   */
  readonly threads?: number | undefined;
  /**
   * Let idle intra-op threads spin-wait for work (ORT's default). Off by default: on a
   * shared CPU spinning threads steal time from the busy ones (measured with 2 threads
   * under load: 15–40 % slower with spinning); on an idle machine the difference is small.
   */
  readonly spinning?: boolean | undefined;
  /** Engine name reported to callers: `onnx` (default) or `onnx-int8`. */
  readonly name?: 'onnx' | 'onnx-int8' | undefined;
}

type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;

async function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').catch((err: unknown) => {
    ortModule = undefined;
    throw new DentsegError('E_BACKEND_UNAVAILABLE', 'onnxruntime-node could not be loaded', {
      cause: err,
      hint: 'reinstall the dependencies (npm ci), or use --engine tfjs',
    });
  });
  return ortModule;
}

/** Threads for ORT: the option, else the engine's default (`DENTSEG_THREADS` or all cores). */
export function resolveThreads(threads?: number): number {
  const n = threads ?? defaultThreads();
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new DentsegError('E_USAGE', `threads must be an integer in 1…256; received ${n}`);
  return n;
}

/**
 * An engine over an ONNX file (path or bytes) written by the dentseg exporter: NHWC float32
 * in, NHWC probabilities out, any batch size.
 */
export async function onnxEngine(
  onnx: string | Uint8Array,
  opts: OnnxEngineOptions = {},
): Promise<InferenceEngine & { readonly threads: number }> {
  const ort = await loadOrt();
  const threads = resolveThreads(opts.threads);
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // ORT's memory-pattern planner makes the first two runs slow (measured at 512² on 2
    // cores: 271, 257, then 61 ms) and later runs no faster than without it (252, 60, 61);
    // predict and serve mostly run one image per process or request.
    enableMemPattern: false,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } } },
  };
  const fileOpt = typeof onnx === 'string' ? { file: onnx } : {};
  let session: InferenceSession;
  try {
    session =
      typeof onnx === 'string'
        ? await ort.InferenceSession.create(onnx, sessionOptions)
        : await ort.InferenceSession.create(onnx, sessionOptions);
  } catch (err) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `ONNX Runtime cannot load the model: ${String(err)}`,
      {
        ...fileOpt,
        cause: err,
        hint: 're-export it with `dentseg export --model DIR --onnx OUT.onnx`',
      },
    );
  }
  return Object.assign(
    ortSessionEngine(ort, session, { backend: 'onnxruntime-node', threads, ...fileOpt }),
    { threads, name: opts.name ?? 'onnx' },
  );
}

/**
 * The model folder's `dentseg.json`, or, in a folder holding only `model.onnx`, the copy
 * the exporter stored in the ONNX metadata.
 */
export function readOnnxFolderMeta(dir: string): ModelMeta {
  const jsonFile = path.join(dir, 'dentseg.json');
  let text: string | undefined;
  try {
    text = readFileSync(jsonFile, 'utf8');
  } catch {
    text = onnxMetadata(readFileSync(path.join(dir, ONNX_FILE)))['dentseg.json'];
  }
  if (text === undefined)
    throw new DentsegError('E_MODEL_INVALID', 'no dentseg.json beside model.onnx nor inside it', {
      file: dir,
    });
  return parseModelMetaText(text, jsonFile);
}

/** The `metadata_props` key holding the SHA-256 of the `weights.bin` an ONNX file was exported from. */
export const WEIGHTS_HASH_KEY = 'weightsSha256';

/** SHA-256 (hex) of a model folder's `weights.bin`, or undefined when it has none. */
export function weightsSha256(dir: string): string | undefined {
  const file = path.join(dir, 'weights.bin');
  if (!statSync(file, { throwIfNoEntry: false })) return undefined;
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Whether a folder's `model.onnx` can stand in for its tfjs weights: `ok`; `missing` (no
 * model.onnx); `other-weights` (it records the SHA-256 of weights other than weights.bin);
 * `older` (no such record, and it is older than weights.bin); `unreadable`.
 */
export type OnnxFolderStatus = 'ok' | 'missing' | 'other-weights' | 'older' | 'unreadable';

const status = new Map<string, OnnxFolderStatus>();

/**
 * Whether a model folder can run on ONNX Runtime, and if not why: `model.onnx` must exist
 * and have been exported from the tfjs weights beside it (a folder retrained in place must
 * be re-exported; until then the tfjs engine serves it). The ONNX file records the SHA-256
 * of the weights it came from, because file times do not survive `git clone`; files without
 * that record fall back to comparing modification times. Cached per (file sizes, times).
 */
export function onnxFolderStatus(dir: string, file: string = ONNX_FILE): OnnxFolderStatus {
  const onnxFile = path.join(dir, file);
  try {
    const onnx = statSync(onnxFile, { throwIfNoEntry: false });
    if (!onnx) return 'missing';
    const weights = statSync(path.join(dir, 'weights.bin'), { throwIfNoEntry: false });
    if (!weights) return 'ok';
    const key = [dir, onnx.size, onnx.mtimeMs, weights.size, weights.mtimeMs].join(':');
    let known = status.get(key);
    if (known === undefined) {
      const recorded = onnxMetadata(readFileSync(onnxFile))[WEIGHTS_HASH_KEY];
      if (recorded) known = recorded === weightsSha256(dir) ? 'ok' : 'other-weights';
      else known = onnx.mtimeMs >= weights.mtimeMs ? 'ok' : 'older';
      status.set(key, known);
    }
    return known;
  } catch {
    return 'unreadable';
  }
}

/** Whether a model folder can run on ONNX Runtime (see {@link onnxFolderStatus}). */
export function onnxFolderAvailable(dir: string, file: string = ONNX_FILE): boolean {
  return onnxFolderStatus(dir, file) === 'ok';
}

/**
 * Why a folder cannot run on ONNX Runtime, as a sentence and the command that fixes it, or
 * undefined when it can.
 */
export function onnxUnavailableReason(
  dir: string,
  file: string = ONNX_FILE,
): { message: string; hint: string } | undefined {
  const command =
    file === INT8_ONNX_FILE
      ? `dentseg export --model ${dir} --int8 --calibration IMAGES_DIR`
      : `dentseg export --model ${dir}`;
  const fix = (verb: string): string => `run \`${command}\` to ${verb} it from weights.bin`;
  switch (onnxFolderStatus(dir, file)) {
    case 'ok':
      return undefined;
    case 'missing':
      return { message: `the model folder has no ${file}`, hint: fix('write') };
    case 'other-weights':
      return {
        message: `${file} does not match weights.bin: it was exported from other weights (the model was trained again or its weights replaced since)`,
        hint: fix('re-export'),
      };
    case 'older':
      return {
        message: `${file} is older than weights.bin (the model was trained again after it was exported)`,
        hint: fix('re-export'),
      };
    case 'unreadable':
      return { message: `${file} cannot be read`, hint: fix('re-export') };
  }
}

/** A model folder's `model.onnx` as an engine, with its `dentseg.json`. */
export async function loadOnnxFolder(
  dir: string,
  opts: OnnxEngineOptions = {},
  file: string = ONNX_FILE,
): Promise<{ engine: InferenceEngine; meta: ModelMeta }> {
  const meta = readOnnxFolderMeta(dir);
  return { engine: await onnxEngine(path.join(dir, file), opts), meta };
}
