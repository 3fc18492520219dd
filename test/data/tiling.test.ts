/**
 * Tiling: the grid covers the image, the blend weights form a partition of unity, tiles
 * of a fully-convolutional network reassemble to the whole-image pass, training tiles
 * have the asked size and lesion share, and a tiled model folder segments end to end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.js';
import {
  axisOrigins,
  axisWeights,
  sampleTileOrigin,
  slidingWindow,
  tileGrid,
  validatePreprocessConfig,
  validateTilingConfig,
  type TilingConfig,
} from '../../src/data/index.js';
import { initEngine, tf } from '../../src/engine/index.js';
import { loadModel, segment } from '../../src/infer/index.js';
import { parseModelMeta } from '../../src/model/index.js';
import { exportOnnx } from '../../src/onnx/index.js';
import { buildApp } from '../../src/serve/index.js';
import { writeTinyModel } from '../helpers/tiny-model.js';

const cfg = (o: Record<string, unknown>): TilingConfig =>
  validateTilingConfig({ tile: [32, 32], ...o });

describe('tiling config', () => {
  it('fills defaults and freezes', () => {
    const c = validateTilingConfig({ tile: [256, 256] });
    expect(c).toEqual({
      tile: [256, 256],
      overlap: 64,
      margin: 16,
      blend: 'cosine',
      lesionShare: 0.7,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ tile: [250, 256] }, 'tiling.tile'],
    [{ tile: [256] }, 'tiling.tile'],
    [{ tile: [64, 64], overlap: 64 }, 'tiling.overlap'],
    [{ tile: [64, 64], overlap: -1 }, 'tiling.overlap'],
    [{ tile: [64, 64], overlap: 16, margin: 9 }, 'tiling.margin'],
    [{ tile: [64, 64], blend: 'gauss' }, 'tiling.blend'],
    [{ tile: [64, 64], lesionShare: 1.5 }, 'tiling.lesionShare'],
    [{ tile: [64, 64], stride: 8 }, 'tiling.stride'],
  ])('refuses %j naming the key', (value, key) => {
    expect(() => validateTilingConfig(value)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG_INVALID', message: expect.stringContaining(key) }),
    );
  });

  it('lives in the pre-processing config; size must be the tile', () => {
    const p = validatePreprocessConfig({ tiling: { tile: [64, 96] } });
    expect(p.size).toEqual([64, 96]);
    expect(p.tiling?.overlap).toBe(16);
    expect(() => validatePreprocessConfig({ size: [64, 64], tiling: { tile: [64, 96] } })).toThrow(
      /"size"/,
    );
  });

  it('is checked by the model-metadata validator (input.size = tile)', () => {
    const meta = {
      format: 1,
      name: 'caries',
      version: '0.0.1',
      task: 'binary',
      classes: ['caries'],
      input: { size: [64, 64], channels: 1 },
      preprocess: { channels: 1, normalise: 'zscore', tiling: { tile: [64, 64], overlap: 16 } },
      architecture: {
        encoder: 'vgg16',
        width: 0.25,
        decoderFilters: [],
        batchNorm: true,
        dropout: 0,
      },
      postprocess: { minAreaPx: 20, lesion: 'caries' },
    };
    expect(parseModelMeta(meta, 'm/dentseg.json').preprocess.tiling?.tile).toEqual([64, 64]);
    const bad = (patch: Record<string, unknown>, key: string): void =>
      expect(() => parseModelMeta({ ...meta, ...patch }, 'm/dentseg.json')).toThrow(
        expect.objectContaining({ code: 'E_MODEL_INVALID', message: expect.stringContaining(key) }),
      );
    bad({ input: { size: [128, 128], channels: 1 } }, 'input.size');
    bad(
      { preprocess: { ...meta.preprocess, tiling: { tile: [64, 64], overlap: 99 } } },
      'tiling.overlap',
    );
    bad({ postprocess: { minAreaPx: 0 } }, 'postprocess.minAreaPx');
    bad({ postprocess: { lesion: '' } }, 'postprocess.lesion');
    bad({ postprocess: { minArea: 3 } }, 'postprocess.minArea');
  });
});

describe('tile grid and weights', () => {
  it('covers an axis with the last tile flush with the edge', () => {
    expect(axisOrigins(100, 32, 8)).toEqual([0, 24, 48, 68]);
    expect(axisOrigins(32, 32, 8)).toEqual([0]);
    expect(axisOrigins(20, 32, 8)).toEqual([0]);
    expect(tileGrid(40, 100, cfg({ overlap: 8 }))).toHaveLength(2 * 4);
  });

  it.each(['cosine', 'linear'])('%s ramps sum to 1 across a regular overlap', (blend) => {
    const c = cfg({ overlap: 16, margin: 3, blend });
    const a = axisWeights(32, c, true, false);
    const b = axisWeights(32, c, false, true);
    const stride = 32 - 16;
    for (let i = 0; i < 16; i++) expect(a[stride + i]! + b[i]!).toBeCloseTo(1, 6);
    expect(a[31]).toBe(0); // the margin
    expect(a[0]).toBe(1); // an edge on the image border keeps full weight
  });

  it('round trip: a constant input comes back constant, whatever the tiles', async () => {
    for (const [h, w] of [
      [70, 111],
      [20, 50],
      [32, 32],
    ] as const) {
      const c = cfg({ overlap: 12, margin: 2 });
      const data = new Float32Array(h * w).fill(0.37);
      // Identity "network": each tile's output is its input.
      const out = await slidingWindow(data, h, w, 1, c, async (b) => b.slice());
      expect(out).toHaveLength(h * w);
      for (const v of out) expect(v).toBeCloseTo(0.37, 6);
    }
  });

  it('an identity network reassembles any image exactly (weights normalised, two channels out)', async () => {
    const [h, w] = [77, 130];
    const data = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i * 0.37));
    const out = await slidingWindow(
      data,
      h,
      w,
      1,
      cfg({ overlap: 16, margin: 4, blend: 'linear' }),
      async (b) =>
        Float32Array.from({ length: b.length * 2 }, (_, i) => b[i >> 1]! * (i & 1 ? 2 : 1)),
      3,
    );
    for (let i = 0; i < h * w; i++) {
      expect(out[2 * i]).toBeCloseTo(data[i]!, 5);
      expect(out[2 * i + 1]).toBeCloseTo(2 * data[i]!, 5);
    }
  });
});

describe('sliding window on a fully-convolutional network', () => {
  let net: tf.Sequential;
  beforeAll(async () => {
    await initEngine();
    // Two 3×3 convolutions: receptive field 5×5, so a tile's outer 2 px see its padding.
    net = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [null, null, 3],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.randomNormal({ seed: 1 }),
          biasInitializer: 'ones',
        }),
        tf.layers.conv2d({
          filters: 1,
          kernelSize: 3,
          padding: 'same',
          activation: 'sigmoid',
          kernelInitializer: tf.initializers.randomNormal({ seed: 2 }),
        }),
      ],
    });
  });
  afterAll(() => net.dispose());

  const run = async (x: Float32Array, n: number, h: number, w: number): Promise<Float32Array> => {
    const t = tf.tensor4d(x, [n, h, w, 3]);
    const y = net.predict(t) as tf.Tensor;
    const out = (await y.data()) as Float32Array;
    t.dispose();
    y.dispose();
    return out;
  };

  it('tiles reassemble to the whole-image probabilities (margin ≥ receptive radius)', async () => {
    const [h, w] = [75, 140];
    const rng = Rng.seeded(5);
    const data = Float32Array.from({ length: h * w * 3 }, () => rng.normal());
    const whole = await run(data, 1, h, w);
    const tiled = await slidingWindow(data, h, w, 3, cfg({ overlap: 12, margin: 2 }), run, 2);
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(whole[i]! - tiled[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // Without a margin, tile edges inside the image carry their padding artefacts.
    const naive = await slidingWindow(data, h, w, 3, cfg({ overlap: 12, margin: 0 }), run, 2);
    let naiveDiff = 0;
    for (let i = 0; i < whole.length; i++)
      naiveDiff = Math.max(naiveDiff, Math.abs(whole[i]! - naive[i]!));
    expect(naiveDiff).toBeGreaterThan(1e-4);
  });
});

describe('training tiles', () => {
  it('centre on lesion pixels at the requested share, otherwise anywhere', () => {
    const [w, h] = [300, 200];
    const mask = new Uint8Array(w * h);
    // two small lesions
    for (let y = 50; y < 55; y++) for (let x = 40; x < 46; x++) mask[y * w + x] = 1;
    for (let y = 150; y < 153; y++) for (let x = 250; x < 254; x++) mask[y * w + x] = 1;
    const rng = Rng.seeded(9);
    let withLesion = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const o = sampleTileOrigin(mask, w, h, [64, 64], 0.7, () => rng.next());
      expect(o.x).toBeGreaterThanOrEqual(0);
      expect(o.x).toBeLessThanOrEqual(w - 64);
      expect(o.y).toBeLessThanOrEqual(h - 64);
      let any = false;
      for (let y = o.y; y < o.y + 64 && !any; y++)
        for (let x = o.x; x < o.x + 64; x++) if (mask[y * w + x]) any = true;
      if (any) withLesion++;
      if (o.lesion) expect(any).toBe(true);
    }
    // 0.7 centred + a few random tiles that happen to cover a lesion
    expect(withLesion / n).toBeGreaterThan(0.68);
    expect(withLesion / n).toBeLessThan(0.8);
    // seeded: the same stream gives the same tiles
    const a = Rng.seeded(3);
    const b = Rng.seeded(3);
    expect(sampleTileOrigin(mask, w, h, [64, 64], 0.7, () => a.next())).toEqual(
      sampleTileOrigin(mask, w, h, [64, 64], 0.7, () => b.next()),
    );
  });
});

describe('a tiled model folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-tiled-'));
    await writeTinyModel(dir, {
      size: 64,
      preprocess: { normalise: 'zscore', tiling: validateTilingConfig({ tile: [64, 64] }) },
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('segments at native resolution by sliding window (no squeeze to the model size)', async () => {
    const model = await loadModel(dir, { engine: 'tfjs' });
    try {
      const [w, h] = [150, 90];
      const grey = {
        width: w,
        height: h,
        bitDepth: 8 as const,
        data: Uint8Array.from({ length: w * h }, (_, i) => (i * 7) % 251),
      };
      const seen: number[][] = [];
      const spy = {
        ...model,
        engine: {
          ...model.engine,
          name: model.engine.name,
          run: (x: Float32Array, n: number, th: number, tw: number, c: number) => {
            seen.push([n, th, tw]);
            return model.engine.run(x, n, th, tw, c);
          },
          dispose: () => model.engine.dispose(),
        },
      };
      const r = await segment(spy, grey, { findings: false });
      // 2 rows × 3 columns of 64² tiles (origins y 0, 26; x 0, 48, 86), in batches of 4
      expect(seen).toEqual([
        [4, 64, 64],
        [2, 64, 64],
      ]);
      expect([r.width, r.height]).toEqual([w, h]);
      expect(r.probabilities).toHaveLength(w * h);
      for (const p of r.probabilities) expect(p >= 0 && p <= 1).toBe(true);
      const tta = await segment(model, grey, { findings: false, tta: true });
      expect(tta.probabilities).toHaveLength(w * h);
      // ONNX twin: same tiles through onnxruntime-node, same probabilities
      await exportOnnx(dir);
      const onnx = await loadModel(dir, { engine: 'onnx' });
      try {
        const o = await segment(onnx, grey, { findings: false });
        let maxDiff = 0;
        for (let i = 0; i < w * h; i++)
          maxDiff = Math.max(maxDiff, Math.abs(o.probabilities[i]! - r.probabilities[i]!));
        expect(maxDiff).toBeLessThan(1e-4);
      } finally {
        onnx.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('serve replays the tiling: the stored probability map is at the upload size', async () => {
    const model = await loadModel(dir, { engine: 'tfjs' });
    const tiles: number[] = [];
    const spy = {
      ...model,
      engine: {
        name: model.engine.name,
        run: (x: Float32Array, n: number, th: number, tw: number, c: number) => {
          tiles.push(n * (th === 64 && tw === 64 ? 1 : 1000));
          return model.engine.run(x, n, th, tw, c);
        },
        dispose: () => model.engine.dispose(),
      },
    };
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-tiled-serve-'));
    const app = await buildApp({ model: spy, dataDir, webDir: false });
    try {
      const png = await sharp(Buffer.alloc(150 * 90, 100), {
        raw: { width: 150, height: 90, channels: 1 },
      })
        .png()
        .toBuffer();
      const boundary = '----dentsegtiled';
      const payload = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        png,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        payload,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      expect(res.statusCode).toBe(201);
      expect(tiles.reduce((a, b) => a + b, 0)).toBe(6); // six 64² tiles, as predict cuts them
      const { links } = res.json<{ links: { probability: string } }>();
      const prob = await app.inject({ method: 'GET', url: links.probability });
      expect(prob.statusCode).toBe(200);
      const m = await sharp(prob.rawPayload).metadata();
      expect([m.width, m.height]).toEqual([150, 90]);
    } finally {
      await app.close();
      model.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
