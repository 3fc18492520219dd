/**
 * `bench:int8` on a numbering model: fp32 and int8 are scored on the FDI masks with
 * `evaluateModel`, so the report carries the union Dice, mean tooth Dice, F1 and chart
 * accuracy of both and their losses (not only the teeth-union Dice a binary mask would give);
 * a binary model keeps its binary masks. A tiny numbering model on 3 ufba425 images.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FDI_CLASSES,
  FDI_MASKS,
  int8DataOptions,
  int8Dice,
  type Int8DiceResult,
} from '../../bench/int8-dice.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { exportInt8 } from '../../src/onnx/int8.js';
import { exportOnnx } from '../../src/onnx/index.js';
import { HAS_SHARED_DATA, REPO_ROOT, UFBA } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';

const dir = tempDir('dentseg-int8-fdi-');
const data = path.join(dir, 'data');
const numbering = path.join(dir, 'numbering');
const binary = path.join(dir, 'binary');
const STEMS = ['cate1-00005', 'cate1-00011', 'cate1-00014'];

beforeAll(async () => {
  if (!HAS_SHARED_DATA) return;
  for (const sub of ['images', 'masks', FDI_MASKS])
    mkdirSync(path.join(data, sub), { recursive: true });
  for (const s of STEMS) {
    copyFileSync(path.join(UFBA, 'images', `${s}.jpg`), path.join(data, 'images', `${s}.jpg`));
    copyFileSync(path.join(UFBA, 'masks', `${s}.png`), path.join(data, 'masks', `${s}.png`));
    copyFileSync(path.join(UFBA, FDI_MASKS, `${s}.png`), path.join(data, FDI_MASKS, `${s}.png`));
  }
  copyFileSync(path.join(UFBA, FDI_CLASSES), path.join(data, FDI_CLASSES));
  // two images calibrate, one is scored
  writeFileSync(
    path.join(data, 'split.csv'),
    `stem,split\n${STEMS[0]},train\n${STEMS[1]},train\n${STEMS[2]},val\n`,
  );
  await writeTinyModel(numbering, {
    classes: 33,
    classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
  });
  await writeTinyModel(binary);
  for (const model of [numbering, binary]) {
    await exportOnnx(model);
    await exportInt8(model, {
      calibration: path.join(data, 'images'),
      split: path.join(data, 'split.csv'),
    });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!HAS_SHARED_DATA)('bench:int8 on a numbering model', () => {
  it('a binary model keeps the binary masks and reports no tooth scores', async () => {
    expect(int8DataOptions(binary, data)).toEqual({
      images: path.join(data, 'images'),
      masks: path.join(data, 'masks'),
      split: path.join(data, 'split.csv'),
    });
    const r = await int8Dice(binary, data);
    expect(r.images).toBe(1);
    expect(r.fp32).not.toHaveProperty('meanToothDice');
    expect(r).not.toHaveProperty('losses');
  });

  it('names the missing FDI masks of a numbering model', () => {
    const bare = path.join(dir, 'bare');
    mkdirSync(bare, { recursive: true });
    expect(() => int8DataOptions(numbering, bare)).toThrow(
      `numbering model: it needs ${path.join(bare, FDI_MASKS)}`,
    );
  });

  it('npm run bench:int8 -- --model DIR scores both on the FDI masks with the tooth scores', () => {
    const json = path.join(dir, 'int8.json');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'bench/int8.ts'),
        '--model',
        numbering,
        '--data',
        data,
        '--pairs',
        '1',
        '--no-web',
        '--json',
        json,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(run.status).toBe(0);
    const { dice: r } = JSON.parse(readFileSync(json, 'utf8')) as { dice: Int8DiceResult };
    expect(r).toMatchObject({ subset: 'val', images: 1 });
    expect(r.masks).toMatch(new RegExp(`${FDI_MASKS}$`));
    const keys = ['chartAccuracy', 'f1', 'meanToothDice', 'perImageMean', 'pooled', 'unionDice'];
    for (const s of [r.fp32, r.int8]) {
      expect(Object.keys(s).sort()).toEqual(keys);
      for (const v of Object.values(s)) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    // the random model marks teeth somewhere, so the union is not empty
    expect(r.fp32.unionDice).toBeGreaterThan(0);
    expect(r.losses).toEqual({
      unionDice: expect.closeTo(r.fp32.unionDice! - r.int8.unionDice!, 4),
      meanToothDice: expect.closeTo(r.fp32.meanToothDice! - r.int8.meanToothDice!, 4),
      f1: expect.closeTo(r.fp32.f1! - r.int8.f1!, 4),
      chartAccuracy: expect.closeTo(r.fp32.chartAccuracy! - r.int8.chartAccuracy!, 4),
    });
  });
});
