/**
 * One training sample end to end: decode → pre-process to network size (or, for a tiled
 * model, cut one lesion-aware tile at native resolution) → augment → normalise. Shared by
 * the in-process loader and the worker threads, so both give the same bytes for the same
 * (seed, epoch, sample index).
 */
import { augmentSampleAsync } from '../augment/apply.js';
import type { NormalisedAugmentConfig } from '../augment/config.js';
import { Rng } from '../rng.js';
import { loadSample, type SampleRef } from './dataset.js';
import { jpegRoundTripUnit } from './jpeg.js';
import {
  greyStats,
  maskToInput,
  normaliseGrey,
  prepareGrey,
  type PreprocessConfig,
} from './preprocess.js';
import { cropMask, extractTile, sampleTileOrigin } from './tiling.js';

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
  let { width, height } = geometry;
  let stats: { mean: number; std: number } | undefined;
  const tiling = preprocess.tiling;
  if (tiling) {
    // One tile per sample at native resolution, placed by its own seeded stream so the
    // augmentation's stream (below) is the same with and without tiling.
    const rng = Rng.seeded(seed, epoch, index, 0x711e);
    const origin = sampleTileOrigin(m, width, height, tiling.tile, tiling.lesionShare, () =>
      rng.next(),
    );
    const [th, tw] = tiling.tile;
    // zscore takes the whole image's statistics, as the sliding window does at inference;
    // beyond a smaller image the tile holds the value that normalises to 0, as there.
    if (preprocess.normalise === 'zscore') stats = greyStats(grey);
    grey = extractTile(grey, height, width, 1, origin, th, tw, undefined, 0, stats?.mean ?? 0);
    m = cropMask(m, width, height, origin, th, tw);
    [width, height] = [tw, th];
  }
  if (augment && augment.transforms.length > 0) {
    const rng = Rng.seeded(seed, epoch, index);
    // The Node side injects the JPEG encoder that a Degrade augmentation's jpeg: needs.
    ({ grey, mask: m } = await augmentSampleAsync(grey, m, width, height, augment, rng, {
      jpeg: jpegRoundTripUnit,
    }));
  }
  return { image: normaliseGrey(grey, preprocess, undefined, 0, stats), mask: m };
}
