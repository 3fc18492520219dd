/**
 * One training sample end to end: decode → pre-process to network size → augment →
 * normalise. Shared by the in-process loader and the worker threads, so both give the
 * same bytes for the same (seed, epoch, sample index).
 */
import { augmentSample } from '../augment/apply.js';
import type { NormalisedAugmentConfig } from '../augment/config.js';
import { Rng } from '../augment/rng.js';
import { loadSample, type SampleRef } from './dataset.js';
import { maskToInput, normaliseGrey, prepareGrey, type PreprocessConfig } from './preprocess.js';

export interface PreparedSample {
  /** `h*w*channels` network input (normalised). */
  readonly image: Float32Array;
  /** `h*w` class indices. */
  readonly mask: Uint8Array;
}

/**
 * Prepare sample `ref`; `index` is its position in the loader's sample list (not in the
 * shuffled order), so its augmentation does not depend on shuffling or workers.
 */
export async function prepareSample(
  ref: SampleRef,
  index: number,
  preprocess: PreprocessConfig,
  augment: NormalisedAugmentConfig | undefined,
  seed: number,
  epoch: number,
): Promise<PreparedSample> {
  const { image, mask } = await loadSample(ref);
  const prepared = prepareGrey(image, preprocess);
  const geometry = prepared.geometry;
  let grey = prepared.grey;
  let m = maskToInput(mask, geometry);
  if (augment && augment.transforms.length > 0) {
    const rng = Rng.seeded(seed, epoch, index);
    ({ grey, mask: m } = augmentSample(grey, m, geometry.width, geometry.height, augment, rng));
  }
  return { image: normaliseGrey(grey, preprocess), mask: m };
}
