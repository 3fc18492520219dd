/**
 * Tile training on a tiny crafted data set (480×360 X-rays with 5×5 "lesions"): the loader
 * cuts tiles of the asked size at native resolution, the asked share of them holds a
 * lesion, the flags become a tiling in the run's dentseg.json, and the trained folder
 * segments a whole image by sliding window; with `--tile-width` the tiles come from the
 * image resized to that width, and the width is recorded with the model.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainConfigFromCli } from '../../src/cli/train.js';
import { trainConfigFromFile } from '../../src/cli/train-config.js';
import {
  createLoader,
  extractTile,
  loadSample,
  openDataset,
  prepareSample,
  preprocessImage,
  validatePreprocessConfig,
  type SampleRef,
} from '../../src/data/index.node.js';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, segment } from '../../src/infer/index.js';
import { preprocessFor, runTraining, type TrainConfig } from '../../src/train/session.js';
import { tempDir } from '../infer/helpers.js';

const W = 480;
const H = 360;

/** One epoch of a tiny tiled model (32² tiles, width 1/16) on the fixture in `dir`. */
function tinyTiledRun(dir: string, out: string, extra: Partial<TrainConfig>): TrainConfig {
  return {
    dataset: {
      images: path.join(dir, 'images'),
      masks: path.join(dir, 'masks'),
      valFraction: 0.34,
    },
    out,
    epochs: 1,
    batch: 4,
    lr: 1e-3,
    seed: 1,
    size: 32,
    tile: 32,
    tilesPerImage: 2,
    width: 1 / 16,
    channels: 1,
    normalise: 'zscore',
    batchNorm: true,
    dropout: 0,
    augment: null,
    patience: 0,
    lrPatience: 0,
    lrFactor: 0.5,
    minLr: 1e-6,
    workers: 0,
    name: 'tiny',
    version: '0',
    ...extra,
  };
}
const N = 6;
const dir = tempDir('dentseg-tiles-');
let refs: SampleRef[] = [];

beforeAll(async () => {
  mkdirSync(path.join(dir, 'images'));
  mkdirSync(path.join(dir, 'masks'));
  for (let i = 0; i < N; i++) {
    const grey = Buffer.alloc(W * H);
    const mask = Buffer.alloc(W * H);
    for (let p = 0; p < W * H; p++) grey[p] = 60 + ((p * 13 + i * 7) % 40);
    // one or two bright 5×5 lesions per image
    for (const [lx, ly] of i % 2
      ? [[40 + i * 50, 30 + i * 40]]
      : [
          [400 - i * 30, 300 - i * 20],
          [100, 200],
        ]) {
      for (let y = ly!; y < ly! + 5; y++)
        for (let x = lx!; x < lx! + 5; x++) {
          grey[y * W + x] = 230;
          mask[y * W + x] = 255;
        }
    }
    const raw = { raw: { width: W, height: H, channels: 1 as const } };
    await sharp(grey, raw)
      .png()
      .toFile(path.join(dir, 'images', `x${i}.png`));
    await sharp(mask, raw)
      .png()
      .toFile(path.join(dir, 'masks', `x${i}.png`));
  }
  const ds = await openDataset({
    images: path.join(dir, 'images'),
    masks: path.join(dir, 'masks'),
    valFraction: 0,
  });
  refs = ds.train;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Tiles of one epoch: [count, share holding a lesion pixel], checking every tile's size. */
async function lesionShare(
  share: number,
  tile: number,
  repeats: number,
): Promise<[number, number]> {
  const preprocess = validatePreprocessConfig({
    channels: 1,
    normalise: 'zscore',
    tiling: { tile: [tile, tile], lesionShare: share },
  });
  const samples = Array.from({ length: repeats }, () => refs).flat();
  const loader = createLoader({
    samples,
    batchSize: 16,
    preprocess,
    seed: 3,
    epoch: 1,
    shuffle: true,
    workers: 0,
  });
  let tiles = 0;
  let withLesion = 0;
  for await (const b of loader) {
    expect(b.images).toHaveLength(b.size * tile * tile);
    expect(b.masks).toHaveLength(b.size * tile * tile);
    for (let i = 0; i < b.size; i++) {
      tiles++;
      if (b.masks.subarray(i * tile * tile, (i + 1) * tile * tile).some((v) => v === 1))
        withLesion++;
    }
  }
  return [tiles, withLesion / tiles];
}

describe('lesion-aware training tiles', () => {
  it('hold what the sliding window feeds the network (whole-image zscore, padding)', async () => {
    // an image smaller than the tile: its only tile sits at (0, 0) and is padded
    const [w, h] = [50, 40];
    const grey = Buffer.from(Array.from({ length: w * h }, (_, i) => (i * 37) % 256));
    const raw = { raw: { width: w, height: h, channels: 1 as const } };
    await sharp(grey, raw).png().toFile(path.join(dir, 'small.png'));
    await sharp(Buffer.alloc(w * h), raw)
      .png()
      .toFile(path.join(dir, 'small-mask.png'));
    const preprocess = validatePreprocessConfig({
      channels: 3,
      normalise: 'zscore',
      tiling: { tile: [64, 64] },
    });
    const ref: SampleRef = {
      id: 'small',
      image: path.join(dir, 'small.png'),
      kind: 'mask',
      mask: path.join(dir, 'small-mask.png'),
      multiclass: false,
    };
    const s = await prepareSample(ref, 0, preprocess, undefined, 1, 0);
    const { image } = await loadSample(ref);
    const { data, geometry } = preprocessImage(image, preprocess);
    expect([geometry.width, geometry.height]).toEqual([w, h]);
    const expected = extractTile(data, h, w, 3, { x: 0, y: 0 }, 64, 64);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - s.image[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('have the requested size and lesion share (seeded)', async () => {
    const [tiles, share] = await lesionShare(0.7, 32, 40);
    expect(tiles).toBe(40 * N);
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.82);
    // the share follows the option: none asked gives almost none, all asked gives all
    expect((await lesionShare(0, 32, 8))[1]).toBeLessThan(0.1);
    expect((await lesionShare(1, 64, 8))[1]).toBe(1);
  });

  it('worker threads cut the same tiles as the main thread', async () => {
    const preprocess = validatePreprocessConfig({
      channels: 1,
      normalise: 'zscore',
      tiling: { tile: [32, 32] },
    });
    const batches = async (workers: number): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      const loader = createLoader({
        samples: [...refs, ...refs],
        batchSize: 4,
        preprocess,
        seed: 5,
        epoch: 2,
        shuffle: true,
        workers,
      });
      for await (const b of loader) out.push(b.images);
      return out;
    };
    expect(await batches(1)).toEqual(await batches(0));
  });

  it('flags: --tile and its companions become the model tiling and post-processing', async () => {
    const base = {
      out: path.join(dir, 'run'),
      images: path.join(dir, 'images'),
      masks: path.join(dir, 'masks'),
      epochs: '1',
      batch: '8',
      lr: '1e-3',
      size: '256',
      width: '0.0625',
      channels: '1',
      normalise: 'zscore',
      dropout: '0',
      patience: '0',
      lrPatience: '0',
      lrFactor: '0.5',
      minLr: '0',
      seed: '1',
      valFraction: '0.1',
    };
    const cfg = await trainConfigFromCli(
      {
        ...base,
        tile: '64',
        tileOverlap: '24',
        lesionTileShare: '0.5',
        tilesPerImage: '2',
        lesion: 'caries',
        minArea: '20',
      },
      [],
    );
    expect(cfg).toMatchObject({
      size: 64,
      tile: 64,
      tilesPerImage: 2,
      lesion: 'caries',
      minAreaPx: 20,
    });
    expect(preprocessFor(cfg).tiling).toEqual({
      tile: [64, 64],
      overlap: 24,
      margin: 6,
      blend: 'cosine',
      lesionShare: 0.5,
    });
    const refused = async (o: Record<string, string>, flag: string): Promise<void> => {
      await expect(trainConfigFromCli({ ...base, ...o }, [])).rejects.toMatchObject({
        code: 'E_USAGE',
        message: expect.stringContaining(flag),
      });
    };
    await refused({ tile: '48' }, '--tile');
    await refused({ lesionTileShare: '0.5' }, '--lesion-tile-share needs --tile');
    await refused({ tile: '64', tileOverlap: '64' }, '--tile-overlap');
    await refused({ tile: '64', lesionTileShare: '1.5' }, '--lesion-tile-share');
    await refused({ lesion: 'two words' }, '--lesion');
    await refused({ tileWidth: '240' }, '--tile-width needs --tile');
    await refused({ tile: '64', tileWidth: '16' }, '--tile-width');
    await refused({ tile: '64', tileWidth: '240.5' }, '--tile-width');
    await refused({ lesionSizeWeight: '0' }, '--lesion-size-weight');
    expect(
      (await trainConfigFromCli({ ...base, lesionSizeWeight: '300' }, [])).lesionSizeWeight,
    ).toBe(300);
    // without --tile-width the tiling has no width (the tests above: toEqual); with it, the
    // width goes into the tiling and into config.json, which --resume reads back
    const wide = await trainConfigFromCli({ ...base, tile: '64', tileWidth: '240' }, []);
    expect(wide.tileWidth).toBe(240);
    expect(preprocessFor(wide).tiling?.width).toBe(240);
    const saved: unknown = JSON.parse(JSON.stringify({ ...wide, preprocess: preprocessFor(wide) }));
    expect(trainConfigFromFile(saved, 'config.json').tileWidth).toBe(240);
    expect(() =>
      trainConfigFromFile({ ...(saved as object), tileWidth: 8 }, 'config.json'),
    ).toThrow(expect.objectContaining({ code: 'E_CHECKPOINT_INVALID' }));
  });

  it('--tile-width: tiles are cut from the image and mask resized to that width', async () => {
    // Lesion-centred tiles hold a whole 5×5 lesion (25 px) at native resolution; at half the
    // width the nearest-neighbour mask keeps 2–3 px per side of it (4–9 px).
    const counts = async (width?: number): Promise<number[]> => {
      const preprocess = validatePreprocessConfig({
        channels: 1,
        normalise: 'zscore',
        tiling: { tile: [32, 32], lesionShare: 1, ...(width !== undefined ? { width } : {}) },
      });
      const out: number[] = [];
      for (const [i, ref] of refs.entries()) {
        if (i % 2 === 0) continue; // one lesion per odd image
        const s = await prepareSample(ref, i, preprocess, undefined, 7, 0);
        expect(s.image).toHaveLength(32 * 32);
        out.push(s.mask.reduce((a, v) => a + v, 0));
      }
      return out;
    };
    expect(await counts()).toEqual([25, 25, 25]);
    for (const n of await counts(W / 2)) expect(n >= 4 && n <= 9).toBe(true);
    // the image's own width changes nothing, bit for bit
    const same = validatePreprocessConfig({
      channels: 1,
      normalise: 'zscore',
      tiling: { tile: [32, 32], width: W },
    });
    const plain = validatePreprocessConfig({
      channels: 1,
      normalise: 'zscore',
      tiling: { tile: [32, 32] },
    });
    expect(await prepareSample(refs[1]!, 1, same, undefined, 7, 0)).toEqual(
      await prepareSample(refs[1]!, 1, plain, undefined, 7, 0),
    );
  });

  it('a tiled run writes the tiling, and its model segments a whole X-ray by sliding window', async () => {
    await initEngine({ backend: 'wasm' });
    const out = path.join(dir, 'tiny-run');
    await runTraining(
      tinyTiledRun(dir, out, { lesion: 'caries', minAreaPx: 20, name: 'tiny-caries' }),
    );
    const meta = JSON.parse(readFileSync(path.join(out, 'best', 'dentseg.json'), 'utf8')) as {
      preprocess: { tiling?: unknown; size: number[] };
      postprocess?: unknown;
      input: { size: number[] };
      classes: string[];
    };
    // Masks that name no class: the lesion model is called after its lesion, not 'tooth'.
    expect(meta.classes).toEqual(['caries']);
    expect(meta.preprocess.tiling).toMatchObject({ tile: [32, 32], overlap: 8, lesionShare: 0.7 });
    expect(meta.input.size).toEqual([32, 32]);
    expect(meta.postprocess).toEqual({ minAreaPx: 20, lesion: 'caries' });
    const model = await loadModel(path.join(out, 'best'), { engine: 'tfjs' });
    try {
      const r = await segment(model, path.join(dir, 'images', 'x0.png'));
      expect([r.width, r.height]).toEqual([W, H]);
      expect(r.probabilities).toHaveLength(W * H);
    } finally {
      model.dispose();
    }
  });

  it('a run with --tile-width records tiling.width, and its model answers at the input size', async () => {
    await initEngine({ backend: 'wasm' });
    const out = path.join(dir, 'tiny-run-wide');
    await runTraining(
      // Lesions weighed by size too: the weighted loss runs in a real training step.
      tinyTiledRun(dir, out, {
        tileWidth: W / 2,
        tilesPerImage: 1,
        name: 'tiny-wide',
        lesionSizeWeight: 50,
      }),
    );
    const meta = JSON.parse(readFileSync(path.join(out, 'best', 'dentseg.json'), 'utf8')) as {
      preprocess: { tiling?: unknown };
      training: { lesionSizeWeight?: number };
      metrics: { loss: number };
    };
    expect(meta.preprocess.tiling).toMatchObject({ tile: [32, 32], width: W / 2 });
    expect(meta.training.lesionSizeWeight).toBe(50);
    expect(Number.isFinite(meta.metrics.loss)).toBe(true);
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as unknown;
    expect(trainConfigFromFile(config, 'config.json')).toMatchObject({
      tileWidth: W / 2,
      lesionSizeWeight: 50,
    });
    const model = await loadModel(path.join(out, 'best'), { engine: 'tfjs' });
    try {
      const tiles: number[] = [];
      const spy = {
        ...model,
        engine: {
          name: model.engine.name,
          run: (x: Float32Array, n: number, th: number, tw: number, c: number) => {
            tiles.push(n);
            return model.engine.run(x, n, th, tw, c);
          },
          dispose: () => model.engine.dispose(),
        },
      };
      const r = await segment(spy, path.join(dir, 'images', 'x0.png'), { findings: false });
      expect([r.width, r.height]).toEqual([W, H]);
      expect(r.probabilities).toHaveLength(W * H);
      // 240×180 in 32² tiles with overlap 8: 10 × 8 tiles, not the 20 × 15 of 480×360
      expect(tiles.reduce((a, b) => a + b, 0)).toBe(80);
    } finally {
      model.dispose();
    }
  });
});
