/**
 * Imaging stage public API: platform-free operations on grey images (typed arrays in,
 * typed arrays out): seeded degradations for robustness tests, input quality estimates
 * and automatic enhancement, the input check (panoramic or not, usable or not) and its
 * negative generator; connected components and findings of masks (components.ts,
 * findings.ts, imported directly); format sniffing, colour-to-grey, the BMP reader, the
 * 8-bit display rule and the class palette. Decoding with sharp and DICOM, and reading
 * files, are the Node part: `decode.node.ts`, `dicom.node.ts`, `input.node.ts`,
 * `read.node.ts`, imported by Node code only.
 */
export { toUnit, fromUnit, type GreyImage } from './image.js';
export { sniffFormat, type ImageFormat } from './sniff.js';
export { pixelsToGrey } from './luma.js';
export { decodeBmp } from './bmp.js';
export { toGrey8, displayRange } from './grey8.js';
export { classColour, type Rgb } from './palette.js';
export {
  DEGRADATION_KINDS,
  parseDegradeSpec,
  formatDegradeSpec,
  degradeImage,
  degradeUnit,
  degradationLevelProblem,
  degradationLevelIsInteger,
  hashString,
  type Degradation,
  type DegradationKind,
  type DegradeOptions,
  type JpegRoundTrip,
} from './degrade.js';
export {
  estimateQuality,
  estimateNoise,
  estimateQualityUnit,
  imageQualityEstimate,
  QUALITY_MAX_SIDE,
  QUALITY_SIDE,
  MOTION_MIN_GAIN,
  type QualityEstimate,
} from './quality.js';
export { estimateMotionBlur, deblurMotion, boxTaps, type MotionEstimate } from './motion.js';
export {
  ENHANCE_STEPS,
  AUTO_THRESHOLDS,
  UNSHARP_AFTER_DENOISE_MIN_SIDE,
  parseEnhanceSpec,
  formatEnhanceSpec,
  autoSteps,
  enhanceImage,
  enhanceUnit,
  bilateral,
  type EnhanceMode,
  type EnhanceStep,
  type EnhanceStepKind,
  type EnhanceResult,
  type EnhanceUnitResult,
} from './enhance.js';
export {
  checkInput,
  inspectInput,
  describeQuality,
  PANORAMIC_CLASSIFIER,
  QUALITY_ISSUES,
  BLANK_CONTRAST,
  type InputInspection,
  type InputQuality,
  type QualityIssue,
  type PanoramicClassifier,
} from './panoramic.js';
export { describeEnhancement } from './quality-words.js';
export {
  NEGATIVE_KINDS,
  NEGATIVE_KINDS_FROM_PANORAMIC,
  makeNegative,
  type NegativeKind,
} from './negatives.js';
