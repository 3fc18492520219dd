/**
 * Separable resampling over typed arrays, shared by pre-processing (image → model size)
 * and post-processing (probabilities → original size). Triangle (bilinear) filter that
 * widens when shrinking, like PIL's and Albumentations' antialiased resize, so a 2900-pixel
 * panoramic shrunk to 256 does not alias. Pure: no Node, no DOM.
 */

interface AxisWeights {
  /** First source index for each output index. */
  readonly start: Int32Array;
  /** Taps per output index. */
  readonly count: Int32Array;
  /** `taps` weights per output index (normalised to sum 1), padded with zeros. */
  readonly weights: Float32Array;
  readonly taps: number;
}

/** Triangle-filter weights mapping `inN` samples to `outN`, pixel centres aligned. */
function axisWeights(inN: number, outN: number): AxisWeights {
  const scale = inN / outN;
  const support = scale > 1 ? scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outN);
  const count = new Int32Array(outN);
  const weights = new Float32Array(outN * taps);
  for (let i = 0; i < outN; i++) {
    const centre = (i + 0.5) * scale - 0.5;
    let lo = Math.floor(centre - support) + 1;
    let hi = Math.ceil(centre + support) - 1;
    lo = Math.max(lo, 0);
    hi = Math.min(hi, inN - 1);
    if (hi < lo) hi = lo = Math.min(Math.max(Math.round(centre), 0), inN - 1);
    let sum = 0;
    const n = Math.min(hi - lo + 1, taps);
    for (let t = 0; t < n; t++) {
      const w = Math.max(0, 1 - Math.abs(lo + t - centre) / support);
      weights[i * taps + t] = w;
      sum += w;
    }
    if (sum <= 0) {
      // Centre outside the source (tiny inputs): take the nearest sample.
      const nearest = Math.min(Math.max(Math.round(centre), 0), inN - 1);
      start[i] = nearest;
      count[i] = 1;
      weights[i * taps] = 1;
      continue;
    }
    for (let t = 0; t < n; t++) weights[i * taps + t]! /= sum;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, taps };
}

/**
 * Resize an interleaved `k`-channel image (row-major, `sw*sh*k` samples) to `dw*dh*k`.
 * Each sample is multiplied by `gain` (e.g. 1/255 to land in 0…1).
 */
export function resizeLinear(
  src: ArrayLike<number>,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  k = 1,
  gain = 1,
): Float32Array {
  const out = new Float32Array(dw * dh * k);
  if (sw === dw && sh === dh) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]! * gain;
    return out;
  }
  const wx = axisWeights(sw, dw);
  const wy = axisWeights(sh, dh);
  // Horizontal pass: sh rows of dw*k.
  const tmp = new Float32Array(sh * dw * k);
  for (let y = 0; y < sh; y++) {
    const rowIn = y * sw * k;
    const rowOut = y * dw * k;
    for (let x = 0; x < dw; x++) {
      const s = wx.start[x]!;
      const n = wx.count[x]!;
      const wo = x * wx.taps;
      for (let c = 0; c < k; c++) {
        let acc = 0;
        for (let t = 0; t < n; t++) acc += src[rowIn + (s + t) * k + c]! * wx.weights[wo + t]!;
        tmp[rowOut + x * k + c] = acc;
      }
    }
  }
  // Vertical pass, row at a time (cache-friendly).
  const rowLen = dw * k;
  for (let y = 0; y < dh; y++) {
    const s = wy.start[y]!;
    const n = wy.count[y]!;
    const wo = y * wy.taps;
    const o = y * rowLen;
    for (let t = 0; t < n; t++) {
      const w = wy.weights[wo + t]! * gain;
      const r = (s + t) * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i]! += tmp[r + i]! * w;
    }
  }
  return out;
}

/**
 * Nearest-neighbour resize of a label mask (class indices survive untouched).
 * Pixel centres are aligned: destination pixel x samples source `floor((x+0.5)*sw/dw)`.
 */
export function resizeMaskNearest(
  mask: Uint8Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
): Uint8Array {
  if (sw === dw && sh === dh) return mask.slice();
  const out = new Uint8Array(dw * dh);
  const xs = new Int32Array(dw);
  for (let x = 0; x < dw; x++) xs[x] = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw));
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh));
    const row = sy * sw;
    const o = y * dw;
    for (let x = 0; x < dw; x++) out[o + x] = mask[row + xs[x]!]!;
  }
  return out;
}
