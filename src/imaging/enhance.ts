/**
 * Enhancement at inference: `auto` measures the input (noise, sharpness, contrast) and
 * applies only what it needs — an edge-keeping bilateral denoise, an unsharp mask, CLAHE —
 * so that a good X-ray passes through unchanged; or an explicit list of steps. Pure.
 */
import { clahe } from './filters.js';
import { DentsegError } from '../errors.js';
import { fromUnit, toUnit, type GreyImage } from './image.js';
import { gaussian, reflect } from './kernels.js';
import { deblurMotion } from './motion.js';
import { estimateQualityUnit, type QualityEstimate } from './quality.js';

/** The explicit steps. */
export const ENHANCE_STEPS = ['denoise', 'unsharp', 'clahe', 'deblur'] as const;
export type EnhanceStepKind = (typeof ENHANCE_STEPS)[number];

/**
 * One step. `denoise`: bilateral, `level` = range σ as a share of the full range (0 = from
 * the estimated noise); `unsharp`: `level` = amount (σ 2 px); `clahe`: `level` = clip limit;
 * `deblur`: a Wiener filter against horizontal motion blur, `level` = streak length in px
 * of the image it runs on (the network's input; 0 = estimated).
 */
export interface EnhanceStep {
  readonly kind: EnhanceStepKind;
  readonly level: number;
}

/** `none`, `auto`, or the steps in order. */
export type EnhanceMode = 'none' | 'auto' | readonly EnhanceStep[];

/** Decision thresholds of `auto`, calibrated on ufba425 and samples/ (see MODEL_CARD). */
export const AUTO_THRESHOLDS = Object.freeze({
  /** Denoise above this noise σ (clean panoramics: 0.002…0.007). */
  noise: 0.012,
  /** Sharpen below this sharpness (clean: 0.11…0.30; blur σ 1 px: 0.04). */
  sharpness: 0.06,
  /** CLAHE below this grey-level standard deviation (clean: 0.14…0.22). */
  contrast: 0.05,
  /**
   * Undo motion blur from this streak length, px (clean: 1; shorter streaks cost the
   * numbering model under 0.005 Dice, bench:robustness motion:5).
   */
  motionPx: 3,
});

const RANGES: Record<EnhanceStepKind, readonly [number, number, number, string]> = {
  denoise: [0, 1, 0, 'range σ as a share of the full range, 0…1 (0 = estimated)'],
  unsharp: [0, 10, 1, 'amount 0…10'],
  clahe: [0.1, 100, 2, 'clip limit 0.1…100'],
  deblur: [0, 64, 0, 'streak length in px 0…64 (0 = estimated)'],
};

/**
 * Parse `auto`, `none`, or a comma list of `denoise[:σ]`, `unsharp[:amount]`,
 * `clahe[:clip]`. Errors are E_USAGE naming `flag` and the bad token.
 */
export function parseEnhanceSpec(spec: string, flag = '--enhance'): EnhanceMode {
  const text = spec.trim();
  if (text === '' || text === 'none') return 'none';
  if (text === 'auto') return 'auto';
  const steps: EnhanceStep[] = [];
  for (const raw of text.split(',')) {
    const token = raw.trim();
    const m = /^([a-z]+)(?::(.+))?$/.exec(token);
    const kind = m?.[1] as EnhanceStepKind | undefined;
    if (!m || kind === undefined || !ENHANCE_STEPS.includes(kind)) {
      throw new DentsegError(
        'E_USAGE',
        `${flag}: "${token}" is not auto, none or a list of ${ENHANCE_STEPS.join(', ')} ` +
          '(each optionally :level)',
        { hint: `e.g. ${flag} auto or ${flag} denoise,unsharp:1.5` },
      );
    }
    const [lo, hi, dflt, meaning] = RANGES[kind];
    const level = m[2] === undefined ? dflt : Number(m[2]);
    if (!(Number.isFinite(level) && level >= lo && level <= hi)) {
      throw new DentsegError('E_USAGE', `${flag}: "${token}": ${kind} takes ${meaning}`, {
        hint: `e.g. ${flag} denoise,unsharp:1.5`,
      });
    }
    steps.push(Object.freeze({ kind, level }));
  }
  return Object.freeze(steps);
}

/** The canonical text of a mode (`none`, `auto`, `denoise:0,unsharp:1`). */
export function formatEnhanceSpec(mode: EnhanceMode): string {
  return typeof mode === 'string' ? mode : mode.map((s) => `${s.kind}:${s.level}`).join(',');
}

/**
 * The smallest side of the network image at which `auto` follows a denoise with a mild
 * unsharp. ufba425 val, noise σ 0.1: at 512² (teeth-binary) the unsharp gives back edge
 * contrast the bilateral softened (Dice 0.870 → 0.879); at 256² (teeth-fdi) its 2 px σ spans
 * the gaps between teeth and costs 0.0105 (0.8925 denoised, 0.8820 with it; σ 1 px: 0.8860).
 */
export const UNSHARP_AFTER_DENOISE_MIN_SIDE = 512;

/**
 * What `auto` would apply to an image with these estimates (possibly nothing); `side`: the
 * smaller side of the image it runs on (the network's input), default 512.
 */
export function autoSteps(q: QualityEstimate, side = 512): EnhanceStep[] {
  const steps: EnhanceStep[] = [];
  if (q.motionPx >= AUTO_THRESHOLDS.motionPx) {
    // A streak also lowers the sharpness measure: undo it instead of sharpening, after a
    // denoise when the image is noisy too (the inverse filter would lift the noise).
    if (q.noise > AUTO_THRESHOLDS.noise) steps.push({ kind: 'denoise', level: 0 });
    steps.push({ kind: 'deblur', level: q.motionPx });
  } else if (q.noise > AUTO_THRESHOLDS.noise) {
    // From 512² up a mild unsharp gives back the edge contrast the bilateral softened
    // (see UNSHARP_AFTER_DENOISE_MIN_SIDE; teeth-binary, noise σ 0.05: 0.904 → 0.906).
    steps.push({ kind: 'denoise', level: 0 });
    if (side >= UNSHARP_AFTER_DENOISE_MIN_SIDE) steps.push({ kind: 'unsharp', level: 0.7 });
  } else if (q.sharpness < AUTO_THRESHOLDS.sharpness) {
    // The blurrier, the stronger (blur σ 1 px ≈ 0.04 → 0.5; σ 2 px ≈ 0.016 → 1.4).
    const amount = Math.min(2, Math.max(0.5, (AUTO_THRESHOLDS.sharpness / q.sharpness - 1) * 0.5));
    steps.push({ kind: 'unsharp', level: Math.round(amount * 100) / 100 });
  }
  if (q.contrast < AUTO_THRESHOLDS.contrast) steps.push({ kind: 'clahe', level: 2 });
  return steps;
}

/**
 * Bilateral filter: Gaussian in space (σ `sigmaS` px) times Gaussian in value (σ `sigmaR`
 * of the 0…1 range), so flat areas are smoothed and edges between tooth and bone kept.
 */
export function bilateral(
  v: Float64Array,
  width: number,
  height: number,
  sigmaS: number,
  sigmaR: number,
): Float64Array {
  const r = Math.max(1, Math.ceil(2 * sigmaS));
  const spatial = new Float64Array((2 * r + 1) ** 2);
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++)
      spatial[(dy + r) * (2 * r + 1) + dx + r] = Math.exp(-(dx * dx + dy * dy) / (2 * sigmaS ** 2));
  // Range weights from a table over |Δ| in 1/1024 steps (up to 4σ; beyond that, 0).
  const steps = 1024;
  const lut = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) lut[i] = Math.exp(-((i / steps) ** 2) / (2 * sigmaR ** 2));
  const out = new Float64Array(v.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = v[y * width + x]!;
      let sw = 0;
      let s = 0;
      for (let dy = -r; dy <= r; dy++) {
        const row = reflect(y + dy, height) * width;
        const base = (dy + r) * (2 * r + 1) + r;
        for (let dx = -r; dx <= r; dx++) {
          const q = v[row + reflect(x + dx, width)]!;
          const d = Math.min(steps, Math.round(Math.abs(q - c) * steps));
          const w = spatial[base + dx]! * lut[d]!;
          sw += w;
          s += w * q;
        }
      }
      out[y * width + x] = s / sw;
    }
  }
  return out;
}

/** What `enhanceUnit` returns. */
export interface EnhanceUnitResult {
  /** The enhanced values in 0…1 (the input itself when nothing was applied). */
  readonly values: Float64Array;
  /** The steps applied, as spec text (`none` when nothing was). */
  readonly applied: string;
  /** The estimates `auto` decided on (absent for an explicit list or `none`). */
  readonly quality?: QualityEstimate;
}

/**
 * Enhance values in 0…1 (row-major `width × height`) by `mode`. Pre-processing runs this on
 * the network-size image, so `auto` judges noise and blur at the scale the model sees.
 * `estimate`: what `auto` decides on instead of measuring `input` (the image's own estimate,
 * already taken by the input check at that scale).
 */
export function enhanceUnit(
  input: Float64Array,
  width: number,
  height: number,
  mode: EnhanceMode,
  estimate?: QualityEstimate,
): EnhanceUnitResult {
  if (mode === 'none') return { values: input, applied: 'none' };
  const quality =
    mode === 'auto' ? (estimate ?? estimateQualityUnit(input, width, height)) : undefined;
  const steps = mode === 'auto' ? autoSteps(quality!, Math.min(width, height)) : mode;
  const q = quality ? { quality } : {};
  if (steps.length === 0) return { values: input, applied: 'none', ...q };
  let v: Float64Array = Float64Array.from(input);
  const resolved: EnhanceStep[] = [];
  for (const step of steps) {
    if (step.kind === 'denoise') {
      const noise = quality?.noise ?? estimateQualityUnit(v, width, height).noise;
      const sigmaR = step.level > 0 ? step.level : Math.max(0.01, 2 * noise);
      v = bilateral(v, width, height, 2, sigmaR);
      resolved.push({ kind: 'denoise', level: Math.round(sigmaR * 1000) / 1000 });
    } else if (step.kind === 'unsharp') {
      const g = gaussian(v, width, height, 2);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! + step.level * (v[i]! - g[i]!);
      resolved.push(step);
    } else if (step.kind === 'deblur') {
      const length =
        step.level > 0 ? step.level : (quality ?? estimateQualityUnit(v, width, height)).motionPx;
      if (length > 1) v = deblurMotion(v, width, height, length);
      resolved.push({ kind: 'deblur', level: length });
    } else {
      for (let i = 0; i < v.length; i++) v[i] = Math.min(1, Math.max(0, v[i]!));
      v = Float64Array.from(clahe(Float32Array.from(v), width, height, step.level, [8, 8]));
      resolved.push(step);
    }
  }
  for (let i = 0; i < v.length; i++) v[i] = Math.min(1, Math.max(0, v[i]!));
  return { values: v, applied: formatEnhanceSpec(resolved), ...q };
}

/** What `enhanceImage` returns. */
export interface EnhanceResult {
  readonly image: GreyImage;
  readonly applied: string;
  readonly quality?: QualityEstimate;
}

/** `enhanceUnit` on a grey image at its own size; the result keeps size and bit depth. */
export function enhanceImage(image: GreyImage, mode: EnhanceMode): EnhanceResult {
  const r = enhanceUnit(toUnit(image), image.width, image.height, mode);
  return {
    image: r.applied === 'none' ? image : fromUnit(r.values, image),
    applied: r.applied,
    ...(r.quality ? { quality: r.quality } : {}),
  };
}
