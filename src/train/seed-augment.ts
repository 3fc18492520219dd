/**
 * The seed project's augmentation (its Albumentations pipeline: HorizontalFlip p=0.7,
 * Rotate ±5° p=0.7, RandomBrightnessContrast ±0.1/±0.1 p=0.3, ShiftScaleRotate shift 0.1,
 * scale 0.1, rotate 10° p=0.5, GaussNoise p=0.1), as an AugmentConfig so that
 * `dentseg train --augment seed` reproduces the seed's protocol.
 */
import type { AugmentConfig } from '../augment/config.js';

/**
 * The seed's pipeline. `Rotate` is an Affine with rotation only; GaussNoise uses
 * Albumentations 1.x's default variance 10…50 on the 0…255 scale, i.e. a standard
 * deviation of 0.012…0.028 of the maximum.
 */
export const SEED_AUGMENT: AugmentConfig = Object.freeze({
  transforms: Object.freeze([
    { type: 'HorizontalFlip', p: 0.7 },
    { type: 'Affine', p: 0.7, rotate: 5 },
    { type: 'RandomBrightnessContrast', p: 0.3, brightness_limit: 0.1, contrast_limit: 0.1 },
    { type: 'ShiftScaleRotate', p: 0.5, shift_limit: 0.1, scale_limit: 0.1, rotate_limit: 10 },
    { type: 'GaussNoise', p: 0.1, std_range: [Math.sqrt(10) / 255, Math.sqrt(50) / 255] },
  ]),
}) as AugmentConfig;
