/**
 * The imaging flags: `--degrade SPEC` with `--degrade-seed N` (evaluate) to measure
 * robustness on reproducibly damaged inputs, `--enhance MODE` (evaluate, predict, serve,
 * worker) to override the model's `preprocess.enhance`, and the input check's `--force`
 * (predict, serve, worker). Validated once here into a frozen plan.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { jpegRoundTrip } from '../data/jpeg.js';
import type { GreyImage } from '../imaging/types.js';
import { checkNumber, invalidValue } from './flags.js';
import type { LoadedModel } from '../infer/types.js';
import {
  formatEnhanceSpec,
  parseEnhanceSpec,
  degradeImage,
  formatDegradeSpec,
  hashString,
  parseDegradeSpec,
  type Degradation,
} from '../imaging/index.js';

/** The raw flags as commander hands them over. */
export interface ImagingCliOptions {
  degrade?: string;
  degradeSeed?: string;
  enhance?: string;
}

/** What the flags ask for, validated. */
export interface ImagingPlan {
  readonly degrade: readonly Degradation[];
  readonly degradeSeed: number;
  /** For the JSON report: `{ spec, seed }` when degrading, else undefined. */
  readonly report: { readonly spec: string; readonly seed: number } | undefined;
  /** `--enhance` as canonical spec text, or undefined to keep the model's own setting. */
  readonly enhance: string | undefined;
  /** Applies the plan to one decoded image; `label` (its file name) seeds the noise. */
  readonly transform: ((image: GreyImage, label: string) => Promise<GreyImage>) | undefined;
}

/** Add `--degrade`, `--degrade-seed` and `--enhance` to a command. */
export function addImagingOptions(cmd: Command): Command {
  return cmd
    .option(
      '--degrade <spec>',
      'damage each input before pre-processing, e.g. noise:0.05,blur:1.5 (kinds: noise:σ share ' +
        'of full range, poisson:photons, blur:σpx, motion:px, contrast:factor, gamma:g, ' +
        'downscale:k, jpeg:quality)',
    )
    .option('--degrade-seed <n>', 'seed of the random degradations (integer ≥ 0)', '0')
    .option(...ENHANCE_OPTION);
}

/** `--enhance` as `[flags, description]` for `cmd.option(...ENHANCE_OPTION)`. */
export const ENHANCE_OPTION: readonly [string, string] = [
  '--enhance <mode>',
  'enhance the input at network size: none, auto (denoise, sharpen or CLAHE only where ' +
    'needed) or a list of denoise[:σ], unsharp[:amount], clahe[:clip] (default: the ' +
    "model's preprocess.enhance, else none)",
];

/**
 * `--force` as `[flags, description]` for `cmd.option(...FORCE_OPTION)`: the one definition
 * `predict`, `serve` and `worker` share.
 */
export const FORCE_OPTION: readonly [string, string] = [
  '--force',
  'keep findings and teeth of inputs that do not look like a panoramic dental X-ray ' +
    '(default: withheld, i.e. empty, and the input check says why)',
];

/** `--enhance` validated to canonical spec text; undefined when not given. */
export function enhanceFromCli(value: string | undefined): string | undefined {
  return value === undefined ? undefined : formatEnhanceSpec(parseEnhanceSpec(value, '--enhance'));
}

/**
 * The model with its pre-processing's `enhance` replaced by `enhance` (undefined: the
 * model unchanged). The engine is shared, so dispose only the original.
 */
export function withEnhance(model: LoadedModel, enhance: string | undefined): LoadedModel {
  if (enhance === undefined) return model;
  const { enhance: _old, ...rest } = model.meta.preprocess;
  const preprocess = enhance === 'none' ? rest : { ...rest, enhance };
  return {
    meta: { ...model.meta, preprocess },
    engine: model.engine,
    dir: model.dir,
    // What computes it stays visible (the server's health route reports it).
    ...(model.backend !== undefined ? { backend: model.backend } : {}),
    ...(model.threads !== undefined ? { threads: model.threads } : {}),
    dispose: () => model.dispose(),
  };
}

/** Validate the flags into a frozen plan (E_USAGE naming the flag). */
export function imagingPlanFromCli(opts: ImagingCliOptions): ImagingPlan {
  const degrade = parseDegradeSpec(opts.degrade ?? '', '--degrade');
  const seedText = opts.degradeSeed ?? '0';
  // digits only: a seed written as 1e3 or 0x10 is more likely a slip than a choice
  if (!/^\s*\d+\s*$/.test(seedText))
    throw invalidValue('--degrade-seed', 'an integer ≥ 0', seedText);
  const degradeSeed = checkNumber('--degrade-seed', seedText, {
    integer: true,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  });
  const transform =
    degrade.length === 0
      ? undefined
      : (image: GreyImage, label: string): Promise<GreyImage> =>
          degradeImage(image, degrade, {
            // Seeded by the file name, not the order, so a subset sees the same damage.
            seed: [degradeSeed, hashString(path.basename(label))],
            jpeg: jpegRoundTrip,
          });
  const enhance = enhanceFromCli(opts.enhance);
  return Object.freeze({
    enhance,
    degrade,
    degradeSeed,
    report:
      degrade.length === 0
        ? undefined
        : Object.freeze({ spec: formatDegradeSpec(degrade), seed: degradeSeed }),
    transform,
  });
}
