/**
 * Data stage public API for Node: everything of the platform-free ./index.ts, plus what
 * reads files or starts workers — decoding images, data sets in either layout, checks,
 * COCO mask export and the batch loader.
 */
export * from './index.js';
export { decodeImage, MAX_PIXELS } from '../imaging/decode.node.js';
export {
  openDataset,
  loadSample,
  maskFileName,
  binariseMask,
  maskValues,
  type Dataset,
  type DatasetOptions,
  type DatasetProblem,
  type SampleRef,
} from './dataset.js';
export { checkDataset, type CheckReport, type CheckIssue } from './check.js';
export {
  writeCocoMasks,
  CLASSES_FILE,
  type CocoMasksOptions,
  type CocoMasksIssue,
  type CocoMasksReport,
} from './coco-masks.js';
export {
  createLoader,
  defaultWorkers,
  type LoaderOptions,
  type Batch,
  type DataLoader,
  type LoaderStats,
} from './loader.js';
export { prepareSample, type PreparedSample } from './pipeline.js';
export { loadAugmentConfig } from '../augment/file.node.js';
