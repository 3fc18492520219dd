/**
 * The input check every analysis carries: is this a panoramic dental X-ray, and is it
 * usable? A small logistic regression (weights in panoramic-weights.json, fitted by
 * scripts/train-quality.ts on ufba425 train panoramics against made-up negatives) scores
 * the layout; the quality estimates that drive enhancement name what is wrong with it in
 * words a dentist reads. Pure: the web page can run it too.
 */
import weightsFile from './panoramic-weights.json' with { type: 'json' };
import { DentsegError } from '../errors.js';
import { AUTO_THRESHOLDS } from './enhance.js';
import { toUnit, type GreyImage } from './image.js';
import { downsampleArea, resizeBilinear } from './kernels.js';
import { logisticPredict, type LogisticModel } from './logistic.js';
import { FEATURE_COUNT, panoramicFeatures } from './panoramic-features.js';
import { estimateQualityUnit } from './quality.js';
import type { InputQuality, QualityIssue } from './quality-words.js';

export {
  QUALITY_ISSUES,
  describeQuality,
  type InputQuality,
  type QualityIssue,
} from './quality-words.js';

/** The fitted classifier and its decision threshold. */
export interface PanoramicClassifier extends LogisticModel {
  readonly threshold: number;
}

/** The committed classifier (scripts/train-quality.ts wrote it). */
export const PANORAMIC_CLASSIFIER: PanoramicClassifier = Object.freeze({
  mean: weightsFile.mean,
  std: weightsFile.std,
  weights: weightsFile.weights,
  bias: weightsFile.bias,
  threshold: weightsFile.threshold,
});

/**
 * Grey-level spread (standard deviation, share of the full range) under which an image is
 * "blank": a flat export, a lost frame. Clean panoramics are ≈ 0.14…0.22.
 */
export const BLANK_CONTRAST = 0.01;

/** Side of the square the quality words are judged on: the bundled model's input. */
const QUALITY_SIDE = 512;

/** The image stretched to `side`² (as the network's `stretch` pre-processing does). */
function square(u: Float64Array, width: number, height: number, side: number): Float64Array {
  if (width === side && height === side) return u;
  return width >= side && height >= side
    ? downsampleArea(u, width, height, side, side)
    : resizeBilinear(u, width, height, side, side);
}

/**
 * Check an image: panoramic or not, and its problems. Costs one pass of the quality
 * estimates at 512² and two small feature passes (the second only when it is rejected, to
 * tell an inverted panoramic from anything else).
 */
export function checkInput(
  image: GreyImage,
  classifier: PanoramicClassifier = PANORAMIC_CLASSIFIER,
): InputQuality {
  if (classifier.weights.length !== FEATURE_COUNT) {
    throw new DentsegError(
      'E_INTERNAL',
      `panoramic classifier has ${classifier.weights.length} weights for ${FEATURE_COUNT} features`,
      { hint: 'refit it: npx tsx scripts/train-quality.ts' },
    );
  }
  const u = toUnit(image);
  const { width, height } = image;
  const features = panoramicFeatures(u, width, height);
  const q = estimateQualityUnit(square(u, width, height, QUALITY_SIDE), QUALITY_SIDE, QUALITY_SIDE);
  const score = Math.round(1000 * logisticPredict(classifier, features.vector)) / 1000;
  const issues: QualityIssue[] = [];
  const blank = features.quality.contrast < BLANK_CONTRAST;
  const panoramic = !blank && score >= classifier.threshold;
  if (blank) issues.push('blank');
  else if (!panoramic) {
    const inverted = panoramicFeatures(u, width, height, true);
    issues.push(
      logisticPredict(classifier, inverted.vector) >= classifier.threshold
        ? 'inverted?'
        : 'not a panoramic X-ray',
    );
  }
  if (!blank) {
    if (q.contrast < AUTO_THRESHOLDS.contrast) issues.push('low contrast');
    if (q.noise > AUTO_THRESHOLDS.noise) issues.push('noisy');
    // Noise raises the sharpness measure, so blur is judged on the images that are not noisy.
    else if (q.sharpness < AUTO_THRESHOLDS.sharpness) issues.push('blurred');
  }
  return Object.freeze({ panoramic, score, issues: Object.freeze(issues) });
}
