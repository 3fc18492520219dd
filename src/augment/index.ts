/**
 * Augmentation: serialisable config (Albumentations semantics), a seeded PRNG with
 * saveable state (src/rng.ts, shared with the data stage), and one combined warp per
 * sample. Platform-free: reading a config file from disk (`loadAugmentConfig`) is the Node
 * side, ./file.node.ts.
 */
export {
  DEFAULT_AUGMENT,
  normaliseAugmentConfig,
  type AugmentConfig,
  type NormalisedAugmentConfig,
  type NormalisedTransform,
  type TransformSpec,
  type TransformType,
  type Range,
  type DegradeRangeStep,
} from './config.js';
export {
  augmentSample,
  augmentSampleAsync,
  augmentNeedsJpeg,
  warp,
  type Affine,
  type AugmentDecision,
  type AugmentJpeg,
  type AugmentOptions,
  type AugmentResult,
} from './apply.js';
export { Rng, mulberry32, hashSeed, type RngState } from '../rng.js';
