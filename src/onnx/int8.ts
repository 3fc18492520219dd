/**
 * Model folder → `model.int8.onnx`: the float ONNX graph with batch norm folded and the
 * decoder's upsampling folded into sub-pixel convolutions (subpixel.ts), calibrated
 * on real X-rays (the model's own pre-processing) and quantised to int8 in the QDQ format
 * (quantize.ts). The calibration (folder, images, method, date, version) is recorded in the
 * file's `metadata_props` and in `dentseg.json` under `artifacts`, so a quantised file can
 * always be traced back to the images that set its ranges.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { readSplit } from '../data/dataset.js';
import { decodeImage } from '../imaging/decode.node.js';
import { preprocessImage } from '../data/preprocess.js';
import { DentsegError } from '../errors.js';
import { expandInputs } from '../infer/batch.js';
import {
  INT8_ONNX_FILE,
  ONNX_FILE,
  onnxFolderStatus,
  readOnnxFolderMeta,
  resolveThreads,
} from '../infer/onnx-engine.node.js';
import { ONNX_INPUT } from '../infer/onnx-io-names.js';
import { mulberry32 } from '../rng.js';
import { VERSION } from '../version.js';
import { exportOnnx } from './folder.js';
import { decodeModel, encodeModel } from './proto.js';
import {
  foldBatchNorm,
  planQuantisation,
  quantiseModel,
  withTensorOutputs,
  type Range,
} from './quantize.js';
import { splitDecoderConvs } from './subpixel.js';

/** How activation ranges are taken from the calibration images. */
export type CalibrationMethod = 'minmax' | 'percentile';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile'];

/** `metadata_props` key (and `dentseg.json` artifacts entry) describing the quantisation. */
export const QUANTIZATION_KEY = 'quantization';

export interface Int8ExportOptions {
  /** Folder of calibration images (any format `predict` reads). */
  readonly calibration: string;
  /** Images drawn from it (seeded), 1…10000; default 32. */
  readonly count?: number | undefined;
  /** Seed of that draw; default 1. */
  readonly seed?: number | undefined;
  /** Split CSV (as for training): only its `train` rows are drawn. */
  readonly split?: string | undefined;
  /** `percentile` (default: the better val Dice on the bundled model; the mean of each image's 0.01 %/99.99 % quantiles) or `minmax` (extremes over all images). */
  readonly method?: CalibrationMethod | undefined;
  /** Convolutions kept in float32 at the end of the network (≥ 0); default 0: on the bundled model a float head kept the same val Dice and cost ~9 % of the int8 forward time. */
  readonly floatTail?: number | undefined;
  /** ORT threads for the calibration runs. */
  readonly threads?: number | undefined;
}

/** The calibration record written into the file and `dentseg.json`. */
export interface Int8Record {
  readonly format: 'QDQ';
  readonly weights: string;
  readonly activations: string;
  readonly floatConvs: readonly string[];
  /** Convolutions split by subpixel.ts (upsampling and concatenation folded in). */
  readonly subpixelConvs: readonly string[];
  readonly calibration: {
    readonly folder: string;
    readonly split?: string;
    readonly images: number;
    readonly available: number;
    readonly seed: number;
    readonly method: CalibrationMethod;
    readonly date: string;
    readonly dentsegVersion: string;
  };
}

export interface Int8ExportResult {
  readonly file: string;
  readonly bytes: number;
  readonly floatBytes: number;
  readonly record: Int8Record;
}

const PERCENTILE = 1e-4;
const MAX_SAMPLES = 1 << 18;

/** Per-tensor statistics accumulated over calibration images. */
class RangeStats {
  min = Infinity;
  max = -Infinity;
  lowSum = 0;
  highSum = 0;
  n = 0;

  add(values: Float32Array, percentile: boolean): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    if (percentile) {
      // A strided sample is enough for a 0.01 % quantile and keeps the sort cheap.
      const stride = Math.max(1, Math.ceil(values.length / MAX_SAMPLES));
      const sample = new Float32Array(Math.ceil(values.length / stride));
      for (let i = 0, j = 0; i < values.length; i += stride) sample[j++] = values[i]!;
      sample.sort();
      const last = sample.length - 1;
      this.lowSum += sample[Math.floor(PERCENTILE * last)]!;
      this.highSum += sample[Math.ceil((1 - PERCENTILE) * last)]!;
    }
    this.n++;
  }

  range(method: CalibrationMethod): Range {
    return method === 'minmax'
      ? [this.min, this.max]
      : [this.lowSum / this.n, this.highSum / this.n];
  }
}

async function calibrationFiles(
  opts: Int8ExportOptions,
): Promise<{ files: string[]; available: number }> {
  const folder = path.resolve(opts.calibration);
  const st = await stat(folder).catch(() => undefined);
  if (!st?.isDirectory())
    throw new DentsegError(
      'E_FILE_NOT_FOUND',
      st ? '--calibration must be a folder of images' : 'no such calibration folder',
      {
        file: opts.calibration,
        hint: 'pass --calibration DIR, a folder of X-rays like those the model will see',
      },
    );
  let { files } = await expandInputs([folder]);
  if (opts.split !== undefined) {
    const split = readSplit(opts.split);
    files = files.filter((f) => split.get(path.basename(f).replace(/\.[^.]*$/, '')) === 'train');
  }
  if (files.length === 0)
    throw new DentsegError(
      'E_USAGE',
      `--calibration ${opts.calibration} holds no images${opts.split !== undefined ? ` listed as train in ${opts.split}` : ''}`,
      {
        file: opts.calibration,
        hint: 'point --calibration at a folder of X-rays (PNG, JPEG, TIFF, BMP, DICOM)',
      },
    );
  const count = opts.count ?? 32;
  const rand = mulberry32(opts.seed ?? 1);
  const shuffled = [...files];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return { files: shuffled.slice(0, count).sort(), available: files.length };
}

/** SHA-256 (hex) of bytes. */
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new DentsegError('E_IO', `cannot write ${path.basename(file)}`, {
      file,
      hint: 'check the folder permissions and free space',
      cause: err,
    });
  }
}

/**
 * Write `modelDir/model.int8.onnx`. The float source is the folder's `model.onnx` when it
 * is up to date with weights.bin, otherwise it is exported first. Throws
 * E_FILE_NOT_FOUND / E_USAGE for a missing or empty calibration folder,
 * E_EXPORT_UNSUPPORTED for tiled models (their tiles, not whole images, feed the network).
 */
export async function exportInt8(
  modelDir: string,
  opts: Int8ExportOptions,
): Promise<Int8ExportResult> {
  const dir = path.resolve(modelDir);
  const count = opts.count ?? 32;
  if (!Number.isInteger(count) || count < 1 || count > 10000)
    throw new DentsegError(
      'E_USAGE',
      `--calibration-count must be an integer in 1…10000; received ${count}`,
    );
  const floatTail = opts.floatTail ?? 0;
  if (!Number.isInteger(floatTail) || floatTail < 0)
    throw new DentsegError('E_USAGE', `--float-tail must be an integer ≥ 0; received ${floatTail}`);
  const method = opts.method ?? 'percentile';
  const { files, available } = await calibrationFiles(opts);
  const meta = readOnnxFolderMeta(dir);
  if (meta.preprocess.tiling)
    throw new DentsegError(
      'E_EXPORT_UNSUPPORTED',
      'int8 export of a tiled model (preprocess.tiling) is not supported yet',
      { file: dir, hint: 'use the float model.onnx (--engine onnx)' },
    );
  if (onnxFolderStatus(dir) !== 'ok') await exportOnnx(dir);
  const floatBytes = await readFile(path.join(dir, ONNX_FILE));
  // Split the decoder's upsample → concat → conv: ORT's uint8 Resize and QLinearConcat
  // barely use a second thread (bench/README.md, int8 section).
  const { model: folded, report } = splitDecoderConvs(foldBatchNorm(decodeModel(floatBytes)));
  const plan = planQuantisation(folded, floatTail);
  const measured = plan.tensors.filter((t) => !plan.tied.has(t));

  const ort = await import('onnxruntime-node');
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    enableMemPattern: false,
    intraOpNumThreads: resolveThreads(opts.threads),
    interOpNumThreads: 1,
  };
  const session = await ort.InferenceSession.create(
    encodeModel(withTensorOutputs(folded, measured)),
    sessionOptions,
  );
  const stats = new Map(measured.map((t) => [t, new RangeStats()]));
  try {
    for (const file of files) {
      const { data, geometry } = preprocessImage(await decodeImage(file), meta.preprocess);
      const c = meta.preprocess.channels;
      const feeds = {
        [ONNX_INPUT]: new ort.Tensor('float32', data, [1, geometry.height, geometry.width, c]),
      };
      const out = await session.run(feeds, measured);
      for (const t of measured) {
        const v = out[t]?.data;
        if (!(v instanceof Float32Array)) throw new Error(`internal: no values for ${t}`);
        stats.get(t)!.add(v, method === 'percentile');
      }
    }
  } finally {
    await session.release();
  }
  const ranges = new Map([...stats].map(([t, s]) => [t, s.range(method)] as const));
  const record: Int8Record = {
    format: 'QDQ',
    weights: 'int8, per output channel (axis 0), symmetric',
    activations: 'uint8, per tensor, asymmetric',
    floatConvs: plan.floatConvs,
    subpixelConvs: report.convs,
    calibration: {
      folder: opts.calibration,
      ...(opts.split !== undefined ? { split: opts.split } : {}),
      images: files.length,
      available,
      seed: opts.seed ?? 1,
      method,
      date: new Date().toISOString(),
      dentsegVersion: VERSION,
    },
  };
  const quantised = quantiseModel(folded, plan, ranges);
  quantised.metadata_props = [
    ...quantised.metadata_props.filter((p) => p.key !== QUANTIZATION_KEY),
    { key: QUANTIZATION_KEY, value: JSON.stringify(record) },
  ];
  const bytes = encodeModel(quantised);
  const file = path.join(dir, INT8_ONNX_FILE);
  await writeAtomic(file, bytes);
  await recordArtifact(dir, {
    file: INT8_ONNX_FILE,
    bytes: bytes.byteLength,
    sha256: sha256(bytes),
    ...record,
  });
  return { file, bytes: bytes.byteLength, floatBytes: floatBytes.byteLength, record };
}

/** Add (or replace) `artifacts[file]` in the folder's dentseg.json, keeping everything else. */
async function recordArtifact(
  dir: string,
  entry: { readonly file: string } & Record<string, unknown>,
): Promise<void> {
  const jsonFile = path.join(dir, 'dentseg.json');
  const text = await readFile(jsonFile, 'utf8').catch(() => undefined);
  if (text === undefined) return; // a folder with only model.onnx: the file's metadata is the record
  const json = JSON.parse(text) as Record<string, unknown>;
  const artifacts = (json.artifacts ?? {}) as Record<string, unknown>;
  const { file, ...rest } = entry;
  json.artifacts = { ...artifacts, [file]: rest };
  await writeAtomic(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
}
