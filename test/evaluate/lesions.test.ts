/**
 * Lesion matching on hand-built masks (a hit, a miss, a false alarm, specks below
 * minAreaPx on both sides), its pooled report, and `evaluate` adding `lesions` for a lesion
 * model (library and CLI) with a model whose predictions are fixed pixels, scored on the
 * regions its own findings rule keeps.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, validateTilingConfig } from '../../src/data/index.node.js';
import {
  evaluateModel,
  LesionAccumulator,
  matchLesions,
  type LesionReport,
} from '../../src/evaluate/index.js';
import type { LoadedModel } from '../../src/infer/index.js';
import { parseModelMeta } from '../../src/model/index.js';
import { runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';
import { rectMask } from '../helpers/rect-mask.js';

const W = 40;
const H = 30;

/** A W×H map with the given rectangles [x, y, w, h] set to 1. */
const mask = (...rs: [number, number, number, number][]): Uint8Array => rectMask(W, H, rs);

// truth: A (5×5 = 25 px, hit), B (5×5, missed), speck (2×2 = 4 px)
const TRUTH = mask([2, 2, 5, 5], [20, 2, 5, 5], [35, 25, 2, 2]);
// prediction: overlaps A by one pixel (its corner), a false alarm (6×4 = 24 px) far from
// all truth, a 3×3 speck on B (ignored: B stays missed), a 3×3 speck alone (ignored), and
// a 5×5 region on the truth speck (a false positive: the truth speck does not exist)
const PRED = mask([6, 6, 5, 5], [2, 20, 6, 4], [21, 3, 3, 3], [30, 12, 3, 3], [34, 24, 5, 5]);

describe('matchLesions', () => {
  it('counts a hit, a miss, false alarms and ignores specks on both sides', () => {
    expect(matchLesions(PRED, TRUTH, W, H, 20)).toEqual({
      truth: 2,
      predicted: 3,
      found: 1,
      falsePositives: 2,
    });
  });

  it('with minAreaPx 1 every region counts (specks included)', () => {
    expect(matchLesions(PRED, TRUTH, W, H, 1)).toEqual({
      truth: 3,
      predicted: 5,
      found: 3, // the 3×3 speck now finds B, the 5×5 finds the truth speck
      falsePositives: 2,
    });
  });

  it('8-connectivity: a diagonal touch joins a region; one region can find two lesions', () => {
    const truth = mask([0, 0, 5, 5], [10, 0, 5, 5]);
    const pred = mask([4, 4, 7, 1], [11, 0, 1, 4]); // a bar from lesion 1 to lesion 2, plus a stub
    const c = matchLesions(pred, truth, W, H, 5);
    expect(c).toEqual({ truth: 2, predicted: 1, found: 2, falsePositives: 0 });
  });

  it('refuses masks of the wrong size and a bad minAreaPx', () => {
    expect(() => matchLesions(new Uint8Array(3), TRUTH, W, H)).toThrow(RangeError);
    expect(() => matchLesions(PRED, TRUTH, W, H, 0)).toThrow(/minAreaPx/);
  });

  it('pools images into sensitivity, precision and false positives per image', () => {
    const acc = new LesionAccumulator(20);
    acc.add(PRED, TRUTH, W, H);
    acc.add(new Uint8Array(W * H), new Uint8Array(W * H), W, H); // empty both: nothing counted
    const r = acc.report();
    expect(r).toEqual({
      truth: 2,
      predicted: 3,
      found: 1,
      falsePositives: 2,
      sensitivity: 0.5,
      precision: 1 / 3,
      fpPerImage: 1,
      images: 2,
      minAreaPx: 20,
    } satisfies LesionReport);
    expect(new LesionAccumulator().report()).toMatchObject({
      sensitivity: null,
      precision: null,
      minAreaPx: 20,
    });
  });
});

describe('evaluate on a lesion model', () => {
  const dir = tempDir('dentseg-lesions-');
  let model: LoadedModel;

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'images'));
    mkdirSync(path.join(dir, 'masks'));
    const grey = Buffer.alloc(W * H, 90);
    await sharp(grey, { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toFile(path.join(dir, 'images', 'a.png'));
    await sharp(Buffer.from(TRUTH.map((v) => v * 255)), {
      raw: { width: W, height: H, channels: 1 },
    })
      .png()
      .toFile(path.join(dir, 'masks', 'a.png'));
    // One 32×64 tile covers the 40×30 image (padded): the engine answers PRED in that tile.
    const meta = parseModelMeta(
      {
        format: 1,
        name: 'fixed-caries',
        version: '0.0.1',
        task: 'binary',
        classes: ['caries'],
        input: { size: [32, 64], channels: 1 },
        preprocess: { channels: 1, normalise: 'unit', tiling: { tile: [32, 64], overlap: 8 } },
        architecture: {
          encoder: 'vgg16',
          width: 1,
          decoderFilters: [],
          batchNorm: false,
          dropout: 0,
        },
        postprocess: { lesion: 'caries', minAreaPx: 20 },
      },
      'fixed/dentseg.json',
    );
    model = {
      meta,
      dir,
      dispose: () => {},
      engine: {
        name: 'tfjs',
        dispose: () => {},
        run: async (_x, n, th, tw) => {
          const out = new Float32Array(n * th * tw);
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++) out[y * tw + x] = PRED[y * W + x]! ? 0.9 : 0.1;
          return out;
        },
      },
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds lesions next to the pixel metrics', async () => {
    const ds = await openDataset({
      images: path.join(dir, 'images'),
      masks: path.join(dir, 'masks'),
      valFraction: 0,
    });
    const r = await evaluateModel(model, ds, { lesions: { minAreaPx: 20 } });
    expect(r.lesions).toMatchObject({ truth: 2, predicted: 3, found: 1, falsePositives: 2 });
    expect(r.lesions?.sensitivity).toBe(0.5);
    expect(r.report.pooled.dice).toBeGreaterThan(0);
    const plain = await evaluateModel(model, ds);
    expect(plain.lesions).toBeUndefined();
  });

  it("scores what predict reports: regions under the model's own findings rule leave the mask", async () => {
    const ds = await openDataset({
      images: path.join(dir, 'images'),
      masks: path.join(dir, 'masks'),
      valFraction: 0,
    });
    const at = async (minAreaPx: number) => {
      const post = { ...model.meta.postprocess, minAreaPx };
      const m = { ...model, meta: { ...model.meta, postprocess: post } };
      return evaluateModel(m, ds, { lesions: { minAreaPx: 20 } });
    };
    // At 25 px the 24 px false alarm is no finding in predict, so no false positive here;
    // the 25 px hit and the 25 px region on the truth speck stay.
    const strict = await at(25);
    expect(strict.lesions).toMatchObject({ truth: 2, predicted: 2, found: 1, falsePositives: 1 });
    const loose = await at(20);
    expect(loose.lesions).toMatchObject({ truth: 2, predicted: 3, found: 1, falsePositives: 2 });
    // The pixels go too: fewer false positive pixels, the same true ones.
    const pooled = (r: typeof strict) => r.report.pooled;
    expect(pooled(strict).precision).toBeGreaterThan(pooled(loose).precision);
    expect(pooled(strict).recall).toBe(pooled(loose).recall);
  });

  it('dentseg evaluate: on by default for postprocess.lesion; --lesion-min-area overrides', async () => {
    const tiny = path.join(dir, 'tiny');
    const meta = await writeTinyModel(tiny, {
      size: 64,
      preprocess: { tiling: validateTilingConfig({ tile: [64, 64] }) },
    });
    const run = (model: string, extra: string[]): ReturnType<typeof runCliSync> =>
      runCliSync([
        'evaluate',
        '--model',
        model,
        '--images',
        path.join(dir, 'images'),
        '--masks',
        path.join(dir, 'masks'),
        '--engine',
        'tfjs',
        ...extra,
      ]);
    // the tiny teeth model is no lesion model: no lesions block unless asked
    const plainJson = path.join(dir, 'plain.json');
    expect(run(tiny, ['--json', plainJson]).status).toBe(0);
    expect(JSON.parse(readFileSync(plainJson, 'utf8'))).not.toHaveProperty('lesions');
    const askedJson = path.join(dir, 'asked.json');
    const asked = run(tiny, ['--json', askedJson, '--lesion-min-area', '4']);
    expect(asked.status).toBe(0);
    expect(asked.stdout).toMatch(/lesions \(≥ 4 px\)/);
    const report = JSON.parse(readFileSync(askedJson, 'utf8')) as { lesions: LesionReport };
    expect(report.lesions.minAreaPx).toBe(4);
    expect(report.lesions.truth).toBe(3);
    // a lesion model folder: on without a flag, default 20 px
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(tiny, 'dentseg.json'),
      JSON.stringify({ ...meta, postprocess: { lesion: 'caries', minAreaPx: 12 } }),
    );
    const lesionJson = path.join(dir, 'lesion.json');
    expect(run(tiny, ['--json', lesionJson]).status).toBe(0);
    const lr = JSON.parse(readFileSync(lesionJson, 'utf8')) as { lesions: LesionReport };
    expect(lr.lesions).toMatchObject({ truth: 2, minAreaPx: 20, images: 1 });
    const bad = run(tiny, ['--json', lesionJson, '--lesion-min-area', '0']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/E_USAGE.*--lesion-min-area/);
  });
});
