/** Fold summaries: mean and sample sd per metric, missing values skipped, the Markdown table. */
import { describe, expect, it } from 'vitest';
import { foldsTable, summariseFolds } from '../../src/evaluate/cross-validation.js';

const fold = (dice: number, sensitivity: number | null, fp: number) => ({
  pooled: { dice, iou: dice / (2 - dice), precision: 0.5, recall: null },
  lesions: { sensitivity, precision: 0.6, fpPerImage: fp },
});

describe('summariseFolds', () => {
  it('gives per-fold values, the mean and the sample standard deviation', () => {
    const s = summariseFolds([fold(0.5, 0.6, 1), fold(0.7, 0.8, 2), fold(0.6, null, 3)]);
    expect(s['pooled.dice'].perFold).toEqual([0.5, 0.7, 0.6]);
    expect(s['pooled.dice'].mean).toBeCloseTo(0.6, 12);
    expect(s['pooled.dice'].sd).toBeCloseTo(0.1, 12);
    expect(s['lesions.sensitivity']).toMatchObject({ perFold: [0.6, 0.8, null] });
    expect(s['lesions.sensitivity'].mean).toBeCloseTo(0.7, 12);
    expect(s['lesions.sensitivity'].sd).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(s['pooled.recall']).toEqual({ perFold: [null, null, null], mean: null, sd: null });
    expect(s['lesions.fpPerImage'].mean).toBe(2);
  });

  it('reports without lesions leave the lesion rows out of the table', () => {
    const s = summariseFolds([{ pooled: { dice: 0.5 } }, { pooled: { dice: 0.7 } }]);
    const table = foldsTable(s).trim().split('\n');
    expect(table[0]).toBe('| metric | fold 1 | fold 2 | mean ± sd |');
    expect(table).toContain('| `pooled.dice` | 0.500 | 0.700 | 0.600 ± 0.141 |');
    expect(table.some((l) => l.includes('lesions'))).toBe(false);
  });
});
