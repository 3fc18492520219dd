/**
 * The model stage's public API: the U-Net, its metadata, and model folders on disk.
 * The network and metadata are platform-free; folder I/O (Node) comes from
 * src/train/model-folder.ts and is re-exported here as the contract names it.
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
export { saveModelFolder, loadModelFolder } from '../train/model-folder.js';
export type { SaveModelOptions } from '../train/model-folder.js';
