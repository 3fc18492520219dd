/**
 * Data stage public API, platform-free part: pre-process images for the network (and map
 * results back), tiles, COCO parsing and rasterising, class lists. Decoding files, data
 * sets, checks and the batch loader need Node: ./index.node.ts exports them with all of this.
 */
export type { GreyImage } from '../imaging/types.js';
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
  restoreClassMapToOriginal,
  writeCoordinates,
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
export { flipClassMapFor, classesFromJson, fdiNumber, DEFAULT_BINARY_CLASS } from './classes.js';
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
  fillPolygons,
  fillSegmentation,
  fillRle,
  rleStringToCounts,
  rleCountsToString,
  maskToRleCounts,
  type CocoSegmentation,
} from './rasterise.js';
export { DEFAULT_AUGMENT, type AugmentConfig } from '../augment/config.js';
