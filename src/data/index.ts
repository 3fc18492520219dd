/**
 * Data stage public API: decode images, pre-process them for the network (and map
 * results back), open data sets in either layout, check them, and load batches.
 * Pure parts (types, preprocess, resample, rasterise, classes) import nothing from Node.
 */
export type { GreyImage } from '../imaging/types.js';
export { decodeImage, MAX_PIXELS } from '../imaging/decode.node.js';
export { sniffFormat, type ImageFormat } from '../imaging/sniff.js';
export {
  DEFAULT_PREPROCESS,
  NORMALISE_MODES,
  validatePreprocessConfig,
  computeGeometry,
  preprocessImage,
  prepareGrey,
  normaliseGrey,
  greyStats,
  maskToInput,
  restoreToOriginal,
  restoreMaskToOriginal,
  resizeMaskNearest,
  type PreprocessConfig,
  type PreprocessGeometry,
  type NormaliseMode,
} from './preprocess.js';
export { resizeLinear } from './resample.js';
export {
  TILE_BLENDS,
  validateTilingConfig,
  axisOrigins,
  tileGrid,
  axisWeights,
  extractTile,
  slidingWindow,
  sampleTileOrigin,
  cropMask,
  type TilingConfig,
  type TileBlend,
  type TileOrigin,
  type TileRunner,
} from './tiling.js';
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
export { addDatasetOptions, datasetOptionsFromCli } from './cli-options.js';
export { checkDataset, type CheckReport, type CheckIssue } from './check.js';
export { flipClassMapFor, classesFromJson, fdiNumber } from './classes.js';
export {
  parseCoco,
  readCoco,
  type ParsedCoco,
  type CocoRead,
  type CocoProblem,
  type CocoImageEntry,
  type CocoShape,
} from './coco.js';
export {
  writeCocoMasks,
  CLASSES_FILE,
  type CocoMasksOptions,
  type CocoMasksIssue,
  type CocoMasksReport,
} from './coco-masks.js';
export {
  fillPolygons,
  fillSegmentation,
  fillRle,
  rleStringToCounts,
  rleCountsToString,
  maskToRleCounts,
  type CocoSegmentation,
} from './rasterise.js';
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
export { DEFAULT_AUGMENT, type AugmentConfig } from '../augment/config.js';
