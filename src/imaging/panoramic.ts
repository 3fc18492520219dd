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
import { logisticPredict, type LogisticModel } from './logistic.js';
import { FEATURE_COUNT, squareFeatures, WORK_SIDE, workingSquare } from './panoramic-features.js';
import { imageQualityEstimate, unitSquare, type QualityEstimate } from './quality.js';
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

/** What {@link inspectInput} finds: the check's verdict and the estimate it came from. */
export interface InputInspection {
  readonly quality: InputQuality;
  /** The image's quality estimate ({@link imageQualityEstimate}), for `auto` enhancement. */
  readonly estimate: QualityEstimate;
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
  return inspectInput(image, classifier).quality;
}

/**
 * {@link checkInput}, also handing back the image's quality estimate so that the pipeline's
 * `auto` enhancement decides on the same one instead of measuring the image again.
 */
export function inspectInput(
  image: GreyImage,
  classifier: PanoramicClassifier = PANORAMIC_CLASSIFIER,
): InputInspection {
  if (classifier.weights.length !== FEATURE_COUNT) {
    throw new DentsegError(
      'E_INTERNAL',
      `panoramic classifier has ${classifier.weights.length} weights for ${FEATURE_COUNT} features`,
      { hint: 'refit it: npx tsx scripts/train-quality.ts' },
    );
  }
  const { width, height } = image;
  // Both squares straight from the pixels where they shrink: a full-size 0…1 copy of a
  // 3000×1300 X-ray costs more than the features themselves.
  const work =
    width >= WORK_SIDE && height >= WORK_SIDE
      ? unitSquare(image, WORK_SIDE)
      : workingSquare(toUnit(image), width, height);
  const features = squareFeatures(work, width, height);
  const q = imageQualityEstimate(image);
  const score = Math.round(1000 * logisticPredict(classifier, features.vector)) / 1000;
  const issues: QualityIssue[] = [];
  const blank = features.quality.contrast < BLANK_CONTRAST;
  const panoramic = !blank && score >= classifier.threshold;
  if (blank) issues.push('blank');
  else if (!panoramic) {
    const inverted = squareFeatures(work, width, height, true);
    issues.push(
      logisticPredict(classifier, inverted.vector) >= classifier.threshold
        ? 'inverted?'
        : 'not a panoramic X-ray',
    );
  }
  if (!blank) {
    if (q.contrast < AUTO_THRESHOLDS.contrast) issues.push('low contrast');
    if (q.noise > AUTO_THRESHOLDS.noise) issues.push('noisy');
    // A streak is told apart from its spectrum, noise or not; it also lowers sharpness.
    if (q.motionPx >= AUTO_THRESHOLDS.motionPx) issues.push('blurred by motion');
    // Noise raises the sharpness measure, so blur is judged on the images that are not noisy.
    else if (q.noise <= AUTO_THRESHOLDS.noise && q.sharpness < AUTO_THRESHOLDS.sharpness)
      issues.push('blurred');
  }
  return Object.freeze({
    quality: Object.freeze({ panoramic, score, issues: Object.freeze(issues) }),
    estimate: q,
  });
}
