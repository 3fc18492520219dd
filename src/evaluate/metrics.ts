/**
 * Segmentation metrics as pure functions over typed arrays (no tensors, no I/O), so that
 * training, `dentseg evaluate`, the server and tests score masks the same way.
 *
 * Conventions for empty sets (0/0): Dice, IoU, precision and recall are 1 (nothing was
 * to be found and nothing wrong was predicted), which keeps IoU = D / (2 − D) exact.
 */

/** Pixel counts of a binary comparison. */
export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

/**
 * Count agreement between a predicted and a true mask of the same length. Without `cls`,
 * any non-zero value is foreground (binary 0/1 or 0/255); with `cls`, foreground is
 * `value === cls` (one class of a multi-class mask).
 */
export function confusion(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  cls?: number,
): Confusion {
  if (pred.length !== truth.length) {
    throw new RangeError(`confusion: pred has ${pred.length} pixels, truth ${truth.length}`);
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const n = pred.length;
  if (cls === undefined) {
    for (let i = 0; i < n; i++) {
      const p = pred[i] !== 0;
      const t = truth[i] !== 0;
      if (p) {
        if (t) tp++;
        else fp++;
      } else if (t) fn++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = pred[i] === cls;
      const t = truth[i] === cls;
      if (p) {
        if (t) tp++;
        else fp++;
      } else if (t) fn++;
    }
  }
  return { tp, fp, fn, tn: n - tp - fp - fn };
}

/** Sum of several confusions (pooled metrics over a set of images). */
export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

/** Dice = 2TP / (2TP + FP + FN), in [0, 1]; 1 when both masks are empty. */
export function dice(c: Confusion): number {
  const d = 2 * c.tp + c.fp + c.fn;
  return d === 0 ? 1 : (2 * c.tp) / d;
}

/** IoU (Jaccard) = TP / (TP + FP + FN), in [0, 1]; 1 when both masks are empty. */
export function iou(c: Confusion): number {
  const d = c.tp + c.fp + c.fn;
  return d === 0 ? 1 : c.tp / d;
}

/** Pixel accuracy = (TP + TN) / all, in [0, 1]; 1 for zero pixels. */
export function accuracy(c: Confusion): number {
  const n = c.tp + c.fp + c.fn + c.tn;
  return n === 0 ? 1 : (c.tp + c.tn) / n;
}

/** Precision = TP / (TP + FP), in [0, 1]; 1 when nothing was predicted. */
export function precision(c: Confusion): number {
  const d = c.tp + c.fp;
  return d === 0 ? 1 : c.tp / d;
}

/** Recall (sensitivity) = TP / (TP + FN), in [0, 1]; 1 when the truth is empty. */
export function recall(c: Confusion): number {
  const d = c.tp + c.fn;
  return d === 0 ? 1 : c.tp / d;
}

/**
 * Boundary pixels of a mask: foreground pixels with a 4-neighbour that is background or
 * outside the image (mask XOR its erosion by a cross, as medpy does).
 */
export function boundary(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i] === 0) continue;
      if (
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        mask[i - 1] === 0 ||
        mask[i + 1] === 0 ||
        mask[i - width] === 0 ||
        mask[i + width] === 0
      ) {
        out[i] = 1;
      }
    }
  }
  return out;
}

/** Stand-in for "no seed" in the squared-distance transform (finite keeps the maths exact). */
const FAR = 1e20;

/** 1-D squared distance transform (Felzenszwalb & Huttenlocher) of f[0..n) into d. */
function edt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    const fq = f[q] ?? FAR;
    let s: number;
    for (;;) {
      const vk = v[k] ?? 0;
      s = (fq + q * q - ((f[vk] ?? FAR) + vk * vk)) / (2 * q - 2 * vk);
      if (k > 0 && s <= (z[k] ?? -Infinity)) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while ((z[k + 1] ?? Infinity) < q) k++;
    const vk = v[k] ?? 0;
    d[q] = (q - vk) * (q - vk) + (f[vk] ?? FAR);
  }
}

/** Exact Euclidean distance (pixels) from every pixel to the nearest set pixel of `seeds`. */
export function distanceTransform(seeds: Uint8Array, width: number, height: number): Float64Array {
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const grid = new Float64Array(width * height);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = seeds[y * width + x] ? 0 : FAR;
    edt1d(f, height, d, v, z);
    for (let y = 0; y < height; y++) grid[y * width + x] = d[y] ?? FAR;
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = grid[y * width + x] ?? FAR;
    edt1d(f, width, d, v, z);
    for (let x = 0; x < width; x++) grid[y * width + x] = Math.sqrt(d[x] ?? FAR);
  }
  return grid;
}

/** p-th percentile (0…100) with linear interpolation, as numpy's default. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (pos - lo);
}

function directedDistances(from: Uint8Array, toDistance: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < from.length; i++) if (from[i]) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < from.length; i++) if (from[i]) out[j++] = toDistance[i] ?? Infinity;
  return out;
}

/**
 * 95th-percentile Hausdorff distance in pixels between the boundaries of two binary masks
 * (non-zero = foreground), as medpy's `hd95`: the larger of the two directed 95th
 * percentiles. 0 when both masks are empty; Infinity when exactly one is empty.
 */
export function hd95(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  width: number,
  height: number,
): number {
  if (pred.length !== width * height || truth.length !== width * height) {
    throw new RangeError(`hd95: masks must have ${width}×${height} pixels`);
  }
  const bp = boundary(pred, width, height);
  const bt = boundary(truth, width, height);
  const hasP = bp.some((v) => v !== 0);
  const hasT = bt.some((v) => v !== 0);
  if (!hasP && !hasT) return 0;
  if (!hasP || !hasT) return Infinity;
  const dToT = distanceTransform(bt, width, height);
  const dToP = distanceTransform(bp, width, height);
  return Math.max(
    percentile(directedDistances(bp, dToT), 95),
    percentile(directedDistances(bt, dToP), 95),
  );
}

/**
 * `hd95` of one class of two multi-class masks (`pred === cls` against `truth === cls`),
 * computed on the class's bounding box over both masks instead of the whole image. Exact:
 * every boundary pixel and every seed of the distance transforms lies in the box, and a
 * class pixel on the box's edge is boundary in the image too (its neighbour outside the
 * box is not the class). A tooth covers a few hundredths of a panoramic, so this is tens
 * of times faster than `hd95` on full-size binary copies, once per class and image.
 */
export function classHd95(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  cls: number,
  width: number,
  height: number,
): number {
  if (pred.length !== width * height || truth.length !== width * height) {
    throw new RangeError(
      `classHd95: masks must have ${width}×${height} pixels, got ${pred.length} (pred) and ${truth.length} (truth)`,
    );
  }
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      if (pred[i] !== cls && truth[i] !== cls) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 < 0) return 0;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const p = new Uint8Array(w * h);
  const t = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y + y0) * width + x + x0;
      p[y * w + x] = pred[i] === cls ? 1 : 0;
      t[y * w + x] = truth[i] === cls ? 1 : 0;
    }
  }
  return hd95(p, t, w, h);
}
