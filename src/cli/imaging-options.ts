/**
 * The imaging flags shared by `evaluate` (and later `predict`/`serve`): `--degrade SPEC`
 * with `--degrade-seed N` to measure robustness on reproducibly damaged inputs. Validated
 * once here into a frozen plan; the commands only call `transform`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { jpegRoundTrip } from '../data/jpeg.js';
import type { GreyImage } from '../data/types.js';
import { DentsegError } from '../errors.js';
import {
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
}

/** What the flags ask for, validated. */
export interface ImagingPlan {
  readonly degrade: readonly Degradation[];
  readonly degradeSeed: number;
  /** For the JSON report: `{ spec, seed }` when degrading, else undefined. */
  readonly report: { readonly spec: string; readonly seed: number } | undefined;
  /** Applies the plan to one decoded image; `label` (its file name) seeds the noise. */
  readonly transform: ((image: GreyImage, label: string) => Promise<GreyImage>) | undefined;
}

/** Add `--degrade` and `--degrade-seed` to a command. */
export function addImagingOptions(cmd: Command): Command {
  return cmd
    .option(
      '--degrade <spec>',
      'damage each input before pre-processing, e.g. noise:0.05,blur:1.5 (kinds: noise:σ share ' +
        'of full range, poisson:photons, blur:σpx, motion:px, contrast:factor, gamma:g, ' +
        'downscale:k, jpeg:quality)',
    )
    .option('--degrade-seed <n>', 'seed of the random degradations (integer ≥ 0)', '0');
}

/** Validate the flags into a frozen plan (E_USAGE naming the flag). */
export function imagingPlanFromCli(opts: ImagingCliOptions): ImagingPlan {
  const degrade = parseDegradeSpec(opts.degrade ?? '', '--degrade');
  const seedText = opts.degradeSeed ?? '0';
  const degradeSeed = Number(seedText);
  if (!(/^\d+$/.test(seedText.trim()) && Number.isSafeInteger(degradeSeed))) {
    throw new DentsegError(
      'E_USAGE',
      `--degrade-seed must be an integer ≥ 0; received "${seedText}"`,
    );
  }
  const transform =
    degrade.length === 0
      ? undefined
      : (image: GreyImage, label: string): Promise<GreyImage> =>
          degradeImage(image, degrade, {
            // Seeded by the file name, not the order, so a subset sees the same damage.
            seed: [degradeSeed, hashString(path.basename(label))],
            jpeg: jpegRoundTrip,
          });
  return Object.freeze({
    degrade,
    degradeSeed,
    report:
      degrade.length === 0
        ? undefined
        : Object.freeze({ spec: formatDegradeSpec(degrade), seed: degradeSeed }),
    transform,
  });
}
