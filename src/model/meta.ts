/**
 * `dentseg.json`: what a model folder says about itself (docs/model-folder.md), so that
 * inference replays the exact pre-processing and names the classes the network learned.
 */
import { DentsegError } from '../errors.js';
import { validatePreprocessConfig, type PreprocessConfig } from '../data/preprocess.js';
import type { NormalizedUnetOptions } from './unet.js';

/**
 * How a numbering model's class map is post-processed (src/numbering/postprocess.ts).
 * Which steps run; each includes the ones before it. `none`: only the presence rule
 * (`minToothPx`); `unique`: each number at most once (largest component kept, fragments
 * merged into the tooth they touch, other whole teeth renumbered to a free number);
 * `quadrant`: quadrant from the side of the midline and of the occlusal curve; `arch`:
 * order along each quadrant's arch by an optimal assignment (swapped neighbours fixed,
 * gaps kept).
 */
export const NUMBERING_MODES = ['none', 'unique', 'quadrant', 'arch'] as const;
export type NumberingMode = (typeof NUMBERING_MODES)[number];

/**
 * Post-processing of a numbering model's class map (src/numbering), recorded with the
 * model so `predict`, `serve` and `evaluate` number teeth the same way.
 */
export interface ModelPostprocess {
  /** Numbering models: anatomical steps to run (default `arch`, all). */
  readonly numbering?: NumberingMode;
  /**
   * Numbering models: a tooth is present when its number keeps at least this many pixels
   * at the network's input size after post-processing (default 0.05 % of the input's
   * pixels: 131 at 512²).
   */
  readonly minToothPx?: number;
  /** Smallest region kept, in pixels (integer ≥ 1). */
  readonly minAreaPx?: number;
  /** Lesion type this model finds (a non-empty name such as `"caries"`). */
  readonly lesion?: string;
  /**
   * Lesion models: keep only regions that touch a tooth grown by `marginPx` pixels (integer
   * 0…{@link MAX_TOOTH_GATE_MARGIN}, at the lesion mask's resolution), when the set has a
   * teeth model (src/infer/lesion-gate.ts).
   */
  readonly toothGate?: { readonly marginPx: number };
  /**
   * Average the network's output with its output on the horizontally mirrored X-ray (FDI
   * classes swapped right ↔ left on the way back) unless the caller says otherwise
   * (`--tta` / `--no-tta`): two forward passes for a steadier map.
   */
  readonly tta?: boolean;
  /**
   * Binary models: the probability at or above which a pixel is foreground, the operating
   * point chosen when the model was validated (0…1; default 0.5). A caller's `--threshold`
   * overrides it.
   */
  readonly threshold?: number;
  /**
   * Tiled models with `tta`: also run the mirrored pair at these multiples of the working
   * width (`tiling.width`, else the X-ray's) and average every map at the X-ray's size; a
   * small lesion seen at several sizes is found more often, for one pass pair per scale.
   * Each in {@link TTA_SCALE_MIN}…{@link TTA_SCALE_MAX}; 1 is the pass every model makes.
   */
  readonly ttaScales?: readonly number[];
}

/** Smallest and largest `postprocess.ttaScales` entry. */
export const TTA_SCALE_MIN = 0.5;
export const TTA_SCALE_MAX = 2;

/**
 * Largest `postprocess.toothGate.marginPx`: wider margins would reach across most of a
 * panoramic's jaws and gate nothing.
 */
export const MAX_TOOTH_GATE_MARGIN = 256;

/** The same block, under the name the numbering code uses. */
export type PostprocessMeta = ModelPostprocess;

/** The `dentseg.json` of a model folder (format 1). */
export interface ModelMeta {
  readonly format: 1;
  /** Model id, e.g. `teeth-binary`. */
  readonly name: string;
  /** Model version (semver-like string). */
  readonly version: string;
  readonly task: 'binary' | 'multiclass';
  /** Binary: one name (the target). Multi-class: K names, index 0 = background. */
  readonly classes: readonly string[];
  readonly input: { readonly size: readonly [number, number]; readonly channels: 1 | 3 };
  /** Pre-processing replayed exactly at inference (src/data). */
  readonly preprocess: PreprocessConfig;
  readonly architecture: {
    readonly encoder: 'vgg16';
    readonly width: number;
    readonly decoderFilters: readonly number[];
    readonly batchNorm: boolean;
    /** Encoder convolutions followed by batch norm (vgg16_bn); absent = false. */
    readonly encoderBatchNorm?: boolean;
    readonly dropout: number;
  };
  /**
   * Post-processing of the network's output. Numbering models: `numbering` (anatomical
   * steps) and `minToothPx` (presence rule). Findings: `minAreaPx`, regions smaller than this
   * many pixels (at the input's resolution; for a tiled model with `tiling.width`, at that
   * width's: see `findingsMinAreaPx`) are specks, replacing predict's
   * 0.01 %-of-the-image rule; `lesion`: the finding type (e.g. `"caries"`) of a lesion model,
   * whose `dentseg evaluate` report adds lesion-level detection metrics.
   */
  readonly postprocess?: ModelPostprocess;
  /** Free-form training facts (command, seed, epochs, time). */
  readonly training?: Readonly<Record<string, unknown>>;
  /** Free-form metrics (e.g. best validation Dice). */
  readonly metrics?: Readonly<Record<string, unknown>>;
}

/** The `architecture` block of {@link ModelMeta} for built U-Net options. */
export function architectureOf(o: NormalizedUnetOptions): ModelMeta['architecture'] {
  return {
    encoder: 'vgg16',
    width: o.width,
    decoderFilters: [...o.decoderFilters],
    batchNorm: o.batchNorm,
    // only written when set, so plain-VGG16 models keep the dentseg.json they always had
    ...(o.encoderBatchNorm ? { encoderBatchNorm: true } : {}),
    dropout: o.dropout,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Check the shape of a parsed `dentseg.json` (unknown at the I/O edge) and return it typed.
 * Throws E_MODEL_INVALID naming `file` and the first bad key.
 */
export function parseModelMeta(value: unknown, file: string): ModelMeta {
  const bad = (key: string, expected: string): never => {
    throw new DentsegError('E_MODEL_INVALID', `dentseg.json: "${key}" must be ${expected}`, {
      file,
      hint: 'point --model at a folder written by `dentseg train`',
    });
  };
  if (!isRecord(value)) return bad('(root)', 'an object');
  if (value.format !== 1) bad('format', '1');
  if (typeof value.name !== 'string') bad('name', 'a string');
  if (typeof value.version !== 'string') bad('version', 'a string');
  if (value.task !== 'binary' && value.task !== 'multiclass')
    bad('task', '"binary" or "multiclass"');
  const classes = value.classes;
  if (!Array.isArray(classes) || classes.length < 1 || classes.some((c) => typeof c !== 'string')) {
    bad('classes', 'a non-empty array of strings');
  }
  const input = value.input;
  if (!isRecord(input)) return bad('input', 'an object');
  const size = input.size;
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    size.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 1)
  ) {
    bad('input.size', '[height, width] in pixels');
  }
  if (input.channels !== 1 && input.channels !== 3) bad('input.channels', '1 or 3');
  if (!isRecord(value.preprocess)) bad('preprocess', 'an object (PreprocessConfig)');
  let preprocess: PreprocessConfig;
  try {
    preprocess = validatePreprocessConfig(value.preprocess);
  } catch (err) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `dentseg.json: ${err instanceof Error ? err.message : String(err)}`,
      { file, cause: err },
    );
  }
  const arch = value.architecture;
  if (!isRecord(arch)) return bad('architecture', 'an object');
  if (arch.encoder !== 'vgg16') bad('architecture.encoder', '"vgg16"');
  if (typeof arch.width !== 'number') bad('architecture.width', 'a number');
  const post = value.postprocess;
  if (post !== undefined) {
    if (!isRecord(post))
      return bad(
        'postprocess',
        'an object {numbering?, minToothPx?, minAreaPx?, lesion?, toothGate?, tta?, threshold?, ttaScales?}',
      );
    const known = [
      'numbering',
      'minToothPx',
      'minAreaPx',
      'lesion',
      'toothGate',
      'tta',
      'threshold',
      'ttaScales',
    ];
    for (const k of Object.keys(post))
      if (!known.includes(k)) bad(`postprocess.${k}`, 'absent (unknown key)');
    if (
      post.numbering !== undefined &&
      !(NUMBERING_MODES as readonly unknown[]).includes(post.numbering)
    ) {
      bad('postprocess.numbering', `one of ${NUMBERING_MODES.join(', ')}`);
    }
    const n = post.minToothPx;
    if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 1)) {
      bad('postprocess.minToothPx', 'a whole number of pixels ≥ 1');
    }
    const min = post.minAreaPx;
    if (min !== undefined && !(typeof min === 'number' && Number.isInteger(min) && min >= 1))
      bad('postprocess.minAreaPx', 'an integer ≥ 1 (pixels)');
    if (post.lesion !== undefined && !(typeof post.lesion === 'string' && post.lesion !== ''))
      bad('postprocess.lesion', 'a non-empty string (the finding type, e.g. "caries")');
    if (post.tta !== undefined && typeof post.tta !== 'boolean')
      bad('postprocess.tta', 'true or false');
    const th = post.threshold;
    if (th !== undefined && !(typeof th === 'number' && th >= 0 && th <= 1))
      bad('postprocess.threshold', 'a number 0…1');
    if (th !== undefined && value.task !== 'binary')
      bad('postprocess.threshold', 'absent for a multi-class model (its mask is the arg-max)');
    const scales = post.ttaScales;
    if (scales !== undefined) {
      if (
        !Array.isArray(scales) ||
        scales.length === 0 ||
        !scales.every((x) => typeof x === 'number' && x >= TTA_SCALE_MIN && x <= TTA_SCALE_MAX) ||
        new Set(scales).size !== scales.length
      )
        bad(
          'postprocess.ttaScales',
          `a non-empty list of different numbers ${TTA_SCALE_MIN}…${TTA_SCALE_MAX}`,
        );
      if (!preprocess.tiling) bad('postprocess.ttaScales', 'absent without preprocess.tiling');
    }
    const gate = post.toothGate;
    if (gate !== undefined) {
      if (!isRecord(gate) || Object.keys(gate).some((k) => k !== 'marginPx'))
        bad('postprocess.toothGate', 'an object {marginPx}');
      const margin = (gate as Record<string, unknown>).marginPx;
      if (!(
        typeof margin === 'number' &&
        Number.isInteger(margin) &&
        margin >= 0 &&
        margin <= MAX_TOOTH_GATE_MARGIN
      ))
        bad('postprocess.toothGate.marginPx', `an integer 0…${MAX_TOOTH_GATE_MARGIN} (pixels)`);
    }
  }
  if (preprocess.tiling && (size as number[]).some((n, i) => n !== preprocess.tiling!.tile[i]))
    bad('input.size', `the tile size [${preprocess.tiling.tile.join(', ')}] of preprocess.tiling`);
  return { ...(value as unknown as ModelMeta), preprocess };
}
