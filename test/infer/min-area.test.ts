/**
 * A model's own speck rule: `postprocess.minAreaPx` in dentseg.json replaces predict's
 * 0.01 %-of-the-image default for findings (lesions are far smaller), `--min-area` still
 * wins, and `X.json` reports the rule applied.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictBatch, segment, type LoadedModel } from '../../src/infer/index.js';
import { parseModelMeta } from '../../src/model/index.js';
import { tempDir } from './helpers.js';

const W = 400;
const H = 300; // default rule: max(16, round(1e-4 × 120 000)) = 16 px
const dir = tempDir('dentseg-min-area-');

/** A model that "finds" a 3×3 (9 px), a 5×5 (25 px) and a 10×10 (100 px) region. */
function fixedModel(postprocess?: Record<string, unknown>): LoadedModel {
  const meta = parseModelMeta(
    {
      format: 1,
      name: 'fixed',
      version: '0',
      task: 'binary',
      classes: ['caries'],
      input: { size: [H, W], channels: 1 },
      preprocess: { size: [H, W], channels: 1, normalise: 'unit' },
      architecture: {
        encoder: 'vgg16',
        width: 1,
        decoderFilters: [],
        batchNorm: false,
        dropout: 0,
      },
      ...(postprocess ? { postprocess } : {}),
    },
    'fixed/dentseg.json',
  );
  const probs = new Float32Array(W * H);
  for (const [x0, y0, s] of [
    [10, 10, 3],
    [100, 100, 5],
    [200, 150, 10],
  ] as const)
    for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) probs[y * W + x] = 1;
  return {
    meta,
    dir,
    dispose: () => {},
    engine: { name: 'tfjs', dispose: () => {}, run: async () => probs.slice() },
  };
}

const image = { width: W, height: H, bitDepth: 8 as const, data: new Uint8Array(W * H) };

beforeAll(async () => {
  await sharp(Buffer.alloc(W * H, 80), { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toFile(path.join(dir, 'x.png'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("findings use the model's minAreaPx", () => {
  it('default rule without it; the model value with it; the caller value over both', async () => {
    expect((await segment(fixedModel(), image)).findings.map((f) => f.areaPx)).toEqual([25, 100]);
    const m = fixedModel({ minAreaPx: 5, lesion: 'caries' });
    expect((await segment(m, image)).findings.map((f) => f.areaPx)).toEqual([9, 25, 100]);
    expect((await segment(fixedModel({ minAreaPx: 50 }), image)).findings).toHaveLength(1);
    expect((await segment(m, image, { minAreaPx: 30 })).findings).toHaveLength(1);
  });

  it('predict writes it as the rule applied in X.json', async () => {
    const out = path.join(dir, 'out');
    const r = await predictBatch(fixedModel({ minAreaPx: 5 }), {
      inputs: [path.join(dir, 'x.png')],
      outputDir: out,
      threshold: 0.5,
      tta: false,
      concurrency: 1,
      keepDicomTags: false,
      // A synthetic square is no panoramic X-ray: keep its findings, which this test counts.
      force: true,
    });
    expect(r.failed).toBe(0);
    const json = JSON.parse(readFileSync(path.join(out, 'x.json'), 'utf8')) as {
      summary: { minAreaPx: number; regions: number };
    };
    expect(json.summary).toMatchObject({ minAreaPx: 5, regions: 3 });
  });
});
