// Batch helpers of `dentseg predict`: folder expansion rules (by extension or content),
// unique output stems, CSV quoting of paths and messages.
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

  it('takes files without an image extension from folders when their content is one', async () => {
    const f = path.join(dir, 'by-content');
    mkdirSync(f, { recursive: true });
    const dicom = Buffer.alloc(300);
    dicom.write('DICM', 128, 'latin1');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    writeFileSync(path.join(f, 'IM0001'), dicom); // as PACS exports write them
    writeFileSync(path.join(f, '1.2.840.10008.99.17'), dicom); // named by UID
    writeFileSync(path.join(f, 'scan.export'), png);
    writeFileSync(path.join(f, 'README'), 'notes, not an image\n'.repeat(20));
    writeFileSync(path.join(f, 'short'), 'DI');
    const { files, skipped } = await expandInputs([f]);
    expect(files).toEqual(
      ['1.2.840.10008.99.17', 'IM0001', 'scan.export'].map((n) => path.join(f, n)),
    );
    expect(skipped).toBe(2);
  });

  it('makes output stems unique within a batch', () => {
    expect(uniqueStems(['a/x.png', 'b/x.jpg', 'x.dcm', 'y'])).toEqual(['x', 'x-2', 'x-3', 'y']);
    // Only image extensions are cut: DICOM files named by UID keep their whole name.
    expect(uniqueStems(['d/1.2.840.5.17', 'd/1.2.840.5.18', 'd/IM0001'])).toEqual([
      '1.2.840.5.17',
      '1.2.840.5.18',
      'IM0001',
    ]);
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
    // teeth and missing (numbering models), quality and its score, caries and its teeth
    // (model sets): empty here
    expect(csv.split('\n')[1]).toBe(
      '"a,b.png",failed,,,,,,,,,,,E_IMAGE_DECODE,"a,b.png: ""bad""",,,,,,',
    );
  });

  it('lists teeth and missing numbers space-separated, then the input check', () => {
    const csv = summaryCsv([
      { input: 'x.png', ok: true, stem: 'x', teeth: [11, 12, 36], missing: [18, 28] },
      {
        input: 'y.png',
        ok: true,
        stem: 'y',
        quality: { panoramic: false, score: 0.01, issues: ['not a panoramic X-ray', 'noisy'] },
      },
      { input: 'z.png', ok: true, stem: 'z', quality: { panoramic: true, score: 0.9, issues: [] } },
    ]).split('\n');
    // New columns go at the end, so that readers counting columns still find the old ones.
    expect(csv[0]!.split(',').slice(-6)).toEqual([
      'teeth',
      'missing',
      'quality',
      'quality_score',
      'caries',
      'caries_teeth',
    ]);
    expect(csv[1]!.split(',').slice(-6)).toEqual(['11 12 36', '18 28', '', '', '', '']);
    expect(csv[2]!.split(',').slice(-4, -2)).toEqual(['not a panoramic X-ray; noisy', '0.01']);
    expect(csv[3]!.split(',').slice(-4, -2)).toEqual(['ok', '0.9']);
  });
});
