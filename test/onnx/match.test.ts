/**
 * ONNX Runtime (Node) against tfjs on the same tiny random-weight U-Nets — binary 64² and
 * multi-class 64×96 — fed real panoramics (samples/ at full size and ufba425 val images)
 * pre-processed the dentseg way: probabilities must agree within 1e-4.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, preprocessImage, type PreprocessConfig } from '../../src/data/index.node.js';
import { initEngine, tf } from '../../src/engine/index.js';
import { buildUnet } from '../../src/model/index.js';
import {
  DEFAULT_MODEL_DIR,
  onnxEngine,
  onnxFolderAvailable,
  onnxMetadata,
  readOnnxFolderMeta,
} from '../../src/infer/index.js';
import { exportOnnx, verifyOnnx } from '../../src/onnx/index.js';
import { HAS_SHARED_DATA, SAMPLES, UFBA } from '../helpers/paths.js';
import { maxAbsDiff } from './helpers.js';
import { tinyModelFolder, type TinyModel } from './tiny.js';

const TOLERANCE = 1e-4;

function realImagePaths(): string[] {
  const samples = ['abdi-1', 'abdi-5', 'abdi-20', 'abdi-40', 'abdi-60', 'abdi-80'].map((s) =>
    path.join(SAMPLES, 'images', `${s}.png`),
  );
  const val = readFileSync(path.join(UFBA, 'split.csv'), 'utf8')
    .split('\n')
    .map((l) => l.split(','))
    .filter((r) => r[2]?.trim() === 'val')
    .slice(0, 4)
    .map((r) => path.join(UFBA, 'images', `${r[0]}.jpg`));
  return [...samples, ...val];
}

async function batchOf(files: string[], cfg: PreprocessConfig): Promise<Float32Array> {
  const [h, w] = cfg.size;
  const out = new Float32Array(files.length * h * w * cfg.channels);
  for (const [i, f] of files.entries()) {
    out.set(preprocessImage(await decodeImage(f), cfg).data, i * h * w * cfg.channels);
  }
  return out;
}

function tfjsForward(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(
    () => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array,
  );
}

describe.skipIf(!HAS_SHARED_DATA)('ONNX Runtime matches tfjs on real X-rays', () => {
  const made: TinyModel[] = [];
  beforeAll(async () => {
    const info = await initEngine();
    console.log(`tfjs reference on backend ${info.backend}`);
  });
  afterAll(() => {
    for (const m of made) {
      m.model.dispose();
      rmSync(m.dir, { recursive: true, force: true });
    }
  });

  for (const [label, size, classes, encoderBatchNorm] of [
    ['binary 64²', [64, 64], 1, false],
    ['multi-class (5) 64×96', [64, 96], 5, false],
    ['binary 64², batch-norm encoder (vgg16_bn)', [64, 64], 1, true],
  ] as const) {
    it(`${label}: max |ORT − tfjs| ≤ ${TOLERANCE}`, async () => {
      const tiny = await tinyModelFolder([size[0], size[1]], classes, { encoderBatchNorm });
      made.push(tiny);
      const result = await exportOnnx(tiny.dir);
      expect(result.file).toBe(path.join(tiny.dir, 'model.onnx'));
      // The ONNX file describes itself: dentseg.json, classes and pre-processing.
      const meta = onnxMetadata(readFileSync(result.file));
      expect(JSON.parse(meta['dentseg.json'] ?? '{}')).toEqual(tiny.meta);
      expect(JSON.parse(meta.classes ?? '[]')).toEqual(tiny.meta.classes);
      expect(readOnnxFolderMeta(tiny.dir)).toEqual(tiny.meta);

      const files = realImagePaths();
      const x = await batchOf(files, tiny.preprocess);
      const [h, w] = size;
      const engine = await onnxEngine(result.file, { threads: 2 });
      try {
        const got = await engine.run(x, files.length, h, w, 3);
        const want = tfjsForward(tiny.model, x, [files.length, h, w, 3]);
        expect(got.length).toBe(files.length * h * w * classes);
        const diff = maxAbsDiff(got, want);
        console.log(
          `${label}: ${files.length} images, max |ORT − tfjs| = ${diff.toExponential(2)}`,
        );
        expect(diff).toBeLessThanOrEqual(TOLERANCE);
        // Not a degenerate comparison: the probabilities vary.
        expect(
          want.reduce((a, v) => Math.max(a, v), 0) - want.reduce((a, v) => Math.min(a, v), 1),
        ).toBeGreaterThan(1e-3);
      } finally {
        engine.dispose();
      }
    });
  }

  it('a dynamic-size export runs at another (non-square) size like tfjs does', async () => {
    const tiny = made[0] ?? (await tinyModelFolder([64, 64], 1));
    const out = path.join(tiny.dir, 'dynamic.onnx');
    await exportOnnx(tiny.dir, out, { dynamicSize: true });
    const other = buildUnet({ inputSize: [96, 64], channels: 3, classes: 1, width: 1 / 16 });
    other.setWeights(tiny.model.getWeights());
    const cfg: PreprocessConfig = { ...tiny.preprocess, size: [96, 64] };
    const files = realImagePaths().slice(0, 3);
    const x = await batchOf(files, cfg);
    const engine = await onnxEngine(out, { threads: 1 });
    try {
      const got = await engine.run(x, files.length, 96, 64, 3);
      const want = tfjsForward(other, x, [files.length, 96, 64, 3]);
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(TOLERANCE);
      // The same file still runs at the size it was trained at.
      const x64 = await batchOf(files, tiny.preprocess);
      const got64 = await engine.run(x64, files.length, 64, 64, 3);
      const want64 = tfjsForward(tiny.model, x64, [files.length, 64, 64, 3]);
      expect(maxAbsDiff(got64, want64)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      engine.dispose();
      other.dispose();
    }
  });
});

// Without model.onnx the bundled model still works (tfjs engine; the page exports on the
// fly), so only a shipped model.onnx is checked: it must be current and agree with tfjs.
const BUNDLED_ONNX = existsSync(path.join(DEFAULT_MODEL_DIR, 'model.onnx'));

describe.skipIf(!BUNDLED_ONNX)('the bundled default model ONNX twin', () => {
  it('models/teeth-binary/model.onnx is up to date and matches tfjs', async () => {
    expect(
      onnxFolderAvailable(DEFAULT_MODEL_DIR),
      'model.onnx was not exported from this weights.bin: run `npx dentseg export --model models/teeth-binary`',
    ).toBe(true);
    const v = await verifyOnnx(DEFAULT_MODEL_DIR);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
  });
});
