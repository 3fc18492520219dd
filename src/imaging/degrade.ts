/**
 * Seeded, reproducible image degradations (noise, blur, motion, contrast, gamma,
 * down-then-up scaling, JPEG), described by a spec such as `noise:0.05,blur:1.5`, so that
 * robustness can be measured on exactly the same damaged inputs again. Pure: JPEG needs an
 * encoder, which the caller injects (on Node: `jpegRoundTrip` from src/data).
 */
import { Rng } from '../rng.js';
import { DentsegError } from '../errors.js';
import { fromUnit, toUnit, type GreyImage } from './image.js';
import { convolve1d, downsampleArea, gaussian, meanStd, resizeBilinear } from './kernels.js';

/** The degradation kinds, in the order the spec names them. */
export const DEGRADATION_KINDS = [
  'noise',
  'poisson',
  'blur',
  'motion',
  'contrast',
  'gamma',
  'downscale',
  'jpeg',
] as const;
export type DegradationKind = (typeof DEGRADATION_KINDS)[number];

/** One step of a degradation spec: a kind and its level. */
export interface Degradation {
  readonly kind: DegradationKind;
  readonly level: number;
}

/** Valid levels per kind: [lowest, highest, integer?, what the level means]. */
const RANGES: Record<DegradationKind, readonly [number, number, boolean, string]> = {
  noise: [0, 1, false, 'Gaussian σ as a share of the full range, 0…1'],
  poisson: [1, 1e7, false, 'photons at full white, 1…1e7 (fewer = noisier)'],
  blur: [0, 50, false, 'Gaussian σ in px, 0…50'],
  motion: [1, 255, true, 'horizontal streak length in px, integer 1…255'],
  contrast: [0, 10, false, 'factor on the deviation from the mean, 0…10'],
  gamma: [0.05, 20, false, 'exponent, 0.05…20 (> 1 darkens)'],
  downscale: [1, 64, false, 'factor, 1…64 (down by k, then back up)'],
  jpeg: [1, 100, true, 'quality, integer 1…100'],
};

/**
 * Why `level` is not valid for `kind` (e.g. "noise takes Gaussian σ as a share of the full
 * range, 0…1"), or undefined when it is. Shared by `--degrade` and the augmentation config.
 */
export function degradationLevelProblem(kind: DegradationKind, level: number): string | undefined {
  const [lo, hi, int, meaning] = RANGES[kind];
  const ok =
    Number.isFinite(level) && level >= lo && level <= hi && (!int || Number.isInteger(level));
  return ok ? undefined : `${kind} takes ${meaning}`;
}

/** Whether `kind`'s level is an integer (motion length, JPEG quality). */
export function degradationLevelIsInteger(kind: DegradationKind): boolean {
  return RANGES[kind][2];
}

/**
 * Parse `kind:level[,kind:level…]` (e.g. `noise:0.05,blur:1.5`) into frozen steps, applied
 * in the order written. `none` or an empty string is no degradation. Errors are E_USAGE
 * naming `flag` and the bad token.
 */
export function parseDegradeSpec(spec: string, flag = '--degrade'): readonly Degradation[] {
  const text = spec.trim();
  if (text === '' || text === 'none') return Object.freeze([]);
  const steps: Degradation[] = [];
  for (const raw of text.split(',')) {
    const token = raw.trim();
    const m = /^([a-z]+):(.+)$/.exec(token);
    const kind = m?.[1] as DegradationKind | undefined;
    if (!m || kind === undefined || !DEGRADATION_KINDS.includes(kind)) {
      throw new DentsegError(
        'E_USAGE',
        `${flag}: "${token}" is not kind:level with kind one of ${DEGRADATION_KINDS.join(', ')}`,
        { hint: `e.g. ${flag} noise:0.05,blur:1.5` },
      );
    }
    const level = Number(m[2]);
    const problem = degradationLevelProblem(kind, level);
    if (problem !== undefined) {
      throw new DentsegError('E_USAGE', `${flag}: "${token}": ${problem}; received "${m[2]}"`, {
        hint: `e.g. ${flag} noise:0.05,blur:1.5`,
      });
    }
    steps.push(Object.freeze({ kind, level }));
  }
  return Object.freeze(steps);
}

/** The canonical text of parsed steps (`noise:0.05,blur:1.5`; `none` when empty). */
export function formatDegradeSpec(steps: readonly Degradation[]): string {
  return steps.length === 0 ? 'none' : steps.map((s) => `${s.kind}:${s.level}`).join(',');
}

/** Re-encode a grey image as JPEG at `quality` (1…100) and decode it again. */
export type JpegRoundTrip = (image: GreyImage, quality: number) => Promise<GreyImage>;

/** Options of `degradeImage`. */
export interface DegradeOptions {
  /** Seed parts: the same parts give the same noise (e.g. `[seed, hash of the file name]`). */
  readonly seed?: readonly number[];
  /** Needed only by `jpeg` steps. */
  readonly jpeg?: JpegRoundTrip;
}

/** A stable 32-bit hash of a string (FNV-1a), to seed per file independent of order. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** One Poisson draw (Knuth below 30, normal approximation above). */
function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda >= 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  for (;;) {
    p *= rng.next();
    if (p <= l) return k;
    k++;
  }
}

/** Apply one step in place on 0…1 floats (all but JPEG). */
function applyStep(
  v: Float64Array,
  width: number,
  height: number,
  step: Degradation,
  rng: Rng,
): Float64Array {
  const { kind, level } = step;
  switch (kind) {
    case 'noise':
      for (let i = 0; i < v.length; i++) v[i]! += level * rng.normal();
      return v;
    case 'poisson':
      for (let i = 0; i < v.length; i++) v[i] = poisson(rng, Math.max(0, v[i]!) * level) / level;
      return v;
    case 'blur':
      return gaussian(v, width, height, level);
    case 'motion': {
      // A centred box of `level` taps along x (even lengths get half-weight ends).
      const n = level % 2 === 1 ? level : level + 1;
      const k = new Float64Array(n).fill(1 / level);
      if (n !== level) k[0] = k[n - 1] = 0.5 / level;
      return convolve1d(v, width, height, k, 0);
    }
    case 'contrast': {
      const { mean } = meanStd(v);
      for (let i = 0; i < v.length; i++) v[i] = mean + level * (v[i]! - mean);
      return v;
    }
    case 'gamma':
      for (let i = 0; i < v.length; i++) v[i] = Math.max(0, v[i]!) ** level;
      return v;
    case 'downscale': {
      const w = Math.max(1, Math.round(width / level));
      const h = Math.max(1, Math.round(height / level));
      return resizeBilinear(downsampleArea(v, width, height, w, h), w, h, width, height);
    }
    case 'jpeg':
      throw new Error('unreachable: jpeg is applied on the encoded image');
  }
}

/**
 * Apply every step but `jpeg` to 0…1 floats (`width*height`), in order, clamping to 0…1
 * after each step as `degradeImage` does (without its rounding to the bit depth). Used
 * by the `Degrade` augmentation on the network-size image. A `jpeg` step is E_USAGE: it
 * needs an encoder, which only the caller of `degradeImage` can inject.
 */
export function degradeUnit(
  values: Float64Array,
  width: number,
  height: number,
  steps: readonly Degradation[],
  rng: Rng,
): Float64Array {
  let v = values;
  for (const step of steps) {
    if (step.kind === 'jpeg')
      throw new DentsegError('E_USAGE', 'jpeg degradation needs an encoder (degradeImage)');
    v = applyStep(v, width, height, step, rng);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! <= 0 ? 0 : v[i]! >= 1 ? 1 : v[i]!;
  }
  return v;
}

/**
 * Degrade `image` by `steps` in order; the result keeps the size and bit depth (values
 * clamped to the range after each step). Deterministic for the same `seed` parts.
 * A `jpeg` step without `opts.jpeg` is E_USAGE.
 */
export async function degradeImage(
  image: GreyImage,
  steps: readonly Degradation[],
  opts: DegradeOptions = {},
): Promise<GreyImage> {
  if (steps.length === 0) return image;
  const rng = Rng.seeded(...(opts.seed ?? [0]));
  let img = image;
  for (const step of steps) {
    if (step.kind === 'jpeg') {
      if (!opts.jpeg)
        throw new DentsegError('E_USAGE', 'jpeg degradation needs an encoder (opts.jpeg)');
      img = await opts.jpeg(img, step.level);
      continue;
    }
    img = fromUnit(applyStep(toUnit(img), img.width, img.height, step, rng), img);
  }
  return img;
}
