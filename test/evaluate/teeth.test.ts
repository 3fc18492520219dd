// Tooth-level scores by hand on 40×1 class maps: a swapped pair of teeth, a missing tooth,
// an extra region, the IoU ≥ 0.5 boundary and the presence threshold; then the same
// images through EvaluationAccumulator, whose pooled and per-class figures must not move.
import { describe, expect, it } from 'vitest';
import { EvaluationAccumulator } from '../../src/evaluate/aggregate.js';
import { perImageCsv } from '../../src/evaluate/evaluate.js';
import { TeethAccumulator } from '../../src/evaluate/teeth.js';
import { FDI_NUMBERS, numberingScheme } from '../../src/numbering/index.js';

const CLASSES = ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)];
const SCHEME = numberingScheme(CLASSES)!;
const c = (fdi: number): number => SCHEME.classOfFdi.get(fdi)!;

/** A 40-pixel map from runs `[fdi, from, to)`; the rest is background. */
function map(...runs: [number, number, number][]): Uint8Array {
  const m = new Uint8Array(40);
  for (const [fdi, a, b] of runs) m.fill(c(fdi), a, b);
  return m;
}

// Truth: 11 on 0–9, 12 on 10–19, 21 on 20–29 (10 px each), background 30–39.
const TRUTH = map([11, 0, 10], [12, 10, 20], [21, 20, 30]);
const SWAPPED = map([12, 0, 10], [11, 10, 20], [21, 20, 30]);
const MISSING = map([11, 0, 10], [21, 20, 30]);
const EXTRA = map([11, 0, 10], [12, 10, 20], [21, 20, 30], [22, 30, 36]);

describe('TeethAccumulator', () => {
  it('a swapped pair: both numbers miss (IoU 0), the chart is still right', () => {
    const acc = new TeethAccumulator(SCHEME);
    expect(acc.add(SWAPPED, TRUTH)).toEqual({
      matched: 1,
      predicted: 3,
      truth: 3,
      chartCorrect: 32,
    });
    const { teeth, union } = acc.report();
    expect(teeth.precision).toBeCloseTo(1 / 3);
    expect(teeth.recall).toBeCloseTo(1 / 3);
    expect(teeth.f1).toBeCloseTo(1 / 3);
    expect(teeth.chartAccuracy).toBe(1);
    expect(teeth.meanToothDice).toBeCloseTo(1 / 3); // 11: 0, 12: 0, 21: 1
    expect(union).toEqual({ dice: 1, iou: 1, precision: 1, recall: 1 });
  });

  it('a missing tooth: recall drops, one chart position wrong', () => {
    const acc = new TeethAccumulator(SCHEME);
    expect(acc.add(MISSING, TRUTH)).toEqual({
      matched: 2,
      predicted: 2,
      truth: 3,
      chartCorrect: 31,
    });
    const { teeth, union } = acc.report();
    expect(teeth.precision).toBe(1);
    expect(teeth.recall).toBeCloseTo(2 / 3);
    expect(teeth.f1).toBeCloseTo(0.8);
    expect(teeth.chartAccuracy).toBeCloseTo(31 / 32);
    expect(teeth.meanToothDice).toBeCloseTo(2 / 3); // 12 has truth only: Dice 0
    // union: tp 20, fn 10
    expect(union.dice).toBeCloseTo(40 / 50);
    expect(union.iou).toBeCloseTo(20 / 30);
    expect(union.precision).toBe(1);
    expect(union.recall).toBeCloseTo(2 / 3);
  });

  it('an extra region: precision drops, one chart position wrong', () => {
    const acc = new TeethAccumulator(SCHEME);
    expect(acc.add(EXTRA, TRUTH)).toEqual({ matched: 3, predicted: 4, truth: 3, chartCorrect: 31 });
    const { teeth, union } = acc.report();
    expect(teeth.precision).toBeCloseTo(3 / 4);
    expect(teeth.recall).toBe(1);
    expect(teeth.f1).toBeCloseTo(6 / 7);
    expect(teeth.meanToothDice).toBeCloseTo(3 / 4); // 22 predicted only: Dice 0
    expect(union.dice).toBeCloseTo(60 / 66); // tp 30, fp 6
    expect(union.precision).toBeCloseTo(30 / 36);
  });

  it('pools the three images: counts summed, chart averaged, Dice pooled per number', () => {
    const acc = new TeethAccumulator(SCHEME);
    for (const p of [SWAPPED, MISSING, EXTRA]) acc.add(p, TRUTH);
    const { teeth, union } = acc.report();
    expect(acc.images).toBe(3);
    expect([teeth.matched, teeth.predictedTeeth, teeth.trueTeeth]).toEqual([6, 9, 9]);
    expect(teeth.precision).toBeCloseTo(2 / 3);
    expect(teeth.f1).toBeCloseTo(2 / 3);
    expect(teeth.chartAccuracy).toBeCloseTo((1 + 31 / 32 + 31 / 32) / 3);
    // 11: 2·20/(30+30); 12: 2·10/(20+30); 21: 1; 22: 0; the other 28 numbers never occur.
    expect(teeth.meanToothDice).toBeCloseTo((40 / 60 + 20 / 50 + 1 + 0) / 4);
    // union: tp 30+20+30, fp 6, fn 10
    expect(union.dice).toBeCloseTo(160 / 176);
  });

  it('matches from IoU 0.5 and counts presence from minToothPx', () => {
    const half = new TeethAccumulator(SCHEME);
    expect(half.add(map([11, 0, 5]), map([11, 0, 10])).matched).toBe(1); // IoU 5/10
    expect(half.add(map([11, 0, 4]), map([11, 0, 10])).matched).toBe(0); // IoU 4/10
    const min = new TeethAccumulator(SCHEME);
    // 3 px of 12 and 4 px of 21 in the prediction, 21 absent from the truth
    const r = min.add(
      map([11, 0, 10], [12, 10, 13], [21, 20, 24]),
      TRUTH.map((v) => (v === c(21) ? 0 : v)),
      4,
    );
    expect(r).toEqual({ matched: 1, predicted: 2, truth: 2, chartCorrect: 30 });
    expect(new TeethAccumulator(SCHEME).report().teeth.meanToothDice).toBeNaN();
    expect(() => min.add(new Uint8Array(3), TRUTH)).toThrow(RangeError);
  });
});

describe('EvaluationAccumulator with a numbering scheme', () => {
  it('adds teeth and union; pooled and perClass keep their meaning', () => {
    const plain = new EvaluationAccumulator('multiclass', CLASSES);
    const numbered = new EvaluationAccumulator('multiclass', CLASSES, SCHEME);
    for (const [i, p] of [SWAPPED, MISSING, EXTRA].entries()) {
      plain.add(`i${i}`, p, TRUTH, 40, 1);
      numbered.add(`i${i}`, p, TRUTH, 40, 1);
    }
    const a = plain.report();
    const b = numbered.report();
    expect(a.teeth).toBeUndefined();
    expect(a.union).toBeUndefined();
    expect(b.pooled).toEqual(a.pooled);
    expect(b.perClass).toEqual(a.perClass);
    expect(b.perImage).toEqual(a.perImage);
    expect(b.teeth!.f1).toBeCloseTo(2 / 3);
    expect(b.union!.dice).toBeCloseTo(160 / 176);
    // per-number pooled Dice is the macro pooled Dice over the numbers that occur
    expect(b.teeth!.meanToothDice).toBeCloseTo(b.pooled.dice);
    // per image: the tooth counts, and the CSV columns for them (numbering models only)
    expect(
      numbered.rows.map((r) => [r.teethMatched, r.teethPredicted, r.teethTrue, r.chartCorrect]),
    ).toEqual([
      [1, 3, 3, 32],
      [2, 2, 3, 31],
      [3, 4, 3, 31],
    ]);
    const csv = perImageCsv(numbered.rows).split('\n');
    expect(csv[0]).toMatch(/,hd95,teeth_matched,teeth_predicted,teeth_true,chart_correct$/);
    expect(csv[2]).toMatch(/,2,2,3,31$/);
    expect(perImageCsv(plain.rows).split('\n')[0]).toMatch(/,hd95$/);
    // a binary accumulator never reports teeth, even given a scheme
    const bin = new EvaluationAccumulator('binary', ['teeth'], SCHEME);
    bin.add('x', TRUTH, TRUTH, 40, 1);
    expect(bin.report().teeth).toBeUndefined();
  });
});
