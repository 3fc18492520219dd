/**
 * Input quality estimates used to decide what enhancement an X-ray needs: noise level
 * (robust, from the median absolute response of a noise-only kernel), sharpness (how much
 * of the edge energy sits at the finest scale) and contrast (spread of the grey levels).
 * All values are in units of the image's full range, so 8- and 16-bit images compare. Pure.
 */
import { toUnit, type GreyImage } from './image.js';
import { maxValue } from './types.js';
import { downsampleArea, gaussian, meanStd, resizeBilinear } from './kernels.js';
import { estimateMotionBlur } from './motion.js';

/** What `estimateQuality` measures. */
export interface QualityEstimate {
  /**
   * Gaussian noise σ as a share of the full range (Immerkær's 3×3 kernel, whose response to
   * smooth ramps is 0 and to white noise has σ·6; the median of |response| over 0.6745·6
   * ignores edges). A clean JPEG panoramic is ≈ 0.003…0.01.
   */
  readonly noise: number;
  /**
   * Share of the detail energy that a 1 px Gaussian removes: mean (v − g₁(v))² over
   * mean (v − g₄(v))², 0…1. Lower is blurrier; noise raises it.
   */
  readonly sharpness: number;
  /** Standard deviation of the grey levels, 0…0.5. */
  readonly contrast: number;
  /** 1st and 99th percentile of the grey levels, 0…1. */
  readonly p1: number;
  readonly p99: number;
  /**
   * Length in px (at the scale measured) of a horizontal motion-blur streak, 1 when there is
   * none: `estimateMotionBlur`'s length when it fits clearly better than none (gain ≥
   * {@link MOTION_MIN_GAIN}).
   */
  readonly motionPx: number;
}

/**
 * How much better a streak length must fit than none to count. Clean X-rays fit none (or
 * 1.5–2 px) with a gain of at most 0.051 (ufba425's 382, samples/, dc1000, each at 256² and
 * 512²); the robustness grid's motion 10 and 20 px gain at least 0.17 (ufba425 val at 512²,
 * 8-bit), at 256² at least 0.9.
 */
export const MOTION_MIN_GAIN = 0.15;

/** Largest side analysed: bigger images are judged on their central crop (speed). */
export const QUALITY_MAX_SIDE = 1024;

/** The central crop of at most `QUALITY_MAX_SIDE`² (where a panoramic's teeth are). */
function centre(
  v: ArrayLike<number>,
  width: number,
  height: number,
): { v: Float64Array; width: number; height: number } {
  const w = Math.min(width, QUALITY_MAX_SIDE);
  const h = Math.min(height, QUALITY_MAX_SIDE);
  // The whole image already as floats: read in place (nothing below writes to it).
  if (w === width && h === height && v instanceof Float64Array) return { v, width, height };
  const x0 = (width - w) >> 1;
  const y0 = (height - h) >> 1;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out[y * w + x] = v[(y0 + y) * width + x0 + x]!;
  return { v: out, width: w, height: h };
}

/** Index of the `q` quantile among `n` sorted values (nearest rank). */
function rank(n: number, q: number): number {
  return Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))));
}

/**
 * The `k`-th smallest value of `a` (0-based), partially reordering `a` in place: Hoare's
 * selection, O(n) on average where a full sort costs O(n log n) (a 512² image: ~5 ms
 * instead of ~50 ms). The same value a sort would put at `k`.
 */
export function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Median of three as the pivot, so sorted or constant runs stay linear.
    const mid = (lo + hi) >> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Noise σ from the median |Immerkær response| over the interior (0 for images < 3 px). */
export function estimateNoise(v: Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  const r = new Float64Array((width - 2) * (height - 2));
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const a = v[i - width - 1]! + v[i - width + 1]! + v[i + width - 1]! + v[i + width + 1]!;
      const b = v[i - width]! + v[i + width]! + v[i - 1]! + v[i + 1]!;
      r[n++] = Math.abs(a - 2 * b + 4 * v[i]!);
    }
  }
  return selectKth(r, rank(r.length, 0.5)) / (0.6745 * 6);
}

/**
 * Estimate noise, sharpness and contrast of an image (see `QualityEstimate`), on its central
 * crop of at most `QUALITY_MAX_SIDE`² pixels.
 */
export function estimateQuality(image: GreyImage): QualityEstimate {
  return estimateQualityUnit(toUnit(image), image.width, image.height);
}

/** `estimateQuality` of values already in 0…1 (e.g. the network-size grey image). */
export function estimateQualityUnit(
  values: ArrayLike<number>,
  fullWidth: number,
  fullHeight: number,
): QualityEstimate {
  const { v, width, height } = centre(values, fullWidth, fullHeight);
  const noise = estimateNoise(v, width, height);
  const g1 = gaussian(v, width, height, 1);
  const g4 = gaussian(v, width, height, 4);
  let fine = 0;
  let all = 0;
  for (let i = 0; i < v.length; i++) {
    fine += (v[i]! - g1[i]!) ** 2;
    all += (v[i]! - g4[i]!) ** 2;
  }
  const copy = Float64Array.from(v);
  // p99 first: selecting it leaves every value below it in front, where p1 is looked for.
  const k99 = rank(copy.length, 0.99);
  const p99 = selectKth(copy, k99);
  const p1 = selectKth(copy.subarray(0, k99 + 1), rank(copy.length, 0.01));
  const motion = estimateMotionBlur(v, width, height);
  return {
    noise,
    sharpness: all > 0 ? fine / all : 0,
    contrast: meanStd(v).std,
    p1,
    p99,
    motionPx: motion.gain >= MOTION_MIN_GAIN ? motion.lengthPx : 1,
  };
}

/**
 * Side of the square an image's own estimate is taken on ({@link imageQualityEstimate}):
 * the bundled models' input, so noise and blur are judged at the scale they see.
 */
export const QUALITY_SIDE = 512;

/**
 * The image stretched to `side`² as 0…1 values: area averaging where it shrinks (straight
 * from the pixels, no full-size copy), bilinear where it grows.
 */
export function unitSquare(image: GreyImage, side: number): Float64Array {
  const { width, height } = image;
  if (width >= side && height >= side)
    return downsampleArea(image.data, width, height, side, side, maxValue(image.bitDepth));
  return resizeBilinear(toUnit(image), width, height, side, side);
}

/**
 * THE quality estimate of an image, computed once per analysis: the input check names its
 * problems from it (`noisy`, `blurred`, `low contrast`) and `auto` enhancement of a model
 * that sees the image at {@link QUALITY_SIDE}² decides on it, so the two never disagree.
 */
export function imageQualityEstimate(image: GreyImage): QualityEstimate {
  return estimateQualityUnit(unitSquare(image, QUALITY_SIDE), QUALITY_SIDE, QUALITY_SIDE);
}
