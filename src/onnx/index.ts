/**
 * ONNX: export a dentseg model folder to `model.onnx` (opset 17, protobufjs, no Python) and
 * run it with ONNX Runtime for Node as an inference engine.
 */
export { layersModelToOnnx, ONNX_OPSET, ONNX_IR_VERSION } from './export.js';
export { ONNX_INPUT, ONNX_OUTPUT } from './io-names.js';
export type { OnnxExportOptions } from './export.js';
export { exportOnnx, verifyOnnx, onnxBytesForFolder } from './folder.js';
export type { OnnxExportResult, OnnxVerifyResult } from './folder.js';
export {
  onnxEngine,
  onnxFolderAvailable,
  onnxFolderStatus,
  onnxUnavailableReason,
  loadOnnxFolder,
  readOnnxFolderMeta,
  resolveThreads,
  ONNX_FILE,
} from './engine.js';
export type { OnnxEngineOptions, OnnxFolderStatus } from './engine.js';
export { decodeModel } from './proto.js';
export { onnxMetadata } from './metadata.js';
