/**
 * Lesion-level detection metrics: a dentist counts caries, not pixels, so a lesion model is
 * also scored on how many lesions it finds and how many regions it invents. Regions are
 * 8-connected; specks under `minAreaPx` are ignored in both masks. Pure: typed arrays only.
 */
import { binarise, labelComponents } from '../imaging/components.js';

/** Smallest lesion counted by default, in pixels at the mask's resolution. */
export const DEFAULT_LESION_MIN_AREA = 20;

/** One image's lesion matching. */
export interface LesionCounts {
  /** Ground-truth lesions (regions ≥ minAreaPx). */
  readonly truth: number;
  /** Predicted regions ≥ minAreaPx. */
  readonly predicted: number;
  /** Ground-truth lesions overlapped by at least one pixel of a counted predicted region. */
  readonly found: number;
  /** Counted predicted regions that overlap no ground-truth lesion. */
  readonly falsePositives: number;
}

/** The `lesions` block of an evaluation report (pooled over images). */
export interface LesionReport extends LesionCounts {
  /** found / truth; null without ground-truth lesions. */
  readonly sensitivity: number | null;
  /** (predicted − falsePositives) / predicted; null without predicted regions. */
  readonly precision: number | null;
  /** falsePositives / images. */
  readonly fpPerImage: number;
  /** Images scored. */
  readonly images: number;
  readonly minAreaPx: number;
}

/**
 * Match the lesions of `prediction` against `truth` (`width*height`, 0 = background, any
 * other value = lesion). A truth lesion is found when a counted predicted region overlaps it
 * by at least one pixel; a counted predicted region overlapping no truth lesion is a false
 * positive. Regions smaller than `minAreaPx` (≥ 1) do not exist for either side.
 */
export function matchLesions(
  prediction: Uint8Array,
  truth: Uint8Array,
  width: number,
  height: number,
  minAreaPx = DEFAULT_LESION_MIN_AREA,
): LesionCounts {
  const n = width * height;
  if (prediction.length !== n || truth.length !== n)
    throw new RangeError(
      `masks have ${prediction.length} and ${truth.length} values, expected ${width}×${height} = ${n}`,
    );
  if (!(Number.isInteger(minAreaPx) && minAreaPx >= 1))
    throw new RangeError(`minAreaPx must be an integer ≥ 1, got ${minAreaPx}`);
  const t = labelComponents(binarise(truth), width, height);
  const p = labelComponents(binarise(prediction), width, height);
  const found = new Uint8Array(t.count);
  const hit = new Uint8Array(p.count);
  for (let i = 0; i < n; i++) {
    const tl = t.labels[i]!;
    const pl = p.labels[i]!;
    if (tl === 0 || pl === 0) continue;
    if (t.area[tl - 1]! < minAreaPx || p.area[pl - 1]! < minAreaPx) continue;
    found[tl - 1] = 1;
    hit[pl - 1] = 1;
  }
  let nTruth = 0;
  let nFound = 0;
  for (let i = 0; i < t.count; i++) {
    if (t.area[i]! < minAreaPx) continue;
    nTruth++;
    nFound += found[i]!;
  }
  let nPred = 0;
  let nFp = 0;
  for (let i = 0; i < p.count; i++) {
    if (p.area[i]! < minAreaPx) continue;
    nPred++;
    if (!hit[i]) nFp++;
  }
  return { truth: nTruth, predicted: nPred, found: nFound, falsePositives: nFp };
}

/** Sums `matchLesions` over images into a `LesionReport`. */
export class LesionAccumulator {
  #truth = 0;
  #predicted = 0;
  #found = 0;
  #fp = 0;
  #images = 0;

  constructor(readonly minAreaPx = DEFAULT_LESION_MIN_AREA) {
    if (!(Number.isInteger(minAreaPx) && minAreaPx >= 1))
      throw new RangeError(`minAreaPx must be an integer ≥ 1, got ${minAreaPx}`);
  }

  /** Score one image; returns its counts. */
  add(prediction: Uint8Array, truth: Uint8Array, width: number, height: number): LesionCounts {
    const c = matchLesions(prediction, truth, width, height, this.minAreaPx);
    this.#truth += c.truth;
    this.#predicted += c.predicted;
    this.#found += c.found;
    this.#fp += c.falsePositives;
    this.#images++;
    return c;
  }

  report(): LesionReport {
    const predicted = this.#predicted;
    return {
      truth: this.#truth,
      predicted,
      found: this.#found,
      falsePositives: this.#fp,
      sensitivity: this.#truth > 0 ? this.#found / this.#truth : null,
      precision: predicted > 0 ? (predicted - this.#fp) / predicted : null,
      fpPerImage: this.#images > 0 ? this.#fp / this.#images : 0,
      images: this.#images,
      minAreaPx: this.minAreaPx,
    };
  }
}
