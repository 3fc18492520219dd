// `dentseg evaluate` end to end with a tiny random model on 3 ufba425 images: the JSON
// report keys and the per-image CSV; and on synthetic images, one without a mask (failed, exit 2).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, UFBA, runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';

const dir = tempDir('dentseg-eval-');
const STEMS = ['cate1-00005', 'cate1-00011', 'cate2-00001'];

beforeAll(async () => {
  await writeTinyModel(path.join(dir, 'model'));
  await writeTinyModel(path.join(dir, 'fdi'), { classes: 33 });
  // Class names as ufba425's classes_fdi.json gives them: a numbering model.
  await writeTinyModel(path.join(dir, 'numbering'), {
    classes: 33,
    classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
  });
  if (!HAS_SHARED_DATA) return;
  mkdirSync(path.join(dir, 'images'));
  mkdirSync(path.join(dir, 'masks'));
  mkdirSync(path.join(dir, 'masks_fdi'));
  for (const s of STEMS) {
    const img = path.join(UFBA, 'images', `${s}.jpg`);
    if (!existsSync(img)) continue;
    copyFileSync(img, path.join(dir, 'images', `${s}.jpg`));
    copyFileSync(path.join(UFBA, 'masks', `${s}.png`), path.join(dir, 'masks', `${s}.png`));
    copyFileSync(path.join(UFBA, 'masks_fdi', `${s}.png`), path.join(dir, 'masks_fdi', `${s}.png`));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `dentseg evaluate` on the 3 copied images with model folder `model` and mask folder `masks`. */
function evaluate(model: string, masks: string, extra: string[]): ReturnType<typeof runCliSync> {
  return runCliSync([
    'evaluate',
    '--model',
    path.join(dir, model),
    '--images',
    path.join(dir, 'images'),
    '--masks',
    path.join(dir, masks),
    ...extra,
  ]);
}

describe.skipIf(!HAS_SHARED_DATA)('dentseg evaluate', () => {
  it('writes the report with pooled and per-image metrics', () => {
    const json = path.join(dir, 'report.json');
    const csv = path.join(dir, 'per-image.csv');
    const run = evaluate('model', 'masks', ['--json', json, '--per-image', csv]);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(run.status).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const n = STEMS.filter((s) => existsSync(path.join(dir, 'images', `${s}.jpg`))).length;
    expect(report.images).toBe(n);
    expect(Object.keys(report.pooled!).sort()).toEqual(
      ['accuracy', 'dice', 'iou', 'precision', 'recall'].sort(),
    );
    for (const k of [
      'dice',
      'iou',
      'accuracy',
      'precision',
      'recall',
      'hd95',
      'emptyGroundTruth',
    ]) {
      expect(report.perImage).toHaveProperty(k);
    }
    for (const v of Object.values(report.pooled!)) {
      expect(typeof v).toBe('number');
      expect(v as number).toBeGreaterThanOrEqual(0);
      expect(v as number).toBeLessThanOrEqual(1);
    }
    expect(report.perClass).toBeUndefined();
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toMatch(/^image,width,height,truth_px,pred_px,tp,fp,fn,dice,iou/);
    expect(rows).toHaveLength(n + 1);
  });

  it('multi-class (FDI teeth): per-class figures next to the pooled ones', () => {
    const json = path.join(dir, 'fdi.json');
    const run = evaluate('fdi', 'masks_fdi', [
      '--multiclass',
      '--classes',
      path.join(UFBA, 'classes_fdi.json'),
      '--json',
      json,
    ]);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(run.status).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      perClass: Record<string, { pooled: { dice: number }; images: number }>;
      pooled: Record<string, number>;
    };
    expect(Object.keys(report.perClass)).toHaveLength(32);
    const withTeeth = Object.values(report.perClass).filter((c) => c.images > 0);
    expect(withTeeth.length).toBeGreaterThan(10);
    for (const c of Object.values(report.perClass)) expect(c.pooled.dice).toBeLessThanOrEqual(1);
    expect(report.pooled.accuracy).toBeGreaterThan(0);
    expect(report).not.toHaveProperty('teeth');
  });

  it('numbering model: teeth and union next to pooled and perClass, steps switchable', () => {
    const reports = (['none', 'arch'] as const).map((steps) => {
      const json = path.join(dir, `numbering-${steps}.json`);
      const run = evaluate('numbering', 'masks_fdi', [
        '--multiclass',
        '--classes',
        path.join(UFBA, 'classes_fdi.json'),
        '--numbering',
        steps,
        '--json',
        json,
      ]);
      expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/teeth: F1 [\d.]+ .*chart accuracy [\d.]+/);
      return JSON.parse(readFileSync(json, 'utf8')) as {
        teeth: Record<string, number>;
        union: Record<string, number>;
        perClass: Record<string, unknown>;
        pooled: Record<string, number>;
        numbering: { steps: string; minToothPx: number };
      };
    });
    for (const [i, r] of reports.entries()) {
      expect(r.numbering).toEqual({ steps: ['none', 'arch'][i], minToothPx: 2 }); // 64²
      expect(Object.keys(r.teeth).sort()).toEqual(
        [
          'chartAccuracy',
          'f1',
          'matched',
          'meanToothDice',
          'precision',
          'predictedTeeth',
          'recall',
          'trueTeeth',
        ].sort(),
      );
      expect(Object.keys(r.union).sort()).toEqual(['dice', 'iou', 'precision', 'recall']);
      for (const k of ['precision', 'recall', 'f1', 'chartAccuracy']) {
        expect(r.teeth[k]).toBeGreaterThanOrEqual(0);
        expect(r.teeth[k]).toBeLessThanOrEqual(1);
      }
      expect(r.teeth.trueTeeth).toBeGreaterThan(40); // three real charts
      expect(Object.keys(r.perClass)).toHaveLength(32);
    }
  });

  it('numbering model on binary masks: its teeth scored as one region, the same as its union', async () => {
    // Binary masks made from the FDI ones, so that both runs score the same teeth.
    mkdirSync(path.join(dir, 'masks_union'), { recursive: true });
    for (const s of STEMS) {
      const fdi = path.join(dir, 'masks_fdi', `${s}.png`);
      if (!existsSync(fdi)) continue;
      await sharp(fdi)
        .extractChannel(0)
        .threshold(1)
        .toFile(path.join(dir, 'masks_union', `${s}.png`));
    }
    const json = path.join(dir, 'numbering-binary.json');
    const run = evaluate('numbering', 'masks_union', ['--numbering', 'arch', '--json', json]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/teeth are scored as one region/);
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      scoredAs: string;
      pooled: { dice: number };
      teeth?: unknown;
    };
    expect(r.scoredAs).toBe('teeth union');
    expect(r).not.toHaveProperty('teeth');
    const fdiJson = path.join(dir, 'numbering-arch-again.json');
    const classes = path.join(UFBA, 'classes_fdi.json');
    const again = evaluate('numbering', 'masks_fdi', [
      ...['--multiclass', '--classes', classes, '--numbering', 'arch', '--json', fdiJson],
    ]);
    expect(again.status, again.stderr).toBe(0);
    const fdi = JSON.parse(readFileSync(fdiJson, 'utf8')) as {
      union: { dice: number };
    };
    expect(r.pooled.dice).toBeCloseTo(fdi.union.dice, 6);
    // A multi-class model that does not number teeth still refuses binary masks.
    const other = evaluate('fdi', 'masks_union', ['--json', path.join(dir, 'other.json')]);
    expect(other.status, other.stderr).toBe(64);
    expect(other.stderr).toMatch(/the model is multiclass but the data set is binary/);
  });

  it('--error-maps draws one PNG per image whose colours count the CSV row', async () => {
    const maps = path.join(dir, 'maps');
    const csv = path.join(dir, 'maps.csv');
    const run = evaluate('model', 'masks', [
      '--json',
      path.join(dir, 'maps.json'),
      '--per-image',
      csv,
      '--error-maps',
      maps,
    ]);
    expect(run.status).toBe(0);
    const { default: sharp } = await import('sharp');
    const { ERROR_MAP_COLOURS } = await import('../../src/evaluate/index.js');
    const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const cells = row.split(',');
      const stem = path.parse(cells[0]!).name;
      const { data, info } = await sharp(path.join(maps, `${stem}.errors.png`))
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([
        Number(cells[1]),
        Number(cells[2]),
        3,
      ]);
      let fp = 0;
      let fn = 0;
      const [fr, fg, fb] = ERROR_MAP_COLOURS.falsePositive;
      const [nr, ng, nb] = ERROR_MAP_COLOURS.falseNegative;
      for (let i = 0; i < data.length; i += 3) {
        if (data[i] === fr && data[i + 1] === fg && data[i + 2] === fb) fp++;
        else if (data[i] === nr && data[i + 1] === ng && data[i + 2] === nb) fn++;
      }
      // Solid colours are only drawn for errors; the X-ray is dimmed grey below them.
      expect(fp).toBe(Number(cells[6]));
      expect(fn).toBe(Number(cells[7]));
    }
  });

  it('refuses a bad threshold naming the flag', () => {
    const run = evaluate('model', 'masks', [
      '--json',
      path.join(dir, 'x.json'),
      '--threshold',
      '2',
    ]);
    expect(run.status).toBe(64);
    expect(run.stderr).toMatch(/E_USAGE.*--threshold/);
  });
});

describe('dentseg evaluate with an image that has no mask', () => {
  // Synthetic 64² images (no shared data needed): a, b with masks, c without.
  const data = path.join(dir, 'nomask');
  beforeAll(async () => {
    const { default: sharp } = await import('sharp');
    mkdirSync(path.join(data, 'images'), { recursive: true });
    mkdirSync(path.join(data, 'masks'), { recursive: true });
    const grey = (v: number): ReturnType<typeof sharp> =>
      sharp(Buffer.alloc(64 * 64, v), { raw: { width: 64, height: 64, channels: 1 } });
    for (const [stem, v] of [
      ['a', 80],
      ['b', 120],
      ['c', 160],
    ] as const) {
      await grey(v)
        .png()
        .toFile(path.join(data, 'images', `${stem}.png`));
      if (stem !== 'c')
        await grey(v > 100 ? 255 : 0)
          .png()
          .toFile(path.join(data, 'masks', `${stem}.png`));
    }
    writeFileSync(path.join(data, 'split.csv'), 'stem,split\na,train\nb,train\nc,val\nd,test\n');
  });

  const run = (extra: string[]): ReturnType<typeof runCliSync> =>
    runCliSync([
      'evaluate',
      '--model',
      path.join(dir, 'model'),
      '--images',
      path.join(data, 'images'),
      '--masks',
      path.join(data, 'masks'),
      ...extra,
    ]);

  it('lists it in the report’s failed list and exits 2', () => {
    const json = path.join(data, 'all.json');
    const r = run(['--json', json]);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(r.status).toBe(2);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      images: number;
      failed: { file: string; code: string; message: string }[];
    };
    expect(report.images).toBe(2);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]!.code).toBe('E_MASK_MISMATCH');
    expect(report.failed[0]!.file).toMatch(/images[/\\]c\.png$/);
    expect(report.failed[0]!.message).toMatch(/c\.png: no mask \(expected \S*c\.png\)/);
    expect(r.stderr).toMatch(/failed E_MASK_MISMATCH: \S*c\.png: no mask/);
  });

  it('with a split: only under the part it belongs to; test rows are counted in a warning', () => {
    const split = path.join(data, 'split.csv');
    const json = path.join(data, 'train.json');
    const r = run(['--json', json, '--split', split, '--subset', 'train']);
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      images: number;
      failed: unknown[];
      warnings: string[];
    };
    expect([report.images, report.failed.length]).toEqual([2, 0]);
    const warning = `--split ${split}: 1 row left out, marked "test" (1); only train and val are used`;
    expect(report.warnings).toEqual([warning]);
    expect(r.stderr).toContain(`dentseg: warning: ${warning}`);
    const val = run(['--json', path.join(data, 'val.json'), '--split', split, '--subset', 'val']);
    expect(val.status).toBe(1); // c is the whole val part, and it has no mask
    expect(val.stderr).toMatch(/E_MASK_MISMATCH: no images in the "val" part.*c\.png: no mask/);
  });
});
