/**
 * Executes a normalised augmentation config on one image + mask pair. All geometric
 * transforms (flips, affine) are composed into one matrix and applied in a single warp:
 * image bilinear with reflect-101 borders, mask nearest with 0 borders (as
 * Albumentations with `border_mode=cv2.BORDER_REFLECT_101`, `fill_mask=0`). Pixel
 * transforms then run in list order on the warped image (0…1 grey). Pure: a `Degrade`
 * with `jpeg:` needs an encoder, which the Node loader injects (`augmentSampleAsync`).
 */
import { gaussianBlur, reflect101 } from '../imaging/filters.js';
import { DentsegError } from '../errors.js';
import {
  degradationLevelIsInteger,
  degradeUnit,
  formatDegradeSpec,
  type Degradation,
} from '../imaging/degrade.js';
import type { DegradeRangeStep, NormalisedAugmentConfig } from './config.js';
import { mulberry32, Rng } from '../rng.js';
import { dropMaskObjects, type DropoutFill } from './mask-dropout.js';

/** Row-major 2×3 affine matrix [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = [number, number, number, number, number, number];

const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** m1 ∘ m2 (apply m2 first). */
function compose(m1: Affine, m2: Affine): Affine {
  const [a, b, c, d, e, f] = m1;
  const [g, h, i, j, k, l] = m2;
  return [
    a * g + b * j,
    a * h + b * k,
    a * i + b * l + c,
    d * g + e * j,
    d * h + e * k,
    d * i + e * l + f,
  ];
}

function invert(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/** What the random draws decided for one sample (useful for tests and debugging). */
export interface AugmentDecision {
  /** Forward matrix in pixel-index coordinates (input → output). */
  readonly matrix: Affine;
  readonly hflips: number;
  readonly vflips: number;
  readonly applied: string[];
  /** The degradations drawn by `Degrade` transforms, canonical (`noise:0.043,blur:1.2`). */
  readonly degraded: string[];
}

/**
 * Re-encode a 0…1 grey image (`width*height`) as JPEG at `quality` (1…100) and decode it
 * back to 0…1; on Node, `jpegRoundTripUnit` from src/data/jpeg.ts.
 */
export type AugmentJpeg = (
  grey: Float32Array,
  width: number,
  height: number,
  quality: number,
) => Promise<Float32Array>;

/** Options of `augmentSampleAsync`. */
export interface AugmentOptions {
  /** Needed only when a `Degrade` transform lists a `jpeg:` step. */
  readonly jpeg?: AugmentJpeg;
}

/** A pixel step after the warp: a function on 0…1 floats, or a JPEG round trip. */
type PixelOp = ((img: Float32Array) => Float32Array) | { readonly jpeg: number };

/** Whether any `Degrade` transform of `cfg` can draw a `jpeg:` step. */
export function augmentNeedsJpeg(cfg: NormalisedAugmentConfig): boolean {
  return cfg.transforms.some(
    (t) => t.type === 'Degrade' && t.options.some((o) => o.some((s) => s.kind === 'jpeg')),
  );
}

function noEncoder(): never {
  throw new DentsegError(
    'E_USAGE',
    'a Degrade augmentation with jpeg: needs a JPEG encoder, which this runtime did not provide',
    {
      hint: 'train on Node (the loader injects sharp), or leave jpeg: out of the Degrade specs',
    },
  );
}

/** The augmented pair and what was drawn. */
export interface AugmentResult {
  readonly grey: Float32Array;
  readonly mask: Uint8Array;
  readonly decision: AugmentDecision;
}

/**
 * Augment `grey` (`width*height`, 0…1) and `mask` (`width*height` class indices) in the
 * same way; returns new arrays. Draws come from `rng` in transform order, so the same
 * rng state gives the same result. A config whose `Degrade` lists `jpeg:` is E_USAGE
 * here (no encoder in pure code): use `augmentSampleAsync` with `{ jpeg }`.
 */
export function augmentSample(
  grey: Float32Array,
  mask: Uint8Array,
  width: number,
  height: number,
  cfg: NormalisedAugmentConfig,
  rng: Rng,
): AugmentResult {
  if (augmentNeedsJpeg(cfg)) noEncoder();
  const planned = plan(grey, mask, width, height, cfg, rng);
  let out = planned.grey;
  for (const op of planned.ops) out = typeof op === 'function' ? op(out) : noEncoder();
  return { grey: out, mask: planned.mask, decision: planned.decision };
}

/**
 * `augmentSample` with an injected JPEG encoder for `Degrade` `jpeg:` steps; the same
 * draws, so the same rng state gives the same result as the sync version where both run.
 */
export async function augmentSampleAsync(
  grey: Float32Array,
  mask: Uint8Array,
  width: number,
  height: number,
  cfg: NormalisedAugmentConfig,
  rng: Rng,
  opts: AugmentOptions = {},
): Promise<AugmentResult> {
  if (!opts.jpeg && augmentNeedsJpeg(cfg)) noEncoder();
  const planned = plan(grey, mask, width, height, cfg, rng);
  let out = planned.grey;
  for (const op of planned.ops)
    out =
      typeof op === 'function'
        ? op(out)
        : await (opts.jpeg ?? noEncoder)(out, width, height, op.jpeg);
  return { grey: out, mask: planned.mask, decision: planned.decision };
}

/** Draw one level in a step's range (integers inclusive for motion and jpeg). */
function drawLevel(step: DegradeRangeStep, rng: Rng): number {
  const [lo, hi] = step.level;
  return degradationLevelIsInteger(step.kind) ? lo + rng.int(hi - lo + 1) : rng.uniform(lo, hi);
}

/** Pick a random non-empty subset of `n` options (each in with probability ½), in order. */
function someOf(n: number, rng: Rng): number[] {
  for (;;) {
    const picked = Array.from({ length: n }, (_, i) => i).filter(() => rng.next() < 0.5);
    if (picked.length > 0) return picked;
  }
}

/** Pixel ops for drawn degradation `steps`: runs of float steps split at JPEG steps. */
function degradeOps(
  steps: readonly Degradation[],
  width: number,
  height: number,
  seed: number,
): PixelOp[] {
  const ops: PixelOp[] = [];
  // One stream for the whole transform: runs execute in order, so their draws are fixed.
  const rng = Rng.seeded(seed);
  let run: Degradation[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const batch = run;
    ops.push((img) =>
      Float32Array.from(degradeUnit(Float64Array.from(img), width, height, batch, rng)),
    );
    run = [];
  };
  for (const step of steps) {
    if (step.kind === 'jpeg') {
      flush();
      ops.push({ jpeg: step.level });
    } else run.push(step);
  }
  flush();
  return ops;
}

/** Draw every transform, warp image and mask; return the pixel ops still to run. */
function plan(
  grey: Float32Array,
  mask: Uint8Array,
  width: number,
  height: number,
  cfg: NormalisedAugmentConfig,
  rng: Rng,
): { grey: Float32Array; mask: Uint8Array; decision: AugmentDecision; ops: PixelOp[] } {
  let m: Affine = IDENTITY;
  let hflips = 0;
  let vflips = 0;
  const applied: string[] = [];
  const degraded: string[] = [];
  const pixelOps: PixelOp[] = [];
  // Object removals act on the input, before the one warp that carries all the geometry.
  const dropouts: {
    count: number;
    fill: DropoutFill;
    seed: number;
    classes: readonly number[] | undefined;
  }[] = [];
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  for (const t of cfg.transforms) {
    // As in Albumentations, parameters are drawn only when the transform fires.
    if (!(rng.next() < t.p)) continue;
    applied.push(t.type);
    switch (t.type) {
      case 'HorizontalFlip':
        m = compose([-1, 0, width - 1, 0, 1, 0], m);
        hflips++;
        break;
      case 'VerticalFlip':
        m = compose([1, 0, 0, 0, -1, height - 1], m);
        vflips++;
        break;
      case 'Affine': {
        const s = rng.uniform(t.scale[0], t.scale[1]);
        const tx = rng.uniform(t.translate[0], t.translate[1]) * width;
        const ty = rng.uniform(t.translate[0], t.translate[1]) * height;
        const rot = (rng.uniform(t.rotate[0], t.rotate[1]) * Math.PI) / 180;
        const sh = Math.tan((rng.uniform(t.shear[0], t.shear[1]) * Math.PI) / 180);
        // Counter-clockwise on screen (y down) as OpenCV: [cos, sin; -sin, cos].
        const cos = Math.cos(rot) * s;
        const sin = Math.sin(rot) * s;
        // R·S·Shear about the centre, then translate.
        const a = cos;
        const b = cos * sh + sin;
        const d = -sin;
        const e = -sin * sh + cos;
        const local: Affine = [a, b, cx + tx - a * cx - b * cy, d, e, cy + ty - d * cx - e * cy];
        m = compose(local, m);
        break;
      }
      case 'RandomBrightnessContrast': {
        const beta = rng.uniform(t.brightness[0], t.brightness[1]);
        const alpha = 1 + rng.uniform(t.contrast[0], t.contrast[1]);
        pixelOps.push((img) => {
          for (let i = 0; i < img.length; i++) img[i] = clamp01(img[i]! * alpha + beta);
          return img;
        });
        break;
      }
      case 'RandomGamma': {
        const g = rng.uniform(t.gamma[0], t.gamma[1]) / 100;
        pixelOps.push((img) => {
          for (let i = 0; i < img.length; i++) img[i] = Math.pow(Math.max(img[i]!, 0), g);
          return img;
        });
        break;
      }
      case 'GaussNoise': {
        const std = rng.uniform(t.std[0], t.std[1]);
        const noiseRng = rng.nextUint32();
        pixelOps.push((img) => addNoise(img, std, noiseRng));
        break;
      }
      case 'GaussianBlur': {
        const sigma = rng.uniform(t.sigma[0], t.sigma[1]);
        pixelOps.push((img) => gaussianBlur(img, width, height, sigma));
        break;
      }
      case 'Degrade': {
        const picked =
          t.choose === 'one' ? [rng.int(t.options.length)] : someOf(t.options.length, rng);
        const steps = picked.flatMap((j) =>
          (t.options[j] ?? []).map((s) => ({ kind: s.kind, level: drawLevel(s, rng) })),
        );
        degraded.push(formatDegradeSpec(steps));
        pixelOps.push(...degradeOps(steps, width, height, rng.nextUint32()));
        break;
      }
      case 'MaskDropout': {
        const [lo, hi] = t.objects;
        dropouts.push({
          count: lo + rng.int(hi - lo + 1),
          fill: t.fill,
          seed: rng.nextUint32(),
          classes: t.classes,
        });
        break;
      }
    }
  }
  // The result never shares the caller's arrays: the warp makes new ones; without a warp,
  // or when removals edit the input before it, one copy here.
  const copy = dropouts.length > 0 || m === IDENTITY;
  let outGrey: Float32Array = copy ? grey.slice() : grey;
  let outMask: Uint8Array = copy ? mask.slice() : mask;
  for (const d of dropouts)
    dropMaskObjects(outGrey, outMask, width, height, d.count, d.fill, d.seed, d.classes);
  if (m !== IDENTITY) {
    ({ grey: outGrey, mask: outMask } = warp(outGrey, outMask, width, height, invert(m)));
  }
  relabel(outMask, hflips % 2 === 1 ? cfg.flipClassMap : undefined);
  relabel(outMask, vflips % 2 === 1 ? cfg.vflipClassMap : undefined);
  return {
    grey: outGrey,
    mask: outMask,
    decision: { matrix: m, hflips, vflips, applied, degraded },
    ops: pixelOps,
  };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

function relabel(mask: Uint8Array, map: readonly number[] | undefined): void {
  if (!map) return;
  const lut = new Uint8Array(256);
  for (let i = 0; i < 256; i++) lut[i] = map[i] ?? i;
  for (let i = 0; i < mask.length; i++) mask[i] = lut[mask[i]!]!;
}

/** Gaussian noise from its own small generator (one draw of the sample rng seeds it). */
function addNoise(img: Float32Array, std: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  for (let i = 0; i < img.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u())) * std;
    const th = 2 * Math.PI * u();
    img[i] = clamp01(img[i]! + r * Math.cos(th));
    if (i + 1 < img.length) img[i + 1] = clamp01(img[i + 1]! + r * Math.sin(th));
  }
  return img;
}

/**
 * One pass: for each output pixel, find its source through `inv` (output → input);
 * image bilinear with reflect-101, mask nearest with 0 outside.
 */
export function warp(
  grey: Float32Array,
  mask: Uint8Array,
  width: number,
  height: number,
  inv: Affine,
): { grey: Float32Array; mask: Uint8Array } {
  const [a, b, c, d, e, f] = inv;
  const outG = new Float32Array(width * height);
  const outM = new Uint8Array(width * height);
  const wMax = width - 1;
  const hMax = height - 1;
  for (let y = 0; y < height; y++) {
    let sx = b * y + c;
    let sy = e * y + f;
    let o = y * width;
    for (let x = 0; x < width; x++, o++, sx += a, sy += d) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let v00: number, v01: number, v10: number, v11: number;
      if (x0 >= 0 && y0 >= 0 && x0 < wMax && y0 < hMax) {
        const p = y0 * width + x0;
        v00 = grey[p]!;
        v01 = grey[p + 1]!;
        v10 = grey[p + width]!;
        v11 = grey[p + width + 1]!;
      } else {
        const xa = reflect101(x0, width);
        const xb = reflect101(x0 + 1, width);
        const ya = reflect101(y0, height) * width;
        const yb = reflect101(y0 + 1, height) * width;
        v00 = grey[ya + xa]!;
        v01 = grey[ya + xb]!;
        v10 = grey[yb + xa]!;
        v11 = grey[yb + xb]!;
      }
      outG[o] = (1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11);
      const mx = Math.round(sx);
      const my = Math.round(sy);
      if (mx >= 0 && my >= 0 && mx <= wMax && my <= hMax) outM[o] = mask[my * width + mx]!;
    }
  }
  return { grey: outG, mask: outM };
}
