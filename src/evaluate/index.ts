/**
 * The evaluation stage's public API: score a model folder on a data set (pooled and
 * per-image metrics, per class for multi-class models). Metrics themselves live in
 * `metrics.ts` (pure, shared with training).
 */
export { EvaluationAccumulator } from './aggregate.js';
export type {
  EvaluationReport,
  PooledMetrics,
  PerImageMetrics,
  ClassMetrics,
  ImageRow,
} from './aggregate.js';
export { evaluateModel, leftOutOf, perImageCsv, samplesOf, SUBSETS } from './evaluate.js';
export type {
  EvaluateOptions,
  EvaluatedToothGate,
  EvaluationResult,
  ScoredImage,
  Subset,
} from './evaluate.js';
export { TeethAccumulator } from './teeth.js';
export type { ImageTeeth, TeethMetrics, UnionMetrics } from './teeth.js';
export { errorMapRgb, ERROR_MAP_COLOURS, type ErrorMapCounts } from './error-map.js';
export {
  matchLesions,
  LesionAccumulator,
  DEFAULT_LESION_MIN_AREA,
  type LesionCounts,
  type LesionReport,
} from './lesions.js';
