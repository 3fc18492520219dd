/**
 * Tooth-level scores of a numbering model: is each numbered tooth found where it is (match
 * by the same number at IoU ≥ 0.5), is the chart of present and missing teeth right, how
 * well each number's pixels agree, and how well all teeth together agree as one class.
 * Pure: typed arrays in, plain data out.
 */
import { FDI_NUMBERS, type NumberingScheme } from '../numbering/index.js';
import { addConfusion, dice, iou, precision, recall, type Confusion } from './metrics.js';

/** `teeth` of the evaluation report (all in 0…1). */
export interface TeethMetrics {
  /**
   * Over all teeth of all images: a predicted tooth (all pixels of one number) matches the
   * true tooth of the same number when their IoU is at least 0.5. Precision = matched /
   * predicted teeth, recall = matched / true teeth (1 when there is nothing to count).
   */
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of the 32 chart positions whose present/absent state is right, averaged over images. */
  readonly chartAccuracy: number;
  /**
   * Mean over the numbers of each number's Dice pooled over all images, skipping numbers
   * absent from both truth and prediction in every image (NaN when all are).
   */
  readonly meanToothDice: number;
  /** The counts behind precision and recall. */
  readonly matched: number;
  readonly predictedTeeth: number;
  readonly trueTeeth: number;
}

/** `union` of the evaluation report: all teeth as one class, pooled over all pixels. */
export interface UnionMetrics {
  readonly dice: number;
  readonly iou: number;
  readonly precision: number;
  readonly recall: number;
}

/** Tooth-level results of one image. */
export interface ImageTeeth {
  readonly matched: number;
  readonly predicted: number;
  readonly truth: number;
  /** Chart positions (of 32) whose present/absent state is right. */
  readonly chartCorrect: number;
}

const ZERO: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };

/**
 * Accumulates tooth-level scores image by image. A tooth is present in a mask when its
 * number has at least `minToothPx` pixels there (the rule `predict` uses, at the scoring
 * resolution); the same rule applies to the prediction and the truth.
 */
export class TeethAccumulator {
  readonly #scheme: NumberingScheme;
  readonly #k: number;
  #matched = 0;
  #predicted = 0;
  #truth = 0;
  #chart: number[] = [];
  #inter: Float64Array;
  #predPx: Float64Array;
  #truthPx: Float64Array;
  #union: Confusion = ZERO;

  constructor(scheme: NumberingScheme) {
    this.#scheme = scheme;
    this.#k = scheme.fdiOfClass.length;
    this.#inter = new Float64Array(this.#k);
    this.#predPx = new Float64Array(this.#k);
    this.#truthPx = new Float64Array(this.#k);
  }

  /**
   * Score one image: class-index maps of the same length (0 = background), and the
   * presence threshold in pixels of these maps (≥ 1).
   */
  add(pred: Uint8Array, truth: Uint8Array, minToothPx = 1): ImageTeeth {
    if (pred.length !== truth.length) {
      throw new RangeError(`pred has ${pred.length} pixels, truth ${truth.length}`);
    }
    const k = this.#k;
    const inter = new Float64Array(k);
    const pp = new Float64Array(k);
    const tp = new Float64Array(k);
    const u = { tp: 0, fp: 0, fn: 0 };
    for (let i = 0; i < pred.length; i++) {
      const p = pred[i]!;
      const t = truth[i]!;
      // Values past the class list are no tooth (they cannot be numbered).
      const pc = p < k ? p : 0;
      const tc = t < k ? t : 0;
      pp[pc]! += 1;
      tp[tc]! += 1;
      if (pc === tc) inter[pc]! += 1;
      if (pc !== 0) {
        if (tc !== 0) u.tp++;
        else u.fp++;
      } else if (tc !== 0) u.fn++;
    }
    this.#union = addConfusion(this.#union, { ...u, tn: pred.length - u.tp - u.fp - u.fn });
    const min = Math.max(1, minToothPx);
    let matched = 0;
    let predicted = 0;
    let truthTeeth = 0;
    let chartCorrect = 0;
    for (const fdi of FDI_NUMBERS) {
      const c = this.#scheme.classOfFdi.get(fdi);
      const inP = c !== undefined && pp[c]! >= min;
      const inT = c !== undefined && tp[c]! >= min;
      if (inP === inT) chartCorrect++;
      if (c === undefined) continue;
      this.#inter[c]! += inter[c]!;
      this.#predPx[c]! += pp[c]!;
      this.#truthPx[c]! += tp[c]!;
      if (inP) predicted++;
      if (inT) truthTeeth++;
      if (inP && inT && inter[c]! / (pp[c]! + tp[c]! - inter[c]!) >= 0.5) matched++;
    }
    this.#matched += matched;
    this.#predicted += predicted;
    this.#truth += truthTeeth;
    this.#chart.push(chartCorrect / FDI_NUMBERS.length);
    return { matched, predicted, truth: truthTeeth, chartCorrect };
  }

  /** Images added so far. */
  get images(): number {
    return this.#chart.length;
  }

  /** The `teeth` and `union` blocks over every image added. */
  report(): { teeth: TeethMetrics; union: UnionMetrics } {
    const p = this.#predicted === 0 ? 1 : this.#matched / this.#predicted;
    const r = this.#truth === 0 ? 1 : this.#matched / this.#truth;
    const dices: number[] = [];
    for (let c = 1; c < this.#k; c++) {
      const d = this.#predPx[c]! + this.#truthPx[c]!;
      if (d > 0) dices.push((2 * this.#inter[c]!) / d);
    }
    const mean = (v: number[]): number =>
      v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
    const u = this.#union;
    return {
      teeth: {
        precision: p,
        recall: r,
        f1: p + r === 0 ? 0 : (2 * p * r) / (p + r),
        chartAccuracy: mean(this.#chart),
        meanToothDice: mean(dices),
        matched: this.#matched,
        predictedTeeth: this.#predicted,
        trueTeeth: this.#truth,
      },
      union: { dice: dice(u), iou: iou(u), precision: precision(u), recall: recall(u) },
    };
  }
}
