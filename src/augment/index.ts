/**
 * Augmentation: serialisable config (Albumentations semantics), a seeded PRNG with
 * saveable state, and one combined warp per sample. Everything here is platform-free
 * except `loadAugmentConfig`, re-exported from the Node side (src/data/augment-file.ts);
 * browser code imports ./config.js, ./apply.js and ./rng.js directly.
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
export { Rng, mulberry32, hashSeed, type RngState } from './rng.js';
export { loadAugmentConfig } from '../data/augment-file.js';
