/**
 * int8 ONNX: `dentseg export --int8` writes a QDQ graph with per-channel int8 weights and
 * calibrated uint8 activations, records the calibration, `--engine onnx-int8` runs it (or
 * says how to make it), and the bundled model's int8 file keeps its Dice on real X-rays.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../src/data/index.node.js';
import { initEngine } from '../../src/engine/index.js';
import { isDentsegError } from '../../src/errors.js';
import { evaluateModel } from '../../src/evaluate/index.js';
import { DEFAULT_MODEL_DIR, loadModel } from '../../src/infer/index.js';
import { INT8_ONNX_FILE } from '../../src/infer/onnx-engine.node.js';
import { exportInt8 } from '../../src/onnx/int8.js';
import { onnxEngine, onnxMetadata } from '../../src/infer/index.js';
import { decodeModel, exportOnnx, layersModelToOnnx } from '../../src/onnx/index.js';
import { DataType, encodeModel, type OnnxModel, type OnnxTensor } from '../../src/onnx/proto.js';
import { activationQuant, foldBatchNorm, quantiseWeights } from '../../src/onnx/quantize.js';
import { HAS_SHARED_DATA, REPO_ROOT, runCliSync, UFBA } from '../helpers/paths.js';
import { maxAbsDiff } from './helpers.js';
import { tinyModelFolder, type TinyModel } from './tiny.js';

/** A few grey PNGs with structure (gradients and bright blobs), like X-rays at a glance. */
async function calibrationFolder(dir: string, n: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let k = 0; k < n; k++) {
    const w = 96;
    const h = 72;
    const px = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        px[y * w + x] = Math.min(
          255,
          ((x * 2 + y + k * 40) % 200) + (Math.hypot(x - 48, y - 36) < 15 ? 55 : 0),
        );
    await sharp(px, { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(path.join(dir, `cal-${k}.png`));
  }
}

const initializers = (m: OnnxModel): Map<string, OnnxTensor> =>
  new Map(m.graph.initializer.map((t) => [t.name, t]));

function int8Values(t: OnnxTensor): Int8Array {
  const raw = new Uint8Array(t.raw_data ?? new Uint8Array());
  return new Int8Array(raw.buffer);
}

describe('int8 export and engine (tiny model)', () => {
  let tiny: TinyModel;
  let cal: string;
  beforeAll(async () => {
    await initEngine();
    tiny = await tinyModelFolder([64, 64], 1);
    cal = path.join(tiny.dir, 'calibration');
    await calibrationFolder(cal, 3);
    await exportOnnx(tiny.dir);
  });
  afterAll(() => {
    tiny.model.dispose();
    rmSync(tiny.dir, { recursive: true, force: true });
  });

  it('--engine onnx-int8 without the file names it and the command that writes it', async () => {
    const err = await loadModel(tiny.dir, { engine: 'onnx-int8' }).catch((e: unknown) => e);
    expect(isDentsegError(err) && err.code).toBe('E_MODEL_INVALID');
    expect(err).toMatchObject({
      message: expect.stringContaining(`no ${INT8_ONNX_FILE}`),
      hint: expect.stringContaining(`dentseg export --model ${tiny.dir} --int8 --calibration`),
    });
  });

  it('refuses a missing or empty calibration folder', async () => {
    const missing = await exportInt8(tiny.dir, { calibration: path.join(tiny.dir, 'nope') }).catch(
      (e: unknown) => e,
    );
    expect(isDentsegError(missing) && missing.code).toBe('E_FILE_NOT_FOUND');
    const empty = path.join(tiny.dir, 'empty');
    mkdirSync(empty);
    const none = await exportInt8(tiny.dir, { calibration: empty }).catch((e: unknown) => e);
    expect(isDentsegError(none) && none.code).toBe('E_USAGE');
    expect(String((none as Error).message)).toContain('holds no images');
  });

  it('draws only the rows a split CSV marks train', async () => {
    const split = path.join(tiny.dir, 'split.csv');
    writeFileSync(split, 'stem,split\ncal-0,val\ncal-1,train\ncal-2,test\n');
    const r = await exportInt8(tiny.dir, { calibration: cal, split });
    expect(r.record.calibration).toMatchObject({ images: 1, available: 1, split });
    writeFileSync(split, 'stem,split\ncal-0,val\n');
    const none = await exportInt8(tiny.dir, { calibration: cal, split }).catch((e: unknown) => e);
    expect(isDentsegError(none) && none.code).toBe('E_USAGE');
    expect(String((none as Error).message)).toContain('listed as train');
  });

  it('dentseg export --int8 needs --calibration and a valid count', () => {
    const bare = runCliSync(['export', '--model', tiny.dir, '--int8']);
    expect(bare.status).toBe(64);
    expect(bare.stderr).toContain('--int8 needs --calibration DIR');
    const zero = runCliSync([
      'export',
      '--model',
      tiny.dir,
      '--int8',
      '--calibration',
      cal,
      '--calibration-count',
      '0',
    ]);
    expect(zero.status).toBe(64);
    expect(zero.stderr).toContain('for --calibration-count but received "0"');
  });

  it('dentseg export --int8 writes a QDQ graph with per-channel int8 weights', async () => {
    const r = runCliSync([
      'export',
      '--model',
      tiny.dir,
      '--int8',
      '--calibration',
      cal,
      '--calibration-count',
      '2',
      '--float-tail',
      '1',
    ]);
    expect(r.stderr + r.stdout).toContain(INT8_ONNX_FILE);
    expect(r.status).toBe(0);
    const bytes = readFileSync(path.join(tiny.dir, INT8_ONNX_FILE));
    const m = decodeModel(bytes);
    const ops = m.graph.node.map((n) => n.op_type);
    // batch norm is folded into the convolutions before their weights are quantised
    expect(ops).not.toContain('BatchNormalization');
    expect(ops).toContain('QuantizeLinear');
    const inits = initializers(m);
    const producers = new Map(m.graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const convs = m.graph.node.filter((n) => n.op_type === 'Conv');
    const quantised = convs.filter(
      (n) => producers.get(n.input[1] ?? '')?.op_type === 'DequantizeLinear',
    );
    // every convolution but the head (kept in float32 by --float-tail 1) reads int8 weights
    expect(quantised.length).toBe(convs.length - 1);
    expect(inits.get(convs.at(-1)!.input[1] ?? '')?.data_type).toBe(DataType.FLOAT);
    for (const conv of quantised) {
      const x = producers.get(conv.input[0] ?? '');
      expect(x?.op_type).toBe('DequantizeLinear');
      const dq = producers.get(conv.input[1] ?? '')!;
      // axis 0: one scale per output channel (the decoder drops i = 0, proto2's default)
      const axis = dq.attribute.find((t) => t.name === 'axis');
      expect(axis?.type).toBe(2);
      expect(axis?.i ?? 0).toBe(0);
      const [wq, scales, zps] = dq.input.map((n) => inits.get(n)!);
      expect(wq!.data_type).toBe(DataType.INT8);
      const cout = wq!.dims[0]!;
      expect(scales!.dims).toEqual([cout]);
      expect(zps!.data_type).toBe(DataType.INT8);
      expect([...int8Values(zps!)].every((z) => z === 0)).toBe(true);
      // symmetric per channel: each output channel's largest |q| is 127
      const q = int8Values(wq!);
      const per = q.length / cout;
      for (let c = 0; c < cout; c++) {
        let max = 0;
        for (let j = 0; j < per; j++) max = Math.max(max, Math.abs(q[c * per + j]!));
        expect(max).toBe(127);
      }
      // a split convolution's bias sits on its first part; the other parts have none
      if (!conv.name.includes('/part') || conv.input[2]) {
        const bias = producers.get(conv.input[2] ?? '');
        expect(inits.get(bias?.input[0] ?? '')?.data_type).toBe(DataType.INT32);
      }
    }
    // the decoder's upsample → concat → conv stages are split (subpixel.ts); the interleave's
    // Transposes run in uint8 (read through a DQ), the graph's input and output ones in float
    const transposes = m.graph.node.filter((n) => n.op_type === 'Transpose');
    expect(transposes.length).toBeGreaterThan(2);
    expect(producers.get(transposes[0]!.input[0] ?? '')).toBeUndefined();
    for (const t of transposes.slice(1, -1))
      expect(producers.get(t.input[0] ?? '')?.op_type).toBe('DequantizeLinear');
    expect(producers.get(transposes.at(-1)!.input[0] ?? '')?.op_type).not.toBe('DequantizeLinear');
    const record = JSON.parse(onnxMetadata(bytes).quantization ?? '{}') as Record<string, unknown>;
    expect(record.subpixelConvs).not.toHaveLength(0);
    expect(record).toMatchObject({
      format: 'QDQ',
      calibration: { folder: cal, images: 2, available: 3, method: 'percentile', seed: 1 },
    });
    const json = JSON.parse(readFileSync(path.join(tiny.dir, 'dentseg.json'), 'utf8')) as {
      artifacts?: Record<string, { bytes: number; calibration: { images: number } }>;
    };
    expect(json.artifacts?.[INT8_ONNX_FILE]).toMatchObject({
      bytes: bytes.byteLength,
      calibration: { images: 2 },
    });

    // It runs, and stays close to the float model on an image like the calibration ones.
    const int8 = await loadModel(tiny.dir, { engine: 'onnx-int8' });
    const fp32 = await loadModel(tiny.dir, { engine: 'onnx' });
    try {
      expect(int8.engine.name).toBe('onnx-int8');
      const x = new Float32Array(64 * 64 * 3).map((_, i) => ((i * 7) % 200) / 255);
      const a = await int8.engine.run(x, 1, 64, 64, 3);
      const b = await fp32.engine.run(x, 1, 64, 64, 3);
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      expect(sum / a.length).toBeLessThan(0.05);
    } finally {
      int8.dispose();
      fp32.dispose();
    }
  });
});

describe('quantisation steps', () => {
  it('uint8 activation parameters cover the range and 0 exactly', () => {
    expect(activationQuant([0, 2.55])).toEqual({ scale: expect.closeTo(0.01, 9), zeroPoint: 0 });
    expect(activationQuant([-1, 1]).zeroPoint).toBe(128);
    // ranges that miss 0 are widened to include it
    expect(activationQuant([0.5, 2.55]).zeroPoint).toBe(0);
    expect(activationQuant([-2.55, -1])).toEqual({
      scale: expect.closeTo(0.01, 9),
      zeroPoint: 255,
    });
  });

  it('per-channel symmetric weights: the largest |w| of each channel maps to 127', () => {
    const { q, scales } = quantiseWeights(Float32Array.of(0.3, -1, 0.25, 0, 0.02, -0.011), 2);
    expect([...scales]).toEqual([expect.closeTo(1 / 127, 9), expect.closeTo(0.02 / 127, 9)]);
    expect([...q]).toEqual([38, -127, 32, 0, 127, -70]);
  });

  it('folding batch norm into the convolutions leaves the float outputs unchanged', async () => {
    await initEngine();
    const tiny = await tinyModelFolder([64, 64], 1);
    try {
      const original = layersModelToOnnx(tiny.model);
      const folded = foldBatchNorm(decodeModel(original));
      expect(folded.graph.node.map((n) => n.op_type)).not.toContain('BatchNormalization');
      const a = await onnxEngine(original);
      const b = await onnxEngine(encodeModel(folded));
      const x = new Float32Array(64 * 64 * 3).map((_, i) => Math.sin(i * 0.01));
      const ya = await a.run(x, 1, 64, 64, 3);
      const yb = await b.run(x, 1, 64, 64, 3);
      a.dispose();
      b.dispose();
      expect(maxAbsDiff(ya, yb)).toBeLessThan(1e-4);
    } finally {
      tiny.model.dispose();
      rmSync(tiny.dir, { recursive: true, force: true });
    }
  });
});

const BUNDLED_INT8 = path.join(DEFAULT_MODEL_DIR, INT8_ONNX_FILE);

describe.skipIf(!HAS_SHARED_DATA || !existsSync(BUNDLED_INT8))('bundled model int8', () => {
  it('loses at most 0.01 pooled Dice on 4 ufba425 val images', async () => {
    const ds = await openDataset({
      images: path.join(UFBA, 'images'),
      masks: path.join(UFBA, 'masks'),
      split: path.join(UFBA, 'split.csv'),
    });
    const four = { ...ds, val: ds.val.slice(0, 4) };
    const dice = async (engine: 'onnx' | 'onnx-int8'): Promise<number> => {
      const model = await loadModel(undefined, { engine });
      try {
        return (await evaluateModel(model, four, { subset: 'val' })).report.pooled.dice;
      } finally {
        model.dispose();
      }
    };
    const fp32 = await dice('onnx');
    const int8 = await dice('onnx-int8');
    expect(fp32).toBeGreaterThan(0.85);
    expect(fp32 - int8).toBeLessThanOrEqual(0.01);
  }, 120_000);
});

const FDI_DIR = path.join(REPO_ROOT, 'models/teeth-fdi');

describe.skipIf(!HAS_SHARED_DATA || !existsSync(path.join(FDI_DIR, INT8_ONNX_FILE)))(
  'numbering model int8',
  () => {
    it('loses at most 0.01 union Dice and mean tooth Dice on 4 ufba425 val images', async () => {
      const ds = await openDataset({
        images: path.join(UFBA, 'images'),
        masks: path.join(UFBA, 'masks_fdi'),
        split: path.join(UFBA, 'split.csv'),
        classes: path.join(UFBA, 'classes_fdi.json'),
        multiclass: true,
      });
      const four = { ...ds, val: ds.val.slice(0, 4) };
      const scores = async (engine: 'onnx' | 'onnx-int8') => {
        const model = await loadModel(FDI_DIR, { engine });
        try {
          const { report } = await evaluateModel(model, four, { subset: 'val' });
          return { union: report.union!.dice, tooth: report.teeth!.meanToothDice };
        } finally {
          model.dispose();
        }
      };
      const fp32 = await scores('onnx');
      const int8 = await scores('onnx-int8');
      expect(fp32.union).toBeGreaterThan(0.8);
      expect(fp32.union - int8.union).toBeLessThanOrEqual(0.01);
      expect(fp32.tooth - int8.tooth).toBeLessThanOrEqual(0.01);
    }, 180_000);
  },
);
