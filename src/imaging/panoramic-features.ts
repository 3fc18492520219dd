/**
 * What the panoramic check looks at: a coarse picture of the layout (a panoramic has the
 * arch of teeth across the middle, the rami and condyles at both sides, the spine and
 * airway in the centre, all nearly mirror-symmetric), the grey-level histogram, texture and
 * the quality estimates. Every feature is computed on the image stretched to a fixed square
 * (as the network sees it, at half its size), so sizes and aspect ratios compare. Pure.
 */
import { downsampleArea, resizeBilinear } from './kernels.js';
import { estimateQualityUnit, type QualityEstimate } from './quality.js';

/** Side of the square working image (half the bundled model's input: enough for layout, 4× cheaper). */
export const WORK_SIDE = 256;
/** Layout grid: columns × rows of mean grey levels. */
export const GRID_W = 16;
export const GRID_H = 8;
/** Texture grid: columns × rows of local grey-level spread. */
const TEX_W = 8;
const TEX_H = 4;

/** Unit-range values of an image stretched to `WORK_SIDE`², the working copy of every feature. */
export function workingSquare(
  values: ArrayLike<number>,
  width: number,
  height: number,
): Float64Array {
  const v = values instanceof Float64Array ? values : Float64Array.from(values);
  // Area averaging where shrinking (no aliasing of noise), bilinear where growing.
  if (width >= WORK_SIDE && height >= WORK_SIDE)
    return downsampleArea(v, width, height, WORK_SIDE, WORK_SIDE);
  const w = Math.max(width, WORK_SIDE);
  const h = Math.max(height, WORK_SIDE);
  const up = w === width && h === height ? v : resizeBilinear(v, width, height, w, h);
  return w === WORK_SIDE && h === WORK_SIDE ? up : downsampleArea(up, w, h, WORK_SIDE, WORK_SIDE);
}

/** The quality estimates and the feature vector of one image. */
export interface PanoramicFeatures {
  /** Noise, sharpness, contrast and percentiles of the working square. */
  readonly quality: QualityEstimate;
  /** Fixed-length feature vector (`FEATURE_COUNT` values), in the order of `featureNames()`. */
  readonly vector: Float64Array;
}

/** Names of the features, for the weights file and for reading it. */
export function featureNames(): string[] {
  const names = [
    'portrait',
    'mean',
    'std',
    'p1',
    'p5',
    'p50',
    'p95',
    'p99',
    'skew',
    'dark',
    'bright',
    'entropy',
    'logNoise',
    'sharpness',
    'symmetry',
    'edges',
    'rowCentre',
    'colCentre',
  ];
  for (let y = 0; y < GRID_H; y++) for (let x = 0; x < GRID_W; x++) names.push(`grid${x}_${y}`);
  for (let y = 0; y < TEX_H; y++) for (let x = 0; x < TEX_W; x++) names.push(`tex${x}_${y}`);
  return names;
}

/** Length of the feature vector. */
export const FEATURE_COUNT = featureNames().length;

function quantileSorted(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))]!;
}

/**
 * Features of an image given as unit-range values (0…1) of `width` × `height`, optionally
 * with its grey levels reversed (`invert`: the same image as a negative would look).
 */
export function panoramicFeatures(
  values: ArrayLike<number>,
  width: number,
  height: number,
  invert = false,
): PanoramicFeatures {
  return squareFeatures(workingSquare(values, width, height), width, height, invert);
}

/**
 * {@link panoramicFeatures} of an image already stretched to the working square (`square`,
 * `WORK_SIDE`², as `workingSquare` gives it) from `width` × `height`. `invert` reverses
 * the grey levels in `square` itself.
 */
export function squareFeatures(
  square: Float64Array,
  width: number,
  height: number,
  invert = false,
): PanoramicFeatures {
  const v = square;
  if (invert) for (let i = 0; i < v.length; i++) v[i] = 1 - v[i]!;
  const n = v.length;
  const quality = estimateQualityUnit(v, WORK_SIDE, WORK_SIDE);
  const sorted = Float64Array.from(v).sort();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i]!;
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  let dark = 0;
  let bright = 0;
  const bins = new Float64Array(32);
  for (let i = 0; i < n; i++) {
    const d = v[i]! - mean;
    m2 += d * d;
    m3 += d * d * d;
    if (v[i]! < 0.05) dark++;
    if (v[i]! > 0.95) bright++;
    bins[Math.min(31, Math.max(0, Math.floor(v[i]! * 32)))]!++;
  }
  const std = Math.sqrt(m2 / n);
  const skew = std > 1e-6 ? m3 / n / std ** 3 : 0;
  let entropy = 0;
  for (const b of bins) if (b > 0) entropy -= (b / n) * Math.log(b / n);
  entropy /= Math.log(32);

  // Layout: mean grey per cell, z-scored over the grid, so brightness and contrast drop out.
  const grid = downsampleArea(v, WORK_SIDE, WORK_SIDE, GRID_W, GRID_H);
  let gm = 0;
  for (const g of grid) gm += g;
  gm /= grid.length;
  let gs = 0;
  for (const g of grid) gs += (g - gm) ** 2;
  gs = Math.sqrt(gs / grid.length);
  const z = grid.map((g) => (gs > 1e-4 ? (g - gm) / gs : 0));
  // Left–right symmetry: correlation of the grid with its mirror image (1 = symmetric).
  let sym = 0;
  for (let y = 0; y < GRID_H; y++)
    for (let x = 0; x < GRID_W; x++) sym += z[y * GRID_W + x]! * z[y * GRID_W + GRID_W - 1 - x]!;
  sym /= z.length;
  // Where the brightness sits: centre of mass of the z-scored grid above its mean.
  let wsum = 0;
  let rc = 0;
  let cc = 0;
  for (let y = 0; y < GRID_H; y++) {
    for (let x = 0; x < GRID_W; x++) {
      const w = Math.max(0, z[y * GRID_W + x]!);
      wsum += w;
      rc += w * ((y + 0.5) / GRID_H - 0.5);
      cc += w * Math.abs((x + 0.5) / GRID_W - 0.5);
    }
  }

  // Texture: local spread at a 4 px scale, per coarse cell, relative to the global spread.
  const small = downsampleArea(v, WORK_SIDE, WORK_SIDE, 128, 128);
  const grad = new Float64Array(128 * 128);
  let edges = 0;
  for (let y = 0; y < 127; y++) {
    for (let x = 0; x < 127; x++) {
      const i = y * 128 + x;
      const g = Math.abs(small[i + 1]! - small[i]!) + Math.abs(small[i + 128]! - small[i]!);
      grad[i] = g;
      edges += g;
    }
  }
  edges /= 127 * 127;
  const tex = downsampleArea(grad, 128, 128, TEX_W, TEX_H);
  const norm = std > 1e-4 ? std : 1e-4;

  const vector = new Float64Array(FEATURE_COUNT);
  let k = 0;
  vector[k++] = Math.min(0, Math.log(width / height));
  vector[k++] = mean;
  vector[k++] = std;
  for (const q of [0.01, 0.05, 0.5, 0.95, 0.99]) vector[k++] = quantileSorted(sorted, q);
  vector[k++] = Math.max(-5, Math.min(5, skew));
  vector[k++] = dark / n;
  vector[k++] = bright / n;
  vector[k++] = entropy;
  vector[k++] = Math.log10(quality.noise + 1e-4);
  vector[k++] = quality.sharpness;
  vector[k++] = sym;
  vector[k++] = Math.min(5, edges / norm);
  vector[k++] = wsum > 0 ? rc / wsum : 0;
  vector[k++] = wsum > 0 ? cc / wsum : 0;
  for (const g of z) vector[k++] = g;
  for (const t of tex) vector[k++] = Math.min(5, t / norm);
  return { quality, vector };
}
