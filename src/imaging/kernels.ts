/**
 * Small convolution and resampling helpers over float images (row-major, one channel),
 * shared by the degradations, the enhancement and the quality estimates. Pure.
 */

/** Reflect-101 border index (OpenCV's default): …2 1 | 0 1 2 … n−1 | n−2 …. */
export function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  return j;
}

/** A normalised 1-D Gaussian kernel of standard deviation `sigma` px (radius ⌈3σ⌉). */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/**
 * Convolve rows (`axis` 0 = along x) or columns (1 = along y) with a centred odd kernel.
 * Inside the image, where no tap reaches a border, each tap is added to a whole row at
 * once (no border reflection, in memory order); every output still sums its taps in the
 * same order (−r…r) from 0, so the values are those of a plain per-tap loop, bit for bit.
 */
export function convolve1d(
  src: Float64Array,
  width: number,
  height: number,
  kernel: Float64Array,
  axis: 0 | 1,
): Float64Array {
  const out = new Float64Array(src.length);
  const r = (kernel.length - 1) >> 1;
  const taps = kernel.length;
  const n = axis === 0 ? width : height;
  // Along the axis, positions lo…hi−1 reach no border.
  const lo = Math.min(r, n);
  const hi = Math.max(lo, n - r);
  const edge = (y: number, x: number): number => {
    let s = 0;
    for (let k = -r; k <= r; k++) {
      const w = kernel[k + r]!;
      s +=
        axis === 0
          ? w * src[y * width + reflect(x + k, width)]!
          : w * src[reflect(y + k, height) * width + x]!;
    }
    return s;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (axis === 1) {
      if (y < lo || y >= hi) {
        for (let x = 0; x < width; x++) out[row + x] = edge(y, x);
        continue;
      }
      for (let t = 0; t < taps; t++) {
        const w = kernel[t]!;
        const from = row + (t - r) * width;
        for (let x = 0; x < width; x++) out[row + x]! += w * src[from + x]!;
      }
    } else {
      for (let x = 0; x < lo; x++) out[row + x] = edge(y, x);
      for (let x = hi; x < width; x++) out[row + x] = edge(y, x);
      for (let t = 0; t < taps; t++) {
        const w = kernel[t]!;
        const from = row + t - r;
        for (let x = lo; x < hi; x++) out[row + x]! += w * src[from + x]!;
      }
    }
  }
  return out;
}

/** Separable Gaussian blur of standard deviation `sigma` px; `sigma ≤ 0` copies. */
export function gaussian(
  src: Float64Array,
  width: number,
  height: number,
  sigma: number,
): Float64Array {
  if (!(sigma > 0)) return Float64Array.from(src);
  const k = gaussianKernel(sigma);
  return convolve1d(convolve1d(src, width, height, k, 0), width, height, k, 1);
}

/** 4-neighbour Laplacian (reflect-101 borders). */
export function laplacian(src: Float64Array, width: number, height: number): Float64Array {
  const out = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    const up = reflect(y - 1, height) * width;
    const dn = reflect(y + 1, height) * width;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      out[row + x] =
        src[up + x]! +
        src[dn + x]! +
        src[row + reflect(x - 1, width)]! +
        src[row + reflect(x + 1, width)]! -
        4 * src[row + x]!;
    }
  }
  return out;
}

/**
 * Area-average downsampling to `w` × `h`: each output pixel is the mean of the source
 * pixels whose centres fall inside its footprint (at least the nearest one). Each sample is
 * divided by `divisor` first (e.g. 255: 8-bit pixels straight to 0…1 values, the same
 * values as `toUnit` then this, without a full-size copy).
 */
export function downsampleArea(
  src: ArrayLike<number>,
  width: number,
  height: number,
  w: number,
  h: number,
  divisor = 1,
): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w));
      let s = 0;
      for (let yy = y0; yy < y1; yy++)
        for (let xx = x0; xx < x1; xx++) s += src[yy * width + xx]! / divisor;
      out[y * w + x] = s / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** Bilinear resampling to `w` × `h` (pixel centres aligned, edges clamped). */
export function resizeBilinear(
  src: Float64Array,
  width: number,
  height: number,
  w: number,
  h: number,
): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(height - 1, Math.max(0, ((y + 0.5) * height) / h - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(width - 1, Math.max(0, ((x + 0.5) * width) / w - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * width + x0]! * (1 - wx) + src[y0 * width + x1]! * wx;
      const bot = src[y1 * width + x0]! * (1 - wx) + src[y1 * width + x1]! * wx;
      out[y * w + x] = top * (1 - wy) + bot * wy;
    }
  }
  return out;
}

/** Mean and (population) standard deviation. */
export function meanStd(src: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < src.length; i++) s += src[i]!;
  const mean = s / Math.max(1, src.length);
  let v = 0;
  for (let i = 0; i < src.length; i++) v += (src[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / Math.max(1, src.length)) };
}
