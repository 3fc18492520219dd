/**
 * `dentseg data check` end to end on the real ufba425 (both layouts) and on a broken
 * temporary copy whose four bad files must all be named.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, runCliSync, UFBA } from '../helpers/paths.js';

describe.skipIf(!HAS_SHARED_DATA)('dentseg data check on ufba425', () => {
  it('mask folders + split.csv: 339 train, 43 val, no errors', () => {
    const r = runCliSync([
      'data',
      'check',
      '--images',
      path.join(UFBA, 'images'),
      '--masks',
      path.join(UFBA, 'masks'),
      '--split',
      path.join(UFBA, 'split.csv'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('train 339, val 43');
    expect(r.stdout).toContain('no errors');
    expect(r.status).toBe(0);
  });

  it('COCO train + valid files: 339 train, 43 val, 33 classes, no errors (JSON report)', () => {
    const r = runCliSync([
      'data',
      'check',
      '--json',
      '--multiclass',
      '--images',
      path.join(UFBA, 'images'),
      '--coco',
      path.join(UFBA, 'coco/train_annotations.coco.json'),
      '--val',
      path.join(UFBA, 'coco/valid_annotations.coco.json'),
    ]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      train: number;
      val: number;
      errors: unknown[];
      classes: string[];
    };
    expect([report.train, report.val, report.errors.length]).toEqual([339, 43, 0]);
    expect(report.classes).toHaveLength(33);
    expect(report.classes[1]).toBe('tooth 11');
  });
});

describe.skipIf(!HAS_SHARED_DATA)('dentseg data check on a broken copy', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the truncated JPEG, the missing mask, the wrong-size mask and the text file; exit 1', async () => {
    const images = path.join(dir, 'images');
    const masks = path.join(dir, 'masks');
    mkdirSync(images);
    mkdirSync(masks);
    const stems = ['cate1-00005', 'cate1-00011', 'cate1-00014', 'cate1-00017', 'cate1-00020'];
    const src = (s: string): string => path.join(UFBA, 'images', `${s}.jpg`);
    const msk = (s: string): string => path.join(UFBA, 'masks', `${s}.png`);
    // 0: good. 1: truncated JPEG. 2: mask missing. 3: mask 256² instead of 512².
    for (const s of stems.slice(0, 4)) copyFileSync(src(s), path.join(images, `${s}.jpg`));
    for (const s of [stems[0]!, stems[1]!]) copyFileSync(msk(s), path.join(masks, `${s}.png`));
    const jpeg = readFileSync(src(stems[1]!));
    writeFileSync(
      path.join(images, `${stems[1]}.jpg`),
      jpeg.subarray(0, Math.floor(jpeg.length / 2)),
    );
    await sharp(msk(stems[3]!))
      .resize(256, 256)
      .png()
      .toFile(path.join(masks, `${stems[3]}.png`));
    // 4: a text file named .png (with a mask, so its own format is what fails).
    writeFileSync(path.join(images, 'notes.png'), 'this is not an image\n');
    copyFileSync(msk(stems[4]!), path.join(masks, 'notes.png'));

    const r = runCliSync(['data', 'check', '--images', images, '--masks', masks]);
    expect(r.status).toBe(1);
    const out = r.stdout;
    expect(out).toMatch(/E_IMAGE_DECODE\s+\S*cate1-00011\.jpg/);
    expect(out).toMatch(/E_MASK_MISMATCH\s+\S*cate1-00014\.jpg: no mask/);
    expect(out).toMatch(/E_MASK_MISMATCH\s+\S*cate1-00017\.png: mask is 256×256, image is 512×512/);
    expect(out).toMatch(/E_IMAGE_FORMAT\s+\S*notes\.png/);
    expect(out).toContain('4 errors');
  });
});
