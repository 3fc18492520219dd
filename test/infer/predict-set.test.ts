/**
 * `dentseg predict` with a model set: a numbering model and a lesion model give
 * `X.mask.png` (the teeth union, 0/255), `X.teeth.png` (class indices), `X.caries.png`
 * (0/255), `X.findings.png`, `X.chart.png`, the overlay, `X.json` with `models` and lesions
 * on their teeth, and `summary.csv` with `caries` and `caries_teeth`. On the CLI: `--model`
 * repeats, the same folder twice is refused, and one `--model` keeps today's outputs.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictBatch, summaryCsv } from '../../src/infer/index.js';
import { runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from './helpers.js';
import {
  H,
  W,
  fixedModel,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from './set-fixtures.js';

const dir = tempDir('dentseg-predict-set-');
const xray = path.join(dir, 'x.png');

async function pixels(file: string): Promise<{ values: Set<number>; width: number }> {
  expect((await sharp(file).metadata()).channels).toBe(1);
  const { data, info } = await sharp(file)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { values: new Set(data), width: info.width };
}

function csv(file: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const keys = head!.split(',');
  // The fixtures' fields hold no commas or quotes.
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i]!, v])));
}

beforeAll(async () => {
  await sharp(Buffer.alloc(W * H, 90), { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toFile(xray);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('predict with a numbering model and a lesion model', () => {
  const out = path.join(dir, 'set');

  beforeAll(async () => {
    const models = [
      fixedModel(numberingMeta(), numberingProbs()),
      fixedModel(lesionMeta(), lesionProbs()),
    ];
    const r = await predictBatch(
      { models, dispose: () => {} },
      {
        inputs: [xray],
        outputDir: out,
        threshold: 0.5,
        tta: false,
        concurrency: 1,
        keepDicomTags: false,
        // A flat grey square is no panoramic: keep its findings, which this test reads.
        force: true,
        report: 'a4',
      },
    );
    expect(r.items[0]?.error).toBeUndefined();
  });

  it('writes the set files: union mask, class map, lesion mask, findings, chart, overlay', async () => {
    for (const f of ['mask', 'teeth', 'caries', 'findings', 'chart', 'overlay'])
      expect(existsSync(path.join(out, `x.${f}.png`)), f).toBe(true);
    expect(readFileSync(path.join(out, 'x.report.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await pixels(path.join(out, 'x.mask.png'))).values).toEqual(new Set([0, 255]));
    expect((await pixels(path.join(out, 'x.teeth.png'))).values).toEqual(new Set([0, 1, 2]));
    expect((await pixels(path.join(out, 'x.caries.png'))).values).toEqual(new Set([0, 255]));
    const findings = await sharp(path.join(out, 'x.findings.png')).metadata();
    expect([findings.width, findings.height]).toEqual([W, H]);
  });

  it('X.json: the teeth model fields, models, teeth, missing and lesions on their teeth', () => {
    const j = JSON.parse(readFileSync(path.join(out, 'x.json'), 'utf8')) as {
      model: { name: string };
      task: string;
      models: unknown[];
      teeth: { fdi: number }[];
      missing: number[];
      findings: {
        id: string;
        type: string;
        tooth: number | null;
        surface: string | null;
        areaPx: number;
        bbox: number[];
        score: number;
        class: string;
        polygon: unknown[];
      }[];
    };
    expect(j.model.name).toBe('fixed-fdi');
    expect(j.task).toBe('multiclass');
    expect(j.models).toEqual([
      { name: 'fixed-fdi', version: '0.0.1', task: 'multiclass', engine: 'fixed', role: 'teeth' },
      { name: 'fixed-caries', version: '0.0.1', task: 'binary', engine: 'fixed', role: 'lesion' },
    ]);
    expect(j.teeth.map((t) => t.fdi)).toEqual([36, 46]);
    expect(j.missing).toHaveLength(30);
    const caries = j.findings.filter((f) => f.type === 'caries');
    expect(caries.map((f) => [f.tooth, f.surface])).toEqual([
      [null, null],
      [36, 'occlusal'],
      [36, 'mesial'],
      [36, 'distal'],
    ]);
    for (const f of caries) {
      expect(f).toMatchObject({ class: 'caries', areaPx: 36 });
      expect(f.id).toMatch(/^f\d+$/);
      expect(f.bbox).toHaveLength(4);
      expect(f.score).toBeCloseTo(0.9, 3);
      expect(f.polygon.length).toBeGreaterThan(2);
    }
  });

  it('summary.csv: teeth, missing, caries count and caries_teeth', () => {
    const [row] = csv(path.join(out, 'summary.csv'));
    expect(row).toMatchObject({
      status: 'ok',
      mask: 'x.mask.png',
      teeth: '36 46',
      caries: '4',
      caries_teeth: '36',
    });
  });

  it('summary.csv adds a column pair per other lesion type; empty where it did not run', () => {
    const text = summaryCsv([
      { input: 'a.png', ok: true, stem: 'a', lesions: { caries: { count: 2, teeth: [16, 36] } } },
      { input: 'b.png', ok: true, stem: 'b', lesions: { calculus: { count: 1, teeth: [] } } },
    ]);
    const [head, a, b] = text.trim().split('\n');
    expect(head!.endsWith('caries,caries_teeth,calculus,calculus_teeth')).toBe(true);
    expect(a!.endsWith(',2,16;36,,')).toBe(true);
    expect(b!.endsWith(',,,1,')).toBe(true);
  });
});

describe('dentseg predict --model, repeated', () => {
  const fdi = path.join(dir, 'fdi');
  const caries = path.join(dir, 'caries');

  beforeAll(async () => {
    await writeTinyModel(fdi, {
      classes: 3,
      classNames: ['background', 'tooth 36', 'tooth 46'],
    });
    await writeTinyModel(caries, {
      name: 'tiny-caries',
      target: 'caries',
      postprocess: { lesion: 'caries', minAreaPx: 5 },
    });
  }, 120_000);

  it('runs the set; one --model keeps the single-model outputs; a folder twice is refused', () => {
    const setOut = path.join(dir, 'cli-set');
    const run = runCliSync([
      'predict',
      '--model',
      fdi,
      '--model',
      caries,
      '--input',
      xray,
      '--out',
      setOut,
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/models tiny-fdi .* \+ tiny-caries/);
    for (const f of ['mask', 'teeth', 'caries', 'findings', 'chart', 'overlay'])
      expect(existsSync(path.join(setOut, `x.${f}.png`)), f).toBe(true);
    const j = JSON.parse(readFileSync(path.join(setOut, 'x.json'), 'utf8')) as {
      models: unknown[];
    };
    expect(j.models).toHaveLength(2);

    const oneOut = path.join(dir, 'cli-one');
    const one = runCliSync(['predict', '--model', fdi, '--input', xray, '--out', oneOut]);
    expect(one.status, one.stderr).toBe(0);
    // Single multi-class model: X.mask.png is its class index, no set files, no `models`.
    for (const f of ['teeth', 'caries', 'findings'])
      expect(existsSync(path.join(oneOut, `x.${f}.png`)), f).toBe(false);
    const single = JSON.parse(readFileSync(path.join(oneOut, 'x.json'), 'utf8')) as object;
    expect(single).not.toHaveProperty('models');
    expect(csv(path.join(oneOut, 'summary.csv'))[0]).toMatchObject({
      caries: '',
      caries_teeth: '',
    });

    const twice = runCliSync([
      'predict',
      '--model',
      fdi,
      '--model',
      `${fdi}/`,
      '--input',
      xray,
      '--out',
      oneOut,
    ]);
    expect(twice.status).toBe(64);
    expect(twice.stderr).toMatch(/Expected each model folder once for --model/);

    const two = runCliSync([
      'predict',
      '--model',
      fdi,
      '--model',
      fdi.replace('fdi', 'caries2'),
      '--input',
      xray,
      '--out',
      oneOut,
    ]);
    expect(two.status).not.toBe(0);
  }, 300_000);
});
