/**
 * Model folder → `model.onnx`: what `dentseg export` and the trainer's hook call. The ONNX
 * file carries the folder's `dentseg.json` (pre-processing, class names) in its
 * `metadata_props`, so it is self-describing when it travels alone (e.g. to the browser).
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DentsegError } from '../errors.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import { initEngine, tf } from '../engine/index.js';
import { loadModelFolder } from '../model/folder.node.js';
import type { ModelMeta } from '../model/index.js';
import {
  ONNX_FILE,
  onnxEngine,
  onnxFolderAvailable,
  WEIGHTS_HASH_KEY,
  weightsSha256,
} from '../infer/onnx-engine.node.js';
import { layersModelToOnnx, ONNX_OPSET } from './export.js';

/** The `metadata_props` dentseg writes: the whole dentseg.json plus its key facts. */
function metadataOf(meta: ModelMeta, modelDir: string): Record<string, string> {
  const hash = weightsSha256(modelDir);
  return {
    ...(hash ? { [WEIGHTS_HASH_KEY]: hash } : {}),
    'dentseg.json': JSON.stringify(meta),
    task: meta.task,
    classes: JSON.stringify(meta.classes),
    preprocess: JSON.stringify(meta.preprocess),
  };
}

/** What {@link exportOnnx} wrote. */
export interface OnnxExportResult {
  /** Absolute path of the ONNX file. */
  readonly file: string;
  /** File size in bytes. */
  readonly bytes: number;
  readonly opset: number;
  readonly dynamicSize: boolean;
}

/**
 * Export the model folder `modelDir` (model.json + weights + dentseg.json) to ONNX at
 * `outFile` (default `modelDir/model.onnx`), written atomically (temp file + rename).
 * `outFile`'s folder is created if needed. Throws E_EXPORT_UNSUPPORTED naming a layer
 * without an ONNX equivalent, E_MODEL_INVALID for a folder that does not load, E_IO when
 * the file cannot be written.
 */
export async function exportOnnx(
  modelDir: string,
  outFile?: string,
  options: { dynamicSize?: boolean } = {},
): Promise<OnnxExportResult> {
  await initEngine();
  const { model, meta } = await loadModelFolder(modelDir);
  let bytes: Uint8Array;
  try {
    bytes = layersModelToOnnx(model, {
      dynamicSize: options.dynamicSize,
      graphName: meta.name,
      metadata: metadataOf(meta, modelDir),
    });
  } finally {
    model.dispose();
  }
  const file = path.resolve(outFile ?? path.join(modelDir, ONNX_FILE));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // like every other output flag: the folder is created when it does not exist yet
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined); // fails too where mkdir did
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new DentsegError('E_IO', `cannot write the ONNX file (${code})`, {
      file,
      hint: 'pick another --onnx path, or check the folder permissions and free space',
      cause: err,
    });
  }
  return {
    file,
    bytes: bytes.byteLength,
    opset: ONNX_OPSET,
    dynamicSize: options.dynamicSize ?? false,
  };
}

/** What {@link verifyOnnx} measured. */
export interface OnnxVerifyResult {
  readonly batch: number;
  readonly size: readonly [number, number];
  readonly maxAbsDiff: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

/** A plausible value range of pre-processed input for each normalisation mode. */
const INPUT_RANGE: Readonly<Record<string, [number, number]>> = {
  unit: [0, 1],
  caffe: [-124, 152],
  imagenet: [-2.2, 2.7],
  zscore: [-3, 3],
};

/**
 * Run the ONNX file (ONNX Runtime for Node) and the folder's tfjs model on the same random
 * batch at the model's input size and compare the probabilities.
 */
export async function verifyOnnx(
  modelDir: string,
  onnxFile = path.join(modelDir, ONNX_FILE),
  options: { batch?: number; tolerance?: number; seed?: number } = {},
): Promise<OnnxVerifyResult> {
  const batch = options.batch ?? 2;
  const tolerance = options.tolerance ?? 1e-4;
  await initEngine();
  const { model, meta } = await loadModelFolder(modelDir);
  const [h, w] = meta.input.size;
  const c = meta.input.channels;
  const [lo, hi] = INPUT_RANGE[meta.preprocess.normalise] ?? [-1, 1];
  const engine = await onnxEngine(onnxFile);
  try {
    const x = tf.tidy(
      () =>
        tf
          .randomUniform([batch, h, w, c], lo, hi, 'float32', options.seed ?? 1)
          .dataSync() as Float32Array,
    );
    // The reference is the layers model itself, run here: the exporter needs no inference engine.
    const y = tf.tidy(() => model.predict(tf.tensor4d(x, [batch, h, w, c])) as Tensor);
    const want = (await y.data()) as Float32Array;
    y.dispose();
    const got = await engine.run(x, batch, h, w, c);
    let maxAbsDiff = got.length === want.length ? 0 : Infinity;
    for (let i = 0; i < got.length && i < want.length; i++)
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs((got[i] ?? 0) - (want[i] ?? 0)));
    return { batch, size: [h, w], maxAbsDiff, tolerance, ok: maxAbsDiff <= tolerance };
  } finally {
    engine.dispose();
    model.dispose();
  }
}

const exported = new Map<string, { key: string; bytes: Uint8Array }>();

/**
 * The ONNX bytes of a model folder for a client that runs the model itself (the page's
 * private mode): `model.onnx` when it is up to date, otherwise an in-memory export of the
 * tfjs model (done once per weights version, then cached). `etag` changes with the weights.
 */
export async function onnxBytesForFolder(
  modelDir: string,
): Promise<{ bytes: Uint8Array; etag: string; source: 'file' | 'exported' }> {
  const dir = path.resolve(modelDir);
  if (onnxFolderAvailable(dir)) {
    const file = path.join(dir, ONNX_FILE);
    const st = await stat(file);
    return {
      bytes: await readFile(file),
      etag: `"onnx-${st.size.toString(36)}-${Math.round(st.mtimeMs).toString(36)}"`,
      source: 'file',
    };
  }
  const weights = await stat(path.join(dir, 'weights.bin')).catch(() => undefined);
  const key = `${weights?.size ?? 0}-${Math.round(weights?.mtimeMs ?? 0).toString(36)}`;
  let hit = exported.get(dir);
  if (hit?.key !== key) {
    await initEngine();
    const { model, meta } = await loadModelFolder(dir);
    try {
      hit = {
        key,
        bytes: layersModelToOnnx(model, { graphName: meta.name, metadata: metadataOf(meta, dir) }),
      };
    } finally {
      model.dispose();
    }
    exported.set(dir, hit);
  }
  return { bytes: hit.bytes, etag: `"tfjs-${key}"`, source: 'exported' };
}
