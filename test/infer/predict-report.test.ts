// `dentseg predict --report`: beside X.json comes X.report.pdf, a one-page PDF (A4, or
// Letter with --paper letter) whose text has the findings as suggestions, the teeth of a
// numbering model, the model and the notice; no PDF without the flag; a bad --paper is a
// usage error.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { HAS_SHARED_DATA, SAMPLES, runCliSync } from '../helpers/paths.js';
import { HAS_POPPLER, pdfText } from '../helpers/report-tools.js';
import { tempDir, writeTinyModel } from './helpers.js';

const dir = tempDir('dentseg-predict-report-');
const fdiModel = path.join(dir, 'fdi');
const input = path.join(dir, 'pano.png');

describe.skipIf(!HAS_SHARED_DATA)('predict --report', () => {
  beforeAll(async () => {
    await writeTinyModel(fdiModel, {
      classes: 33,
      classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
    });
    const png = await sharp(path.join(SAMPLES, 'images', 'abdi-1.png'))
      .greyscale()
      .resize({ width: 800 })
      .png()
      .toBuffer();
    writeFileSync(input, png);
  });

  it('writes X.report.pdf beside X.json, on Letter with --paper letter', async () => {
    const out = path.join(dir, 'out');
    const run = runCliSync([
      'predict',
      '--model',
      fdiModel,
      '--input',
      input,
      '--output',
      out,
      '--report',
      '--paper',
      'letter',
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(path.join(out, 'pano.json'))).toBe(true);
    const pdf = readFileSync(path.join(out, 'pano.report.pdf'));
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPageCount()).toBe(1);
    const { width, height } = doc.getPage(0).getSize();
    expect([width, height]).toEqual([612, 792]);
    if (!HAS_POPPLER) return;
    const json = JSON.parse(readFileSync(path.join(out, 'pano.json'), 'utf8')) as {
      findings: { class: string }[];
      teeth: unknown[];
    };
    const text = pdfText(pdf, 'predict.pdf');
    expect(text).toContain('Research use only; not a medical device.');
    expect(text).toContain('pano.png');
    expect(text).toContain('tiny-fdi 0.0.1');
    expect(text).toContain(`Findings (${json.findings.length})`);
    expect(text).toMatch(new RegExp(`f1\\s+${json.findings[0]?.class ?? ''}\\s.*suggested`));
    expect(text).toMatch(new RegExp(`Teeth:\\s+${json.teeth.length} found`));
    expect(text).toMatch(/Reviewed:\s+not reviewed/);
  });

  it('writes no PDF without --report, and refuses an unknown paper size', () => {
    const out = path.join(dir, 'plain');
    const run = runCliSync(['predict', '--model', fdiModel, '--input', input, '--output', out]);
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(path.join(out, 'pano.report.pdf'))).toBe(false);
    const bad = runCliSync([
      'predict',
      '--model',
      fdiModel,
      '--input',
      input,
      '--output',
      out,
      '--report',
      '--paper',
      'b5',
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/one of a4, letter for --paper but received "b5"/);
  });
});
