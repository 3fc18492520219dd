/**
 * The inference stage's public API: load a model folder, segment an X-ray into typed plain
 * data (mask, probabilities, findings, overlay), and the engine registry the ONNX runtime
 * plugs into.
 */
export type {
  EngineName,
  InferenceEngine,
  InferOptions,
  LoadedModel,
  OverlayOptions,
  SegmentOptions,
  SegmentResult,
  Segmentation,
  SegmentStage,
  Finding,
} from './types.js';
export { registerEngine, engineNames, pickEngine } from './engines.js';
export { tfjsEngine } from './tfjs-engine.js';
export { ortSessionEngine } from './ort-engine.js';
export type { OrtModule, OrtEngineInfo } from './ort-engine.js';
export {
  onnxEngine,
  onnxFolderAvailable,
  onnxFolderStatus,
  onnxUnavailableReason,
  loadOnnxFolder,
  readOnnxFolderMeta,
  resolveThreads,
  ONNX_FILE,
} from './onnx-engine.node.js';
export type { OnnxEngineOptions, OnnxFolderStatus } from './onnx-engine.node.js';
export { onnxMetadata, onnxModelMeta, parseModelMetaText } from './onnx-metadata.js';
export { ONNX_INPUT, ONNX_OUTPUT } from './onnx-io-names.js';
export type { EngineFactory } from './engines.js';
export { loadModel, DEFAULT_MODEL_DIR, PACKAGE_ROOT } from './load.js';
export type { LoadModelOptions } from './load.js';
export { segment } from './segment.js';
export {
  findingsMinAreaPx,
  runPipeline,
  probabilitiesToMask,
  probabilityImage,
  flipHorizontal,
  thresholdFor,
} from './pipeline.js';
export type { PipelineOptions, PipelineResult, PipelineStage } from './pipeline.js';
export { gateFocus, gateLesionMask, lesionMaskRules, NO_TEETH_MODEL } from './lesion-gate.js';
export type { GatedLesions, TeethMask, ToothGateReport } from './lesion-gate.js';
export {
  BUNDLED_SET,
  BUNDLED_SET_TEXT,
  bundledSetNames,
  checkModelSet,
  lesionFindings,
  lesionSummary,
  lesionTypeOf,
  modelRole,
  setRoles,
  runModelSet,
  surfaceOf,
  toothAt,
  toothOfRegion,
} from './model-set.js';
export type {
  LesionSummary,
  ModelRole,
  ModelSetOptions,
  ModelSetResult,
  SetFinding,
  SetMember,
  SetModelInfo,
  SetRun,
  Surface,
  TeethMap,
} from './model-set.js';
export { decodeInput, isGreyImage } from '../imaging/input.node.js';
export type { DecodedInput, DecodeInputOptions } from '../imaging/input.node.js';
export {
  decodeDicom,
  isDicom,
  DICOM_PATIENT_TAGS,
  DICOM_TRANSFER_SYNTAXES,
} from '../imaging/dicom.node.js';
export type { DicomInfo, DecodeDicomOptions } from '../imaging/dicom.node.js';
export {
  findRegions,
  findingsFor,
  defaultMinArea,
  simplifyClosed,
  traceContour,
} from '../imaging/findings.js';
export type { FindingsOptions } from '../imaging/findings.js';
export { classColour } from '../imaging/palette.js';
export { toGrey8, displayRange } from '../imaging/grey8.js';
export type { Rgb } from '../imaging/palette.js';
export {
  renderOverlay,
  maskPng,
  probabilityPng,
  encodeMaskPng,
  encodeProbabilityPng,
} from './overlay.js';
export {
  BUNDLED_MODELS_DIR,
  defaultModelSetDirs,
  defaultOutlineModelDir,
  defaultTeethModelDir,
  loadModelSet,
  segmentSet,
} from './model-set.node.js';
export type { LoadedModelSet, SegmentSetOptions, SetSegmentResult } from './model-set.node.js';
export { predictBatch, expandInputs, uniqueStems, summaryCsv, IMAGE_EXTENSIONS } from './batch.js';
export type { PredictBatchOptions, PredictBatchResult, PredictItem } from './batch.js';
