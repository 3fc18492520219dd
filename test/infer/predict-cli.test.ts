// `dentseg predict` as issue 5's "done when": the six full-size samples and a DICOM built
// from one of them give mask, overlay and JSON at the input's size; a folder holding a
// corrupt file, an empty file and a text file named .dcm is reported file by file, the
// rest is processed, and the exit code is 2. Patient tags stay out of the JSON.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, SAMPLES, runCliSync } from '../helpers/paths.js';
import { buildDicom, dicomFromImage, tempDir, writeTinyModel } from './helpers.js';
import { FDI_NUMBERS, toothName } from '../../src/numbering/index.js';

const dir = tempDir('dentseg-predict-');
const model = path.join(dir, 'model');
const out = path.join(dir, 'out');
const bad = path.join(dir, 'bad');
const dicomFile = path.join(dir, 'dicom-abdi-40.dcm');

const fdiModel = path.join(dir, 'fdi');

beforeAll(async () => {
  await writeTinyModel(model);
  await writeTinyModel(fdiModel, {
    classes: 33,
    classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
  });
  if (!HAS_SHARED_DATA) return;
  mkdirSync(bad);
  const png = readFileSync(path.join(SAMPLES, 'images', 'abdi-1.png'));
  writeFileSync(path.join(bad, 'corrupt.png'), png.subarray(0, 4000));
  writeFileSync(path.join(bad, 'empty.png'), '');
  writeFileSync(path.join(bad, 'notes.dcm'), 'Patient: Doe^Jane\nnot an image\n');
  const { dicom } = await dicomFromImage(path.join(SAMPLES, 'images', 'abdi-40.png'), {
    photometric: 'MONOCHROME1',
  });
  writeFileSync(dicomFile, dicom);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function size(file: string): Promise<[number, number]> {
  const m = await sharp(file).metadata();
  return [m.width, m.height];
}

describe.skipIf(!HAS_SHARED_DATA)('dentseg predict', () => {
  it('writes the three outputs per good input, names the bad ones, exits 2', async () => {
    const run = runCliSync([
      'predict',
      '--model',
      model,
      '--input',
      path.join(SAMPLES, 'images'),
      dicomFile,
      bad,
      '--output',
      out,
      '--concurrency',
      '2',
    ]);
    const text = run.stdout + run.stderr;
    expect(run.status).toBe(2);
    for (const name of ['corrupt.png', 'empty.png', 'notes.dcm']) {
      expect(text).toContain(path.join(bad, name));
    }
    expect(text).toMatch(/7 of 10 images segmented/);
    expect(text).not.toMatch(/Doe\^Jane/);
    const images = readdirSync(path.join(SAMPLES, 'images')).filter((f) => f.endsWith('.png'));
    expect(images).toHaveLength(6);
    const inputs = [
      ...images.map((f) => [path.join(SAMPLES, 'images', f), path.basename(f, '.png')] as const),
      [path.join(SAMPLES, 'images', 'abdi-40.png'), 'dicom-abdi-40'] as const,
    ];
    for (const [src, stem] of inputs) {
      const want = await size(src);
      expect(await size(path.join(out, `${stem}.mask.png`))).toEqual(want);
      expect(await size(path.join(out, `${stem}.overlay.png`))).toEqual(want);
      const json = JSON.parse(readFileSync(path.join(out, `${stem}.json`), 'utf8')) as {
        image: { width: number; height: number };
        model: { name: string; version: string };
        findings: unknown[];
        threshold: number;
        elapsedMs: number;
      };
      expect([json.image.width, json.image.height]).toEqual(want);
      expect(json.model).toMatchObject({ name: 'tiny-teeth', version: '0.0.1' });
      expect(json.threshold).toBe(0.5);
      expect(json.elapsedMs).toBeGreaterThan(0);
      expect(Array.isArray(json.findings)).toBe(true);
    }
    const dicomJson = readFileSync(path.join(out, 'dicom-abdi-40.json'), 'utf8');
    expect(dicomJson).not.toMatch(/Doe|PID-12345|19700101/);
    expect(JSON.parse(dicomJson)).toMatchObject({ dicom: { photometric: 'MONOCHROME1' } });
    // The DICOM (12-bit, MONOCHROME1-inverted) decodes to the same picture as the PNG.
    const a = await sharp(path.join(out, 'abdi-40.mask.png')).extractChannel(0).raw().toBuffer();
    const b = await sharp(path.join(out, 'dicom-abdi-40.mask.png'))
      .extractChannel(0)
      .raw()
      .toBuffer();
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    expect(same / a.length).toBeGreaterThan(0.99);

    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(11);
    expect(csv.filter((l) => l.includes(',failed,'))).toHaveLength(3);
    expect(
      readdirSync(out).filter((f) => f.startsWith('corrupt') || f.startsWith('empty')),
    ).toEqual([]);
  });

  it('numbering model: teeth and missing in X.json and summary.csv, X.chart.png', async () => {
    const fdiOut = path.join(dir, 'fdi-out');
    const src = path.join(SAMPLES, 'images', 'abdi-1.png');
    const run = runCliSync(['predict', '--model', fdiModel, '--input', src, '--output', fdiOut]);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(run.status).toBe(0);
    const want = await size(src);
    expect(await size(path.join(fdiOut, 'abdi-1.chart.png'))).toEqual(want);
    expect(await size(path.join(fdiOut, 'abdi-1.mask.png'))).toEqual(want);
    const json = JSON.parse(readFileSync(path.join(fdiOut, 'abdi-1.json'), 'utf8')) as {
      teeth: {
        fdi: number;
        name: string;
        areaPx: number;
        bbox: number[];
        centroid: number[];
        polygon: number[][];
        score: number;
      }[];
      missing: number[];
    };
    expect(json.teeth.length + json.missing.length).toBe(32);
    for (const t of json.teeth) {
      expect(t.name).toBe(toothName(t.fdi));
      expect(t.areaPx).toBeGreaterThan(0);
      expect(t.bbox).toHaveLength(4);
      expect(t.centroid).toHaveLength(2);
      expect(t.polygon.length).toBeGreaterThan(0);
      expect(t.score).toBeGreaterThanOrEqual(0);
      expect(t.score).toBeLessThanOrEqual(1);
    }
    const [head, row] = readFileSync(path.join(fdiOut, 'summary.csv'), 'utf8').trim().split('\n');
    const cols = head!.split(',');
    const cells = row!.split(',');
    // Looked up by name: later columns (quality, caries) follow them.
    expect(cols.indexOf('missing')).toBe(cols.indexOf('teeth') + 1);
    expect(cells[cols.indexOf('teeth')]).toBe(json.teeth.map((t) => t.fdi).join(' '));
    expect(cells[cols.indexOf('missing')]).toBe(json.missing.join(' '));
  });

  it('writes DICOM patient tags only with --keep-dicom-tags', () => {
    const kept = path.join(dir, 'kept');
    const run = runCliSync([
      'predict',
      '--model',
      model,
      '--input',
      dicomFile,
      '--output',
      kept,
      '--keep-dicom-tags',
      '--tta',
    ]);
    expect(run.status).toBe(0);
    const json = JSON.parse(readFileSync(path.join(kept, 'dicom-abdi-40.json'), 'utf8')) as {
      dicomTags?: Record<string, string>;
      tta: boolean;
    };
    expect(json.dicomTags).toMatchObject({ PatientName: 'Doe^Jane', PatientID: 'PID-12345' });
    expect(json.tta).toBe(true);
  });

  it('refuses bad flags with E_USAGE naming them', () => {
    const run = runCliSync([
      'predict',
      '--model',
      model,
      '--input',
      dicomFile,
      '--output',
      out,
      '--threshold',
      'x',
    ]);
    expect(run.status).toBe(64);
    expect(run.stderr).toMatch(/--threshold/);
  });
});

describe('dentseg predict: folders judged by content', () => {
  it('segments a DICOM without an extension in a folder; unknown content names DICOM', () => {
    const folder = path.join(dir, 'pacs');
    mkdirSync(folder);
    const pixels = Uint8Array.from({ length: 96 * 64 }, (_, i) => (i * 7) % 256);
    writeFileSync(path.join(folder, 'IM0001'), buildDicom({ width: 96, height: 64, pixels }));
    writeFileSync(path.join(folder, 'DICOMDIR.txt'), 'index, not an image\n');
    const pacsOut = path.join(dir, 'pacs-out');
    const run = runCliSync(['predict', '--model', model, '--input', folder, '--output', pacsOut]);
    expect(run.stderr).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/1 of 1 images segmented.*\(1 non-image files in folders skipped\)/);
    expect(readdirSync(pacsOut).sort()).toEqual([
      'IM0001.json',
      'IM0001.mask.png',
      'IM0001.overlay.png',
      'summary.csv',
    ]);
    // A file given by name is always tried; what it is not is said with every format.
    const notes = path.join(folder, 'DICOMDIR.txt');
    const refused = runCliSync([
      'predict',
      '--model',
      model,
      '--input',
      notes,
      '--output',
      pacsOut,
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toContain(
      `${notes}: not an X-ray format dentseg reads (JPEG, PNG, TIFF, BMP or DICOM)`,
    );
  });
});
