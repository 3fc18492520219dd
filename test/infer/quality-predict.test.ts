// The input check in `dentseg predict`: X.json carries `quality`, summary.csv a `quality`
// column; an input that is not a panoramic X-ray keeps exit 0 but its findings (and a
// numbering model's teeth and missing numbers) are withheld unless --force.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, predictBatch, type LoadedModel } from '../../src/infer/index.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { HAS_SHARED_DATA, SAMPLES, runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from './helpers.js';

const dir = tempDir('dentseg-quality-');
const blank = path.join(dir, 'blank.png');
const real = path.join(SAMPLES, 'images', 'abdi-5.png'); // edentulous, still a panoramic
let binary: LoadedModel;
let numbering: LoadedModel;
const binaryDir = path.join(dir, 'binary');

interface Json {
  findings: unknown[];
  teeth?: unknown[];
  missing?: unknown[];
  quality: { panoramic: boolean; score: number; issues: string[]; withheld: boolean };
}
const readJson = (out: string, stem: string): Json =>
  JSON.parse(readFileSync(path.join(out, `${stem}.json`), 'utf8')) as Json;

/** The rows of a summary.csv as objects (no quoted commas in these tests). */
function csvRows(file: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const keys = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i]!, v])));
}

beforeAll(async () => {
  await initEngine();
  await writeTinyModel(binaryDir);
  const fdiDir = path.join(dir, 'fdi');
  await writeTinyModel(fdiDir, {
    classes: 33,
    classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
  });
  binary = await loadModel(binaryDir);
  numbering = await loadModel(fdiDir);
  writeFileSync(
    blank,
    await sharp(Buffer.alloc(300 * 150, 90), { raw: { width: 300, height: 150, channels: 1 } })
      .png()
      .toBuffer(),
  );
});
afterAll(() => {
  binary.dispose();
  numbering.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const base = { threshold: 0, tta: false, concurrency: 1, keepDicomTags: false };

describe.skipIf(!HAS_SHARED_DATA)('predict: the input check', () => {
  it('writes quality to X.json and summary.csv; withholds findings of a non-panoramic', async () => {
    const out = path.join(dir, 'out');
    const r = await predictBatch(binary, { ...base, inputs: [blank, real], outputDir: out });
    expect(r.failed).toBe(0);
    const rows = csvRows(r.summaryCsv);
    expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['quality', 'quality_score']));
    expect(rows.map((row) => [row.input, row.quality])).toEqual([
      [blank, 'blank'],
      [real, 'ok'],
    ]);
    const b = readJson(out, 'blank');
    expect(b.quality).toMatchObject({ panoramic: false, issues: ['blank'], withheld: true });
    expect(b.findings).toEqual([]);
    const p = readJson(out, 'abdi-5');
    expect(p.quality).toMatchObject({ panoramic: true, issues: [], withheld: false });
    // Threshold 0 marks every pixel: the panoramic keeps its (one) finding.
    expect(p.findings.length).toBeGreaterThan(0);
  });

  it('--force keeps the findings of a non-panoramic', async () => {
    const out = path.join(dir, 'forced');
    const r = await predictBatch(binary, { ...base, inputs: [blank], outputDir: out, force: true });
    const b = readJson(out, 'blank');
    expect(b.quality).toMatchObject({ panoramic: false, withheld: false });
    expect(b.findings.length).toBeGreaterThan(0);
    expect(csvRows(r.summaryCsv)[0]!.quality).toBe('blank');
  });

  it('withholds a numbering model teeth and missing numbers (empty lists)', async () => {
    const out = path.join(dir, 'fdi-out');
    await predictBatch(numbering, { ...base, inputs: [blank], outputDir: out });
    const b = readJson(out, 'blank');
    expect([b.findings, b.teeth, b.missing]).toEqual([[], [], []]);
  });

  it('the CLI exits 0, lists the input as not panoramic, and --force is a flag', () => {
    const out = path.join(dir, 'cli');
    const args = ['predict', '--model', binaryDir, '--input', blank, '--output', out];
    const run = runCliSync([...args, '--threshold', '0']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/1 input\(s\) do not look like a panoramic dental X-ray/);
    expect(readJson(out, 'blank').findings).toEqual([]);
    const forced = runCliSync([...args, '--threshold', '0', '--force']);
    expect(forced.status).toBe(0);
    expect(readJson(out, 'blank').findings.length).toBeGreaterThan(0);
  });
});
