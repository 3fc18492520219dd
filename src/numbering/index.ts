/**
 * Tooth numbering (FDI) independent of any model: the notation's helpers, the anatomical
 * post-processing of a numbering model's class map, and the geometry it rests on. Pure:
 * typed arrays in, plain data out, no Node or DOM imports.
 */
export {
  FDI_NUMBERS,
  TOOTH_TYPES,
  TOOTH_TYPE_COLOURS,
  fdiOf,
  isPermanentFdi,
  isRight,
  isUpper,
  missingTeeth,
  numberingScheme,
  positionOf,
  quadrantFor,
  quadrantOf,
  toothName,
  toothType,
} from './fdi.js';
export type { Fdi, NumberingScheme, Quadrant, ToothType } from './fdi.js';
export { NUMBERING_MODES, defaultMinToothPx, numberTeeth } from './postprocess.js';
export type {
  NumberedTooth,
  NumberingChange,
  NumberingMode,
  NumberingOptions,
  NumberingReason,
  NumberingResult,
} from './postprocess.js';
export { assignAlongArch, bestSplit, curveAt, fitMidline, fitOcclusalCurve } from './arch.js';
export type { Curve, ToothPoint } from './arch.js';
export { minToothPxAt, numberingConfig } from './config.js';
export type { NumberingConfig } from './config.js';
export { describeTeeth } from './teeth.js';
export type { ToothReport } from './teeth.js';
