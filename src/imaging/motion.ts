/**
 * Horizontal motion blur: how long the streak is, and a Wiener filter that undoes it.
 *
 * A panoramic is exposed by a tube sweeping around the head, so a patient who moves smears
 * the image along x. A streak of L px multiplies each row's spectrum by the box's transfer
 * function |sin(πfL)/(L·sin(πf))|, with zeros at f = k/L, while columns keep theirs. So the
 * ratio of the row and column power spectra (which cancels most of the image's own 1/f
 * shape) is fitted by 2·log of that transfer function over candidate lengths; a clean image
 * fits L = 1 best. Measured on ufba425 at the network's 256² scale: the grid's motion 10 and
 * 20 px (at 512) come out as 5 and 10 px, clean X-rays as 1 (see MODEL_CARD of teeth-fdi).
 * Pure.
 */
import { reflect } from './kernels.js';

/** Segment length of the averaged periodograms (Welch): resolves streaks up to ~30 px. */
const SEGMENT = 128;
/** Candidate streak lengths, px: 1 (none) to 24 in half-pixel steps. */
const CANDIDATES = Array.from({ length: 47 }, (_, i) => 1 + i / 2);
/** Candidate floors β of the modelled power ratio |H|² + β (see `estimateMotionBlur`). */
const FLOORS = [0.001, 0.003, 0.01, 0.03, 0.1];
/**
 * Highest frequency fitted, cycles/px. Above it a long streak leaves only the noise floor
 * (JPEG, grey-level rounding), which a short box's smooth roll-off fits as well as the long
 * one's zeros: at 512² the grid's motion 20 came out as 2 px when fitted up to 0.5.
 */
const F_MAX = 0.3;

/** What `estimateMotionBlur` finds. */
export interface MotionEstimate {
  /** Streak length in px along x at the scale measured; 1 = no motion blur. */
  readonly lengthPx: number;
  /**
   * How much better that length fits than none: mean squared log-ratio residual at L = 1
   * minus at `lengthPx` (0 when `lengthPx` is 1). Clean X-rays stay near 0.
   */
  readonly gain: number;
}

/**
 * The transfer function's magnitude of a centred box `length` px long at frequency `f`
 * (cycles per px); for a fractional length the box's ends are partial taps, as in
 * {@link boxTaps}.
 */
function boxResponse(length: number, f: number): number {
  if (length <= 1) return 1;
  const s = Math.sin(Math.PI * f);
  return s === 0 ? 1 : Math.abs(Math.sin(Math.PI * f * length) / (length * s));
}

/**
 * Taps of a centred box `length` px long (odd count): tap j's weight is the share of the
 * pixel [j − ½, j + ½] inside [−length/2, length/2], so an even length gets half-weight
 * ends, as the `motion:` degradation draws it.
 */
export function boxTaps(length: number): Float64Array {
  const r = Math.ceil((length - 1) / 2);
  const taps = new Float64Array(2 * r + 1);
  for (let j = -r; j <= r; j++) {
    const lo = Math.max(j - 0.5, -length / 2);
    const hi = Math.min(j + 0.5, length / 2);
    taps[j + r] = Math.max(0, hi - lo) / length;
  }
  return taps;
}

/** Averaged power spectra (Hann-windowed segments) of rows and of columns, bins 0…SEGMENT/2. */
function rowAndColumnSpectra(
  v: ArrayLike<number>,
  width: number,
  height: number,
): { rows: Float64Array; cols: Float64Array } {
  const n = SEGMENT;
  const bins = n / 2 + 1;
  const window = Float64Array.from(
    { length: n },
    (_, t) => 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / n),
  );
  const cos = new Float64Array(bins * n);
  const sin = new Float64Array(bins * n);
  for (let f = 0; f < bins; f++)
    for (let t = 0; t < n; t++) {
      cos[f * n + t] = Math.cos((2 * Math.PI * f * t) / n);
      sin[f * n + t] = Math.sin((2 * Math.PI * f * t) / n);
    }
  const seg = new Float64Array(n);
  const accumulate = (out: Float64Array): void => {
    let mean = 0;
    for (let t = 0; t < n; t++) mean += seg[t]!;
    mean /= n;
    for (let t = 0; t < n; t++) seg[t] = (seg[t]! - mean) * window[t]!;
    for (let f = 1; f < bins; f++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < n; t++) {
        re += seg[t]! * cos[f * n + t]!;
        im += seg[t]! * sin[f * n + t]!;
      }
      out[f] = out[f]! + re * re + im * im;
    }
  };
  const rows = new Float64Array(bins);
  const cols = new Float64Array(bins);
  // Every 4th line and half-overlapping segments: a 512² image costs ~15 ms.
  const step = n / 2;
  for (let y = 0; y < height; y += 4)
    for (let x0 = 0; x0 + n <= width; x0 += step) {
      for (let t = 0; t < n; t++) seg[t] = v[y * width + x0 + t]!;
      accumulate(rows);
    }
  for (let x = 0; x < width; x += 4)
    for (let y0 = 0; y0 + n <= height; y0 += step) {
      for (let t = 0; t < n; t++) seg[t] = v[(y0 + t) * width + x]!;
      accumulate(cols);
    }
  return { rows, cols };
}

/**
 * Estimate the horizontal motion blur of values in 0…1 (row-major `width × height`). Images
 * narrower or lower than {@link SEGMENT} px report none.
 */
export function estimateMotionBlur(
  v: ArrayLike<number>,
  width: number,
  height: number,
): MotionEstimate {
  if (width < SEGMENT || height < SEGMENT) return { lengthPx: 1, gain: 0 };
  const { rows, cols } = rowAndColumnSpectra(v, width, height);
  // Bins 2…n/2: bin 1 holds what the window leaves of the mean; tiny spectra are skipped.
  const d: number[] = [];
  const fs: number[] = [];
  for (let f = 2; f <= F_MAX * SEGMENT; f++)
    if (rows[f]! > 0 && cols[f]! > 0) {
      d.push(Math.log(rows[f]! / cols[f]!));
      fs.push(f / SEGMENT);
    }
  if (d.length < 8) return { lengthPx: 1, gain: 0 };
  // The model: log(|H|² + β) + c. β is the floor that noise and grey-level rounding leave
  // once a long streak has wiped out the finer detail (without it an 8-bit 512² X-ray with a
  // 20 px streak fitted "none" best); c absorbs the image's own row/column balance.
  const residual = (length: number): number => {
    let best = Infinity;
    for (const beta of FLOORS) {
      const m = fs.map((f) => Math.log(boxResponse(length, f) ** 2 + beta));
      let c = 0;
      for (let i = 0; i < d.length; i++) c += d[i]! - m[i]!;
      c /= d.length;
      let e = 0;
      for (let i = 0; i < d.length; i++) e += (d[i]! - m[i]! - c) ** 2;
      best = Math.min(best, e / d.length);
    }
    return best;
  };
  const none = residual(1);
  let best = { lengthPx: 1, err: none };
  for (const length of CANDIDATES) {
    const err = residual(length);
    if (err < best.err) best = { lengthPx: length, err };
  }
  return { lengthPx: best.lengthPx, gain: none - best.err };
}

/**
 * Undo a horizontal box blur `length` px long: a Wiener filter along x (regularised by
 * `k`, the noise-to-signal power ratio) as a spatial kernel of ±`radius` taps, rows
 * reflected at the edges. Values are not clamped.
 */
export function deblurMotion(
  v: Float64Array,
  width: number,
  height: number,
  length: number,
  k = 0.02,
  radius = Math.max(8, Math.ceil(3 * length)),
): Float64Array {
  if (length <= 1) return Float64Array.from(v);
  const taps = wienerTaps(length, k, radius);
  const out = new Float64Array(v.length);
  const idx = new Int32Array(width + 2 * radius);
  for (let x = -radius; x < width + radius; x++) idx[x + radius] = reflect(x, width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = -radius; j <= radius; j++)
        s += taps[j + radius]! * v[row + idx[x + j + radius]!]!;
      out[row + x] = s;
    }
  }
  return out;
}

/** The Wiener filter's spatial taps (−radius…radius), from its response on a 256-point grid. */
function wienerTaps(length: number, k: number, radius: number): Float64Array {
  const n = 256;
  const box = boxTaps(length);
  const r = (box.length - 1) / 2;
  const taps = new Float64Array(2 * radius + 1);
  // The box is symmetric, so its response H is real and so is the filter H/(H² + k).
  const g = new Float64Array(n / 2 + 1);
  for (let f = 0; f <= n / 2; f++) {
    let h = 0;
    for (let j = -r; j <= r; j++) h += box[j + r]! * Math.cos((2 * Math.PI * f * j) / n);
    g[f] = h / (h * h + k);
  }
  let sum = 0;
  for (let j = -radius; j <= radius; j++) {
    let s = g[0]!;
    for (let f = 1; f < n / 2; f++) s += 2 * g[f]! * Math.cos((2 * Math.PI * f * j) / n);
    s += g[n / 2]! * Math.cos(Math.PI * j);
    // A Hann taper so the truncated kernel does not ring.
    const w = 0.5 + 0.5 * Math.cos((Math.PI * j) / (radius + 1));
    taps[j + radius] = (s / n) * w;
    sum += taps[j + radius]!;
  }
  // Keep the mean grey level: the taps sum to 1.
  for (let j = 0; j < taps.length; j++) taps[j] = taps[j]! / sum;
  return taps;
}
