/**
 * Augmentation as serialisable config with Albumentations semantics: a list of
 * transforms, each applied with probability `p`, parameters drawn uniformly from
 * ranges. Validated once here into a frozen, normalised form. Pure.
 */
import { DentsegError } from '../errors.js';
import {
  DEGRADATION_KINDS,
  degradationLevelProblem,
  type DegradationKind,
} from '../imaging/degrade.js';
import type { DropoutFill } from './mask-dropout.js';

export type Range = readonly [number, number];

/** One transform as written in a config file (Albumentations names and parameters). */
export type TransformSpec =
  | { readonly type: 'HorizontalFlip'; readonly p?: number }
  | { readonly type: 'VerticalFlip'; readonly p?: number }
  | {
      readonly type: 'Affine';
      readonly p?: number;
      /** Zoom factor range; a number s means [s, s]. Default [1, 1]. */
      readonly scale?: number | Range;
      /** Shift as a fraction of width/height; a number t means [-t, t]. Default 0. */
      readonly translate_percent?: number | Range;
      /** Degrees, counter-clockwise positive (OpenCV); a number r means [-r, r]. Default 0. */
      readonly rotate?: number | Range;
      /** Degrees along x; a number s means [-s, s]. Default 0. */
      readonly shear?: number | Range;
    }
  | {
      readonly type: 'ShiftScaleRotate';
      readonly p?: number;
      /** Defaults as Albumentations: 0.0625, 0.1 (scale 1 ± 0.1), 45. */
      readonly shift_limit?: number | Range;
      readonly scale_limit?: number | Range;
      readonly rotate_limit?: number | Range;
    }
  | {
      readonly type: 'RandomBrightnessContrast';
      readonly p?: number;
      /** Added brightness (fraction of the maximum); default 0.2 → [-0.2, 0.2]. */
      readonly brightness_limit?: number | Range;
      /** Contrast factor 1 + c; default 0.2 → c in [-0.2, 0.2]. */
      readonly contrast_limit?: number | Range;
    }
  | {
      readonly type: 'RandomGamma';
      readonly p?: number;
      /** Gamma × 100; default [80, 120]. */
      readonly gamma_limit?: number | Range;
    }
  | {
      readonly type: 'GaussNoise';
      readonly p?: number;
      /** Noise standard deviation as a fraction of the maximum; default [0.2, 0.44] as Albumentations 2. */
      readonly std_range?: Range;
    }
  | {
      readonly type: 'GaussianBlur';
      readonly p?: number;
      /** Sigma in pixels; default [0.5, 3]. */
      readonly sigma_limit?: number | Range;
    }
  | {
      /**
       * The degradations of `dentseg evaluate --degrade`, for training a model to shrug
       * them off. Applied to the image only (after the warp, in list order with the other
       * pixel transforms); the mask is never touched. Default p 0.5.
       */
      readonly type: 'Degrade';
      readonly p?: number;
      /**
       * Degradation specs as `--degrade` takes them (`noise:0.05`, `noise:0.05,blur:1.5`
       * for both at once), where any level may be a range `lo-hi` drawn uniformly per
       * sample (integers for motion and jpeg, both ends included): `blur:0.5-2.5`.
       * Pixel levels (blur, motion, downscale) are pixels of the augmented image, i.e.
       * the network input (a tile's native pixels for a tiled model).
       */
      readonly specs: readonly string[];
      /** `one` (default): one spec, picked uniformly; `some`: a random non-empty subset, in list order. */
      readonly choose?: 'one' | 'some';
    }
  | {
      /**
       * Remove whole objects (8-connected regions of one class: a tooth) from image and mask,
       * before the geometric transforms. Default p 0.5.
       */
      readonly type: 'MaskDropout';
      readonly p?: number;
      /** How many objects; a number n means [1, n], a range [lo, hi] is drawn inclusive. Default 1. */
      readonly max_objects?: number | Range;
      /** The removed pixels' grey (0…1), or `"mean"`: the background around them. Default 0. */
      readonly fill?: number | 'mean';
      /**
       * dentseg's addition: only objects of these mask classes may be removed (e.g. the
       * premolars and molars, where gaps confuse numbering); default every class.
       */
      readonly classes?: readonly number[];
    };

export type TransformType = TransformSpec['type'];

/** Normalised transform: every range explicit. */
export type NormalisedTransform =
  | { readonly type: 'HorizontalFlip' | 'VerticalFlip'; readonly p: number }
  | {
      readonly type: 'Affine';
      readonly p: number;
      readonly scale: Range;
      readonly translate: Range;
      readonly rotate: Range;
      readonly shear: Range;
    }
  | {
      readonly type: 'RandomBrightnessContrast';
      readonly p: number;
      readonly brightness: Range;
      readonly contrast: Range;
    }
  | { readonly type: 'RandomGamma'; readonly p: number; readonly gamma: Range }
  | { readonly type: 'GaussNoise'; readonly p: number; readonly std: Range }
  | { readonly type: 'GaussianBlur'; readonly p: number; readonly sigma: Range }
  | {
      readonly type: 'Degrade';
      readonly p: number;
      readonly choose: 'one' | 'some';
      /** One entry per spec: its steps, each level a [lo, hi] range. */
      readonly options: readonly (readonly DegradeRangeStep[])[];
    }
  | {
      readonly type: 'MaskDropout';
      readonly p: number;
      /** Inclusive integer range of objects to remove. */
      readonly objects: Range;
      readonly fill: DropoutFill;
      /** Mask classes whose objects may be removed; absent: every class. */
      readonly classes?: readonly number[];
    };

/** One step of a `Degrade` spec with its level range (lo = hi for a fixed level). */
export interface DegradeRangeStep {
  readonly kind: DegradationKind;
  readonly level: Range;
}

/** Augmentation config as stored in JSON/YAML and in a run folder. */
export interface AugmentConfig {
  readonly transforms: readonly TransformSpec[];
  /**
   * Class swap applied to masks under a horizontal / vertical flip (`map[i]` is what
   * class i becomes), e.g. FDI quadrants 1↔2, 3↔4. The loader fills these from the
   * data set when absent.
   */
  readonly flipClassMap?: readonly number[];
  readonly vflipClassMap?: readonly number[];
}

export interface NormalisedAugmentConfig {
  readonly transforms: readonly NormalisedTransform[];
  readonly flipClassMap?: readonly number[];
  readonly vflipClassMap?: readonly number[];
}

/**
 * Default training augmentation for panoramics: mirror (with FDI relabelling), mild
 * affine, brightness/contrast, gamma, light noise and blur.
 */
export const DEFAULT_AUGMENT: AugmentConfig = Object.freeze({
  transforms: Object.freeze([
    { type: 'HorizontalFlip', p: 0.5 },
    { type: 'Affine', p: 0.7, scale: [0.9, 1.1], translate_percent: 0.05, rotate: 10, shear: 5 },
    { type: 'RandomBrightnessContrast', p: 0.5, brightness_limit: 0.15, contrast_limit: 0.15 },
    { type: 'RandomGamma', p: 0.3, gamma_limit: [80, 120] },
    { type: 'GaussNoise', p: 0.2, std_range: [0.01, 0.04] },
    { type: 'GaussianBlur', p: 0.1, sigma_limit: [0.3, 1.0] },
  ] as TransformSpec[]),
}) as AugmentConfig;

function bad(key: string, expected: string, got: unknown): never {
  throw new DentsegError(
    'E_CONFIG_INVALID',
    `augmentation "${key}" must be ${expected}, got ${JSON.stringify(got)}`,
    {
      hint: 'see TransformSpec in src/augment/config.ts',
    },
  );
}

function range(
  key: string,
  v: unknown,
  dflt: Range,
  symmetric: boolean,
  lo = -Infinity,
  hi = Infinity,
): Range {
  if (v === undefined) return dflt;
  let r: [number, number];
  if (typeof v === 'number') r = symmetric ? [-Math.abs(v), Math.abs(v)] : [v, v];
  else if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    r = [v[0] as number, v[1] as number];
  else
    return bad(
      key,
      symmetric ? 'a number t (meaning [-t, t]) or [min, max]' : 'a number or [min, max]',
      v,
    );
  if (!(r[0] <= r[1]) || r[0] < lo || r[1] > hi || !r.every(Number.isFinite))
    bad(key, `[min, max] with ${lo} ≤ min ≤ max ≤ ${hi}`, v);
  return Object.freeze(r);
}

const KEYS: Record<TransformType, readonly string[]> = {
  HorizontalFlip: [],
  VerticalFlip: [],
  Affine: ['scale', 'translate_percent', 'rotate', 'shear'],
  ShiftScaleRotate: ['shift_limit', 'scale_limit', 'rotate_limit'],
  RandomBrightnessContrast: ['brightness_limit', 'contrast_limit'],
  RandomGamma: ['gamma_limit'],
  GaussNoise: ['std_range'],
  GaussianBlur: ['sigma_limit'],
  Degrade: ['specs', 'choose'],
  MaskDropout: ['max_objects', 'fill', 'classes'],
};

const NUMBER = String.raw`(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?`;
const STEP = new RegExp(`^([a-z]+):(${NUMBER})(?:-(${NUMBER}))?$`, 'i');

/** Parse one `Degrade` spec (`noise:0.02-0.1,blur:1`) at config key `key`. */
function degradeSpec(key: string, v: unknown): readonly DegradeRangeStep[] {
  if (typeof v !== 'string' || v.trim() === '' || v.trim() === 'none')
    bad(key, 'a degradation spec such as "noise:0.02-0.1" or "noise:0.05,blur:1.5"', v);
  const steps: DegradeRangeStep[] = [];
  for (const raw of v.split(',')) {
    const token = raw.trim();
    const m = STEP.exec(token);
    const kind = m?.[1] as DegradationKind | undefined;
    if (!m || kind === undefined || !DEGRADATION_KINDS.includes(kind))
      bad(key, `kind:level or kind:lo-hi with kind one of ${DEGRADATION_KINDS.join(', ')}`, token);
    const lo = Number(m[2]);
    const hi = m[3] === undefined ? lo : Number(m[3]);
    const problem = degradationLevelProblem(kind, lo) ?? degradationLevelProblem(kind, hi);
    if (problem !== undefined) bad(key, `a valid level (${problem})`, token);
    if (!(lo <= hi)) bad(key, 'a range lo-hi with lo ≤ hi', token);
    steps.push(Object.freeze({ kind, level: Object.freeze([lo, hi] as const) }));
  }
  return Object.freeze(steps);
}

function normaliseOne(t: unknown, i: number): NormalisedTransform {
  if (typeof t !== 'object' || t === null) bad(`transforms[${i}]`, 'an object with a "type"', t);
  const o = t as Record<string, unknown>;
  const type = o.type as TransformType;
  if (!(type in KEYS)) bad(`transforms[${i}].type`, Object.keys(KEYS).join(' | '), o.type);
  for (const k of Object.keys(o))
    if (k !== 'type' && k !== 'p' && !KEYS[type].includes(k))
      bad(`transforms[${i}].${k}`, `one of p, ${KEYS[type].join(', ')}`, k);
  const p =
    o.p ??
    (type === 'HorizontalFlip' || type === 'VerticalFlip' ? 0.5 : type === 'Affine' ? 1 : 0.5);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    bad(`transforms[${i}].p`, 'a probability in [0, 1]', p);
  const k = (name: string): string => `transforms[${i}].${name}`;
  switch (type) {
    case 'HorizontalFlip':
    case 'VerticalFlip':
      return { type, p };
    case 'Affine':
      return {
        type,
        p,
        scale: range(k('scale'), o.scale, [1, 1], false, 0.01, 100),
        translate: range(k('translate_percent'), o.translate_percent, [0, 0], true, -1, 1),
        rotate: range(k('rotate'), o.rotate, [0, 0], true, -360, 360),
        shear: range(k('shear'), o.shear, [0, 0], true, -80, 80),
      };
    case 'ShiftScaleRotate': {
      const s = range(k('scale_limit'), o.scale_limit, [-0.1, 0.1], true, -0.99, 100);
      return {
        type: 'Affine',
        p,
        scale: [1 + s[0], 1 + s[1]],
        translate: range(k('shift_limit'), o.shift_limit, [-0.0625, 0.0625], true, -1, 1),
        rotate: range(k('rotate_limit'), o.rotate_limit, [-45, 45], true, -360, 360),
        shear: [0, 0],
      };
    }
    case 'RandomBrightnessContrast':
      return {
        type,
        p,
        brightness: range(k('brightness_limit'), o.brightness_limit, [-0.2, 0.2], true, -1, 1),
        contrast: range(k('contrast_limit'), o.contrast_limit, [-0.2, 0.2], true, -1, 10),
      };
    case 'RandomGamma':
      return { type, p, gamma: range(k('gamma_limit'), o.gamma_limit, [80, 120], false, 1, 1000) };
    case 'GaussNoise':
      return { type, p, std: range(k('std_range'), o.std_range, [0.2, 0.44], false, 0, 1) };
    case 'GaussianBlur':
      return { type, p, sigma: range(k('sigma_limit'), o.sigma_limit, [0.5, 3], false, 0, 20) };
    case 'Degrade': {
      if (!Array.isArray(o.specs) || o.specs.length === 0)
        bad(k('specs'), 'a non-empty array of degradation specs', o.specs);
      const choose = o.choose ?? 'one';
      if (choose !== 'one' && choose !== 'some') bad(k('choose'), '"one" or "some"', choose);
      const options = o.specs.map((spec: unknown, j) => degradeSpec(`${k('specs')}[${j}]`, spec));
      return { type, p, choose, options: Object.freeze(options) };
    }
    case 'MaskDropout': {
      const raw = typeof o.max_objects === 'number' ? [1, o.max_objects] : o.max_objects;
      const objects = range(k('max_objects'), raw, [1, 1], false, 0, 255);
      if (!objects.every(Number.isInteger))
        bad(k('max_objects'), 'a whole number n or [lo, hi] of whole numbers', o.max_objects);
      const fill = o.fill ?? 0;
      if (fill !== 'mean' && !(typeof fill === 'number' && fill >= 0 && fill <= 1))
        bad(k('fill'), 'a grey level in [0, 1] or "mean"', fill);
      const classes = o.classes;
      if (classes === undefined) return { type, p, objects, fill };
      if (
        !Array.isArray(classes) ||
        classes.length === 0 ||
        !classes.every((c) => Number.isInteger(c) && c >= 1 && c < 256)
      )
        bad(k('classes'), 'a non-empty list of mask classes 1…255', classes);
      return { type, p, objects, fill, classes: Object.freeze([...(classes as number[])]) };
    }
  }
}

function classMap(key: string, v: unknown): readonly number[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (
    !Array.isArray(v) ||
    !v.every((x) => Number.isInteger(x) && x >= 0 && x < v.length && x < 256)
  )
    bad(key, 'an array of class indices (map[i] = class that i becomes)', v);
  return Object.freeze([...(v as number[])]);
}

/** Validate an unknown value (parsed JSON/YAML) into a frozen, normalised config. */
export function normaliseAugmentConfig(value: unknown): NormalisedAugmentConfig {
  if (value === undefined || value === null) return { transforms: [] };
  const v = (Array.isArray(value) ? { transforms: value } : value) as Record<string, unknown>;
  if (typeof v !== 'object') bad('(root)', 'an object {transforms: [...]}', value);
  for (const key of Object.keys(v))
    if (!['transforms', 'flipClassMap', 'vflipClassMap'].includes(key))
      bad(key, 'one of transforms, flipClassMap, vflipClassMap', key);
  if (!Array.isArray(v.transforms)) bad('transforms', 'an array', v.transforms);
  const flip = classMap('flipClassMap', v.flipClassMap);
  const vflip = classMap('vflipClassMap', v.vflipClassMap);
  return Object.freeze({
    transforms: Object.freeze(v.transforms.map(normaliseOne)),
    ...(flip ? { flipClassMap: flip } : {}),
    ...(vflip ? { vflipClassMap: vflip } : {}),
  });
}
