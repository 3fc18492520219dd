// Batch helpers of `dentseg predict`: folder expansion rules, unique output stems, CSV
// quoting of paths and messages.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandInputs, summaryCsv, uniqueStems } from '../../src/infer/batch.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('predict batch helpers', () => {
  it('takes image files from folders (sorted), skips our outputs and other files', async () => {
    const f = path.join(dir, 'in');
    mkdirSync(path.join(f, 'sub'), { recursive: true });
    for (const n of [
      'b.PNG',
      'a.dcm',
      'c.mask.png',
      'c.overlay.png',
      'notes.txt',
      '.hidden.png',
      'x.tif',
    ])
      writeFileSync(path.join(f, n), '');
    const { files, skipped } = await expandInputs([f, 'missing.png', path.join(f, 'notes.txt')]);
    expect(files).toEqual([
      path.join(f, 'a.dcm'),
      path.join(f, 'b.PNG'),
      path.join(f, 'x.tif'),
      'missing.png',
      path.join(f, 'notes.txt'),
    ]);
    expect(skipped).toBe(3);
  });

  it('makes output stems unique within a batch', () => {
    expect(uniqueStems(['a/x.png', 'b/x.jpg', 'x.dcm', 'y'])).toEqual(['x', 'x-2', 'x-3', 'y']);
  });

  it('quotes CSV fields holding commas or quotes', () => {
    const csv = summaryCsv([
      {
        input: 'a,b.png',
        ok: false,
        stem: 'a,b',
        error: { code: 'E_IMAGE_DECODE', message: 'a,b.png: "bad"' },
      },
    ]);
    // teeth and missing (numbering models) come last, empty here
    expect(csv.split('\n')[1]).toBe(
      '"a,b.png",failed,,,,,,,,,,,E_IMAGE_DECODE,"a,b.png: ""bad""",,',
    );
  });

  it('lists teeth and missing numbers space-separated in the last two columns', () => {
    const csv = summaryCsv([
      { input: 'x.png', ok: true, stem: 'x', teeth: [11, 12, 36], missing: [18, 28] },
    ]).split('\n');
    expect(csv[0]!.split(',').slice(-2)).toEqual(['teeth', 'missing']);
    expect(csv[1]!.split(',').slice(-2)).toEqual(['11 12 36', '18 28']);
  });
});
