/**
 * Turns per-image predictions and ground truths into the evaluation report, so every
 * caller scores the same way: pooled metrics (all pixels of the set), per-image means,
 * empty-ground-truth handling and, for multi-class models, per-class figures. Pure: typed
 * arrays in, plain data out.
 */
import {
  accuracy,
  addConfusion,
  classHd95,
  confusion,
  dice,
  hd95,
  iou,
  precision,
  recall,
  type Confusion,
} from './metrics.js';
import type { NumberingScheme } from '../numbering/index.js';
import { TeethAccumulator, type TeethMetrics, type UnionMetrics } from './teeth.js';

/** Pooled metrics (from the summed pixel counts). */
export interface PooledMetrics {
  readonly dice: number;
  readonly iou: number;
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * Per-image means. Dice, IoU, precision, recall and HD95 average over images whose ground
 * truth is not empty (`images - emptyGroundTruth`); accuracy over all images. HD95 (pixels)
 * also skips images where the prediction is empty (infinite distance), counted in
 * `hd95Skipped`. Multi-class: each image's value is the mean over the classes in its
 * ground truth.
 */
export interface PerImageMetrics extends PooledMetrics {
  readonly hd95: number | null;
  /** Images with nothing to find (no foreground pixel in the ground truth). */
  readonly emptyGroundTruth: number;
  /** On those images: false-positive pixels / all their pixels (0…1), null when none. */
  readonly emptyGroundTruthFpShare: number | null;
  readonly hd95Skipped: number;
}

/** Figures for one class of a multi-class model. */
export interface ClassMetrics {
  readonly pooled: PooledMetrics;
  /** Mean Dice over images whose ground truth holds the class (null when none does). */
  readonly meanDice: number | null;
  /** Images whose ground truth holds the class. */
  readonly images: number;
  /** Pixels of the class in the ground truth / in the prediction, over the set. */
  readonly truthPx: number;
  readonly predPx: number;
}

/** The JSON `dentseg evaluate` writes (plus the caller's context keys). */
export interface EvaluationReport {
  readonly images: number;
  readonly pooled: PooledMetrics;
  readonly perImage: PerImageMetrics;
  readonly perClass?: Readonly<Record<string, ClassMetrics>>;
  /** Numbering models: tooth-level scores (see `TeethMetrics`). */
  readonly teeth?: TeethMetrics;
  /** Numbering models: all teeth as one class, pooled over all pixels. */
  readonly union?: UnionMetrics;
}

/** One image's row in the per-image CSV. */
export interface ImageRow {
  readonly image: string;
  readonly width: number;
  readonly height: number;
  readonly truthPx: number;
  readonly predPx: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** Null where undefined for this image (empty ground truth; HD95 also empty prediction). */
  readonly dice: number | null;
  readonly iou: number | null;
  readonly accuracy: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly hd95: number | null;
  /**
   * Numbering models: teeth matched (same number, IoU ≥ 0.5), predicted and true, and chart
   * positions (of 32) whose present/absent state is right — to find the images that fail.
   */
  readonly teethMatched?: number;
  readonly teethPredicted?: number;
  readonly teethTrue?: number;
  readonly chartCorrect?: number;
}

function pooledOf(c: Confusion): PooledMetrics {
  return {
    dice: dice(c),
    iou: iou(c),
    accuracy: accuracy(c),
    precision: precision(c),
    recall: recall(c),
  };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

const ZERO: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };

/**
 * Accumulates images one at a time (memory stays one image deep). `task` and `classes`
 * as in the model's `dentseg.json`: binary masks hold 0/1, multi-class masks class indices
 * with `classes[0]` the background.
 */
export class EvaluationAccumulator {
  readonly #task: 'binary' | 'multiclass';
  readonly #classes: readonly string[];
  #pooled: Confusion = ZERO;
  #perClass: Confusion[];
  #classImages: number[];
  #classDice: number[][];
  #rows: ImageRow[] = [];
  #sums = {
    dice: [] as number[],
    iou: [] as number[],
    accuracy: [] as number[],
    precision: [] as number[],
    recall: [] as number[],
    hd95: [] as number[],
  };
  #emptyImages = 0;
  #emptyFp = 0;
  #emptyPixels = 0;
  #hd95Skipped = 0;
  readonly #teeth: TeethAccumulator | undefined;

  /**
   * With `numbering` (a multi-class numbering model's scheme) the report also holds
   * `teeth` and `union`.
   */
  constructor(
    task: 'binary' | 'multiclass',
    classes: readonly string[],
    numbering?: NumberingScheme,
  ) {
    this.#task = task;
    this.#classes = classes;
    this.#teeth = task === 'multiclass' && numbering ? new TeethAccumulator(numbering) : undefined;
    const k = task === 'multiclass' ? classes.length : 0;
    this.#perClass = Array.from({ length: k }, () => ZERO);
    this.#classImages = new Array<number>(k).fill(0);
    this.#classDice = Array.from({ length: k }, () => []);
  }

  /**
   * Score one image; `pred` and `truth` have `width*height` values at the same size.
   * `minToothPx` (numbering models): a tooth is present from this many pixels (default 1).
   */
  add(
    image: string,
    pred: Uint8Array,
    truth: Uint8Array,
    width: number,
    height: number,
    minToothPx = 1,
  ): ImageRow {
    const n = width * height;
    if (pred.length !== n || truth.length !== n) {
      throw new RangeError(`${image}: prediction and ground truth must both be ${width}×${height}`);
    }
    const teeth = this.#teeth?.add(pred, truth, minToothPx);
    const fg = confusion(pred, truth);
    const truthPx = fg.tp + fg.fn;
    const predPx = fg.tp + fg.fp;
    const empty = truthPx === 0;
    let row: ImageRow;
    if (this.#task === 'binary') {
      this.#pooled = addConfusion(this.#pooled, fg);
      const h = empty ? null : hd95(pred, truth, width, height);
      row = {
        image,
        width,
        height,
        truthPx,
        predPx,
        tp: fg.tp,
        fp: fg.fp,
        fn: fg.fn,
        dice: empty ? null : dice(fg),
        iou: empty ? null : iou(fg),
        accuracy: accuracy(fg),
        precision: empty ? null : precision(fg),
        recall: empty ? null : recall(fg),
        hd95: h === null || !Number.isFinite(h) ? null : h,
      };
      if (h !== null && !Number.isFinite(h)) this.#hd95Skipped++;
    } else {
      row = this.#addMulticlass(image, pred, truth, width, height, fg);
      if (teeth) {
        row = {
          ...row,
          teethMatched: teeth.matched,
          teethPredicted: teeth.predicted,
          teethTrue: teeth.truth,
          chartCorrect: teeth.chartCorrect,
        };
      }
    }
    if (empty) {
      this.#emptyImages++;
      this.#emptyFp += fg.fp;
      this.#emptyPixels += n;
    } else {
      for (const key of ['dice', 'iou', 'precision', 'recall'] as const) {
        const v = row[key];
        if (v !== null) this.#sums[key].push(v);
      }
      if (row.hd95 !== null) this.#sums.hd95.push(row.hd95);
    }
    this.#sums.accuracy.push(row.accuracy);
    this.#rows.push(row);
    return row;
  }

  #addMulticlass(
    image: string,
    pred: Uint8Array,
    truth: Uint8Array,
    width: number,
    height: number,
    fg: Confusion,
  ): ImageRow {
    const n = width * height;
    let correct = 0;
    for (let i = 0; i < n; i++) if (pred[i] === truth[i]) correct++;
    // Pooled over the set: multi-class pixel accuracy, the rest per class (macro later).
    this.#pooled = addConfusion(this.#pooled, { tp: correct, fp: n - correct, fn: 0, tn: 0 });
    const present = new Set<number>();
    for (let i = 0; i < n; i++) if (truth[i]! > 0) present.add(truth[i]!);
    const per: Record<'dice' | 'iou' | 'precision' | 'recall' | 'hd95', number[]> = {
      dice: [],
      iou: [],
      precision: [],
      recall: [],
      hd95: [],
    };
    for (let c = 1; c < this.#classes.length; c++) {
      const cc = confusion(pred, truth, c);
      this.#perClass[c] = addConfusion(this.#perClass[c]!, cc);
      if (!present.has(c)) continue;
      this.#classImages[c]!++;
      const d = dice(cc);
      this.#classDice[c]!.push(d);
      per.dice.push(d);
      per.iou.push(iou(cc));
      per.precision.push(precision(cc));
      per.recall.push(recall(cc));
      const h = classHd95(pred, truth, c, width, height);
      if (Number.isFinite(h)) per.hd95.push(h);
      else this.#hd95Skipped++;
    }
    return {
      image,
      width,
      height,
      truthPx: fg.tp + fg.fn,
      predPx: fg.tp + fg.fp,
      tp: fg.tp,
      fp: fg.fp,
      fn: fg.fn,
      dice: mean(per.dice),
      iou: mean(per.iou),
      accuracy: correct / n,
      precision: mean(per.precision),
      recall: mean(per.recall),
      hd95: mean(per.hd95),
    };
  }

  /** Rows added so far, in order. */
  get rows(): readonly ImageRow[] {
    return this.#rows;
  }

  /** The report over every image added. */
  report(): EvaluationReport {
    const perImage: PerImageMetrics = {
      dice: mean(this.#sums.dice) ?? NaN,
      iou: mean(this.#sums.iou) ?? NaN,
      accuracy: mean(this.#sums.accuracy) ?? NaN,
      precision: mean(this.#sums.precision) ?? NaN,
      recall: mean(this.#sums.recall) ?? NaN,
      hd95: mean(this.#sums.hd95),
      emptyGroundTruth: this.#emptyImages,
      emptyGroundTruthFpShare: this.#emptyPixels > 0 ? this.#emptyFp / this.#emptyPixels : null,
      hd95Skipped: this.#hd95Skipped,
    };
    if (this.#task === 'binary') {
      return { images: this.#rows.length, pooled: pooledOf(this.#pooled), perImage };
    }
    const perClass: Record<string, ClassMetrics> = {};
    const seen: PooledMetrics[] = [];
    for (let c = 1; c < this.#classes.length; c++) {
      const cc = this.#perClass[c]!;
      const pooled = pooledOf(cc);
      perClass[this.#classes[c] ?? `class ${c}`] = {
        pooled,
        meanDice: mean(this.#classDice[c]!),
        images: this.#classImages[c]!,
        truthPx: cc.tp + cc.fn,
        predPx: cc.tp + cc.fp,
      };
      // Macro average over the classes that occur in the truth or the prediction.
      if (cc.tp + cc.fn + cc.fp > 0) seen.push(pooled);
    }
    const macro = (key: keyof PooledMetrics): number => mean(seen.map((p) => p[key])) ?? NaN;
    return {
      images: this.#rows.length,
      pooled: {
        dice: macro('dice'),
        iou: macro('iou'),
        accuracy: accuracy(this.#pooled),
        precision: macro('precision'),
        recall: macro('recall'),
      },
      perImage,
      perClass,
      ...(this.#teeth ? this.#teeth.report() : {}),
    };
  }
}
