// `dentseg evaluate --degrade`: the inputs are damaged before the model sees them (the
// predictions change), reproducibly per seed, and the report records the spec; --enhance
// overrides the model's preprocess.enhance.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, UFBA, runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';

const dir = tempDir('dentseg-degrade-');
const STEMS = ['cate1-00005', 'cate2-00001'];

beforeAll(async () => {
  await writeTinyModel(path.join(dir, 'model'));
  if (!HAS_SHARED_DATA) return;
  mkdirSync(path.join(dir, 'images'));
  mkdirSync(path.join(dir, 'masks'));
  for (const s of STEMS) {
    const img = path.join(UFBA, 'images', `${s}.jpg`);
    if (!existsSync(img)) continue;
    copyFileSync(img, path.join(dir, 'images', `${s}.jpg`));
    copyFileSync(path.join(UFBA, 'masks', `${s}.png`), path.join(dir, 'masks', `${s}.png`));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Evaluate the tiny model with `extra` flags; the report and the per-image CSV. */
function evaluate(name: string, extra: string[]): { report: Record<string, unknown>; csv: string } {
  const json = path.join(dir, `${name}.json`);
  const csv = path.join(dir, `${name}.csv`);
  const run = runCliSync([
    'evaluate',
    '--model',
    path.join(dir, 'model'),
    '--images',
    path.join(dir, 'images'),
    '--masks',
    path.join(dir, 'masks'),
    '--json',
    json,
    '--per-image',
    csv,
    ...extra,
  ]);
  expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
  expect(run.status).toBe(0);
  return {
    report: JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>,
    csv: readFileSync(csv, 'utf8'),
  };
}

describe.skipIf(!HAS_SHARED_DATA)('dentseg evaluate --degrade', () => {
  it('degrades each input reproducibly and records the spec', () => {
    const clean = evaluate('clean', []);
    expect(clean.report.degrade).toBeUndefined();
    const a = evaluate('a', ['--degrade', 'noise:0.2,blur:1.5', '--degrade-seed', '3']);
    const b = evaluate('b', ['--degrade', ' noise:0.2, blur:1.5', '--degrade-seed', '3']);
    const c = evaluate('c', ['--degrade', 'noise:0.2,blur:1.5', '--degrade-seed', '4']);
    expect(a.report.degrade).toEqual({ spec: 'noise:0.2,blur:1.5', seed: 3 });
    expect(a.csv).not.toBe(clean.csv);
    expect(b.csv).toBe(a.csv);
    expect(c.csv).not.toBe(a.csv);
  });

  it('--enhance overrides the model setting and is recorded', () => {
    const none = evaluate('e-none', ['--degrade', 'noise:0.2', '--enhance', 'none']);
    const list = evaluate('e-list', ['--degrade', 'noise:0.2', '--enhance', 'denoise:0.3,unsharp']);
    expect(none.report.enhance).toBe('none');
    expect(list.report.enhance).toBe('denoise:0.3,unsharp:1');
    expect(list.csv).not.toBe(none.csv);
  });

  it('predict rejects a bad --enhance with E_USAGE', () => {
    const run = runCliSync([
      'predict',
      '--model',
      path.join(dir, 'model'),
      '--input',
      path.join(dir, 'images'),
      '--output',
      path.join(dir, 'out'),
      '--enhance',
      'sharpen',
    ]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/E_USAGE/);
    expect(run.stderr).toMatch(/--enhance: "sharpen"/);
  });

  it('rejects a bad spec with E_USAGE naming the flag and the token', () => {
    const run = runCliSync([
      'evaluate',
      '--model',
      path.join(dir, 'model'),
      '--images',
      path.join(dir, 'images'),
      '--masks',
      path.join(dir, 'masks'),
      '--json',
      path.join(dir, 'bad.json'),
      '--degrade',
      'noise:0.1,blurr:2',
    ]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/E_USAGE/);
    expect(run.stderr).toMatch(/--degrade: "blurr:2"/);
    const seed = runCliSync([
      'evaluate',
      '--json',
      path.join(dir, 'x.json'),
      '--images',
      dir,
      '--masks',
      dir,
      '--degrade',
      'blur:1',
      '--degrade-seed',
      '-1',
    ]);
    expect(seed.stderr).toMatch(/Expected an integer ≥ 0 for --degrade-seed but received "-1"/);
  });
});
