/**
 * dentseg's library API. Stages export their public surface here.
 */
export { DentsegError, isDentsegError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export { initEngine, engineInfo } from './engine/index.js';
export type { BackendName, EngineInfo, EngineOptions } from './engine/index.js';
export { VERSION } from './version.js';
export {
  decodeImage,
  preprocessImage,
  restoreToOriginal,
  resizeMaskNearest,
  validatePreprocessConfig,
  DEFAULT_PREPROCESS,
  openDataset,
  loadSample,
  checkDataset,
  createLoader,
  writeCocoMasks,
} from './data/index.node.js';
export type {
  GreyImage,
  PreprocessConfig,
  PreprocessGeometry,
  Dataset,
  DatasetOptions,
  CocoMasksOptions,
  CocoMasksReport,
  SampleRef,
  Batch,
  DataLoader,
  LoaderOptions,
} from './data/index.node.js';
export {
  DEFAULT_AUGMENT,
  normaliseAugmentConfig,
  augmentSample,
  augmentSampleAsync,
  Rng,
} from './augment/index.js';
export type { AugmentConfig } from './augment/index.js';
export { loadAugmentConfig } from './augment/file.node.js';
export { buildUnet } from './model/index.js';
export { saveModelFolder, loadModelFolder } from './model/folder.node.js';
export type { UnetOptions, ModelMeta } from './model/index.js';
export * as metrics from './evaluate/metrics.js';
export { runTraining } from './train/session.js';
export type { TrainConfig, TrainResult, TrainHooks } from './train/session.js';
export {
  loadModel,
  segment,
  runPipeline,
  encodeMaskPng,
  encodeProbabilityPng,
  registerEngine,
  tfjsEngine,
  DEFAULT_MODEL_DIR,
} from './infer/index.js';
export type {
  LoadedModel,
  InferenceEngine,
  EngineName,
  SegmentOptions,
  SegmentResult,
  Segmentation,
  PipelineOptions,
  PipelineResult,
  Finding,
  OverlayOptions,
  DicomInfo,
} from './infer/index.js';
export { buildApp, AnalysisStore, InferenceQueue } from './serve/index.js';
export type { AppOptions, AnalysisRecord, ErrorBody } from './serve/index.js';
export * as numbering from './numbering/index.js';
