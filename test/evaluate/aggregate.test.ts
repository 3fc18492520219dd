// The evaluation report by hand: pooled vs per-image means, empty ground truth skipped and
// its false-positive share, multi-class per-class figures and the macro pool.
import { describe, expect, it } from 'vitest';
import { EvaluationAccumulator } from '../../src/evaluate/aggregate.js';

const u8 = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('EvaluationAccumulator', () => {
  it('pools pixels over the set and averages per image, skipping empty ground truth', () => {
    const acc = new EvaluationAccumulator('binary', ['teeth']);
    // 2×2 images. A: perfect. B: tp 1, fp 1, fn 1. C: empty truth, 1 false-positive pixel.
    acc.add('a', u8(1, 1, 0, 0), u8(1, 1, 0, 0), 2, 2);
    const b = acc.add('b', u8(1, 1, 0, 0), u8(1, 0, 1, 0), 2, 2);
    const c = acc.add('c', u8(0, 0, 0, 1), u8(0, 0, 0, 0), 2, 2);
    expect(b.dice).toBeCloseTo(0.5);
    expect(c.dice).toBeNull();
    const r = acc.report();
    expect(r.images).toBe(3);
    // pooled: tp 3, fp 2, fn 1, tn 6
    expect(r.pooled.dice).toBeCloseTo(6 / 9);
    expect(r.pooled.iou).toBeCloseTo(3 / 6);
    expect(r.pooled.accuracy).toBeCloseTo(9 / 12);
    expect(r.pooled.precision).toBeCloseTo(3 / 5);
    expect(r.pooled.recall).toBeCloseTo(3 / 4);
    expect(r.perImage.dice).toBeCloseTo((1 + 0.5) / 2);
    expect(r.perImage.iou).toBeCloseTo((1 + 1 / 3) / 2);
    expect(r.perImage.accuracy).toBeCloseTo((1 + 0.5 + 0.75) / 3);
    expect(r.perImage.emptyGroundTruth).toBe(1);
    expect(r.perImage.emptyGroundTruthFpShare).toBeCloseTo(1 / 4);
    expect(r.perClass).toBeUndefined();
    // IoU = D / (2 − D) per image.
    for (const row of acc.rows) {
      if (row.dice !== null) expect(row.iou).toBeCloseTo(row.dice / (2 - row.dice));
    }
  });

  it('skips infinite HD95 (empty prediction) and counts it', () => {
    const acc = new EvaluationAccumulator('binary', ['teeth']);
    const truth = new Uint8Array(64);
    truth[9] = 1;
    acc.add('miss', new Uint8Array(64), truth, 8, 8);
    acc.add('hit', truth, truth, 8, 8);
    const r = acc.report();
    expect(r.perImage.hd95).toBe(0);
    expect(r.perImage.hd95Skipped).toBe(1);
  });

  it('multi-class: per-class pooled figures, macro pool, pixel accuracy', () => {
    const acc = new EvaluationAccumulator('multiclass', ['background', '11', '12', '13']);
    acc.add('a', u8(1, 1, 2, 0), u8(1, 2, 2, 0), 2, 2);
    acc.add('b', u8(0, 0, 0, 0), u8(0, 0, 0, 0), 2, 2);
    const r = acc.report();
    expect(r.pooled.accuracy).toBeCloseTo(7 / 8);
    const c11 = r.perClass!['11']!;
    const c12 = r.perClass!['12']!;
    expect(c11.pooled.dice).toBeCloseTo(2 / 3); // tp 1, fp 1
    expect(c12.pooled.dice).toBeCloseTo(2 / 3); // tp 1, fn 1
    expect(c11.images).toBe(1);
    expect(r.perClass!['13']!.images).toBe(0);
    // class 13 never occurs: left out of the macro average
    expect(r.pooled.dice).toBeCloseTo(2 / 3);
    expect(r.perImage.emptyGroundTruth).toBe(1);
    expect(r.perImage.dice).toBeCloseTo(2 / 3);
  });
});
