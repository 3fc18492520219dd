/**
 * The model stage's platform-free public API: the U-Net and its metadata. Model folders
 * on disk (Node I/O) are in ./folder.node.ts.
 */
export {
  buildUnet,
  normalizeUnetOptions,
  encoderParamCount,
  encoderFilters,
  VGG16_BLOCKS,
  DEFAULT_DECODER_FILTERS,
} from './unet.js';
export type { UnetOptions, NormalizedUnetOptions } from './unet.js';
export { parseModelMeta, architectureOf } from './meta.js';
export { copyModelWeights } from './transfer.js';
export type { ModelMeta, ModelPostprocess } from './meta.js';
export { float32ToFloat16Bits, float16BitsToFloat32, toFloat16 } from './float16.js';
export { modelArtifacts, quantizeFloat16, modelFromJson, modelJsonFor } from './artifacts.js';
