/**
 * Opening a folder data set: the mask-pattern placeholders ({stem}, {name}, {file}) on a
 * temp folder holding both common layouts, and split-CSV parts other than train/val,
 * which are counted in a warning rather than dropped in silence.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskFileName, openDataset } from '../../src/data/index.node.js';
import { runCliSync } from '../helpers/paths.js';

const dir = path.join(os.tmpdir(), `dentseg-dataset-${process.pid}`);
const images = path.join(dir, 'images');
const kaggle = path.join(dir, 'kaggle'); // X.jpg ↔ X.jpg_mask.png
const plain = path.join(dir, 'plain'); // X.jpg ↔ X.png
const split = path.join(dir, 'split.csv');

beforeAll(async () => {
  for (const d of [images, kaggle, plain]) mkdirSync(d, { recursive: true });
  const grey = (v: number): ReturnType<typeof sharp> =>
    sharp(Buffer.alloc(8 * 6, v), { raw: { width: 8, height: 6, channels: 1 } });
  for (const stem of ['p1', 'p2', 'p3', 'p4']) {
    await grey(100)
      .jpeg()
      .toFile(path.join(images, `${stem}.jpg`));
    await grey(255)
      .png()
      .toFile(path.join(kaggle, `${stem}.jpg_mask.png`));
    await grey(0)
      .png()
      .toFile(path.join(plain, `${stem}.png`));
  }
  writeFileSync(split, 'file_name,split\np1.jpg,train\np2.jpg,valid\np3.jpg,test\np4.jpg,test\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = (refs: readonly { id: string }[]): string[] => refs.map((r) => r.id).sort();

describe('--mask-pattern', () => {
  it('{stem} and {name} are the name without extension, {file} the name with it', () => {
    expect(maskFileName('{stem}.png', 'X.jpg')).toBe('X.png');
    expect(maskFileName('{name}_mask.png', 'X.jpg')).toBe('X_mask.png');
    expect(maskFileName('{file}_mask.png', 'X.jpg')).toBe('X.jpg_mask.png');
    expect(maskFileName('{stem}/{file}.{stem}.png', 'a.b.tif')).toBe('a.b/a.b.tif.a.b.png');
  });

  it.each([
    ['{file}_mask.png', kaggle],
    ['{stem}.png', plain],
    ['{name}.png', plain],
  ])('%s finds every mask of its layout', async (pattern, masks) => {
    const ds = await openDataset({ images, masks, maskPattern: pattern, valFraction: 0.25 });
    expect(ds.problems).toEqual([]);
    expect(ids([...ds.train, ...ds.val])).toEqual(['p1', 'p2', 'p3', 'p4']);
  });

  it('the wrong pattern for a layout names the mask it expected', async () => {
    const ds = await openDataset({ images, masks: kaggle, maskPattern: '{stem}_mask.png' });
    expect(ds.problems).toHaveLength(4);
    expect(ds.problems[0]!.message).toBe(`no mask (expected ${path.join(kaggle, 'p1_mask.png')})`);
  });

  it('a pattern without a placeholder is refused, naming the three', async () => {
    await expect(openDataset({ images, masks: plain, maskPattern: 'mask.png' })).rejects.toThrow(
      /--mask-pattern "mask\.png" must contain \{stem\} \(or \{name\}.*\) or \{file\}/,
    );
  });
});

describe('split parts other than train/val', () => {
  it('are counted in a warning naming the split file', async () => {
    const ds = await openDataset({ images, masks: plain, split });
    expect([ids(ds.train), ids(ds.val)]).toEqual([['p1'], ['p2']]);
    expect(ds.warnings).toEqual([
      `--split ${split}: 2 rows left out, marked "test" (2); only train and val are used`,
    ]);
    const none = await openDataset({ images, masks: plain, valFraction: 0.25 });
    expect(none.warnings).toEqual([]);
  });

  it('a left-out file carries the part it was listed in', async () => {
    rmSync(path.join(plain, 'p3.png'));
    rmSync(path.join(plain, 'p2.png'));
    try {
      const ds = await openDataset({ images, masks: plain, split });
      expect(ds.problems.map((p) => [p.id, p.part, p.code])).toEqual([
        ['p2', 'val', 'E_MASK_MISMATCH'],
        ['p3', 'test', 'E_MASK_MISMATCH'],
      ]);
      const byFraction = await openDataset({ images, masks: plain });
      expect(byFraction.problems.map((p) => p.part)).toEqual([undefined, undefined]);
    } finally {
      for (const s of ['p2', 'p3'])
        await sharp(Buffer.alloc(48), { raw: { width: 8, height: 6, channels: 1 } })
          .png()
          .toFile(path.join(plain, `${s}.png`));
    }
  });

  it('dentseg data check prints the warning; --help documents the three placeholders', () => {
    const r = runCliSync([
      'data',
      'check',
      '--images',
      images,
      '--masks',
      kaggle,
      '--mask-pattern',
      '{file}_mask.png',
      '--split',
      split,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('train 1, val 1');
    expect(r.stdout).toContain(
      `warning: --split ${split}: 2 rows left out, marked "test" (2); only train and val are used`,
    );
    expect(r.stdout).toContain('ok: 2 samples, no errors');
    const help = runCliSync(['data', 'check', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--mask-pattern <pattern>.*\{stem\}.*\{name\}.*\{file\}/);
    expect(help).toContain("'{file}_mask.png'");
  });
});
