/**
 * ONNX: export a dentseg model folder to `model.onnx` (opset 17, protobufjs, no Python).
 * The runtime side (ONNX Runtime for Node as an inference engine, the graph's I/O names and
 * metadata keys) belongs to inference and lives in src/infer/onnx-*.ts; it is re-exported
 * here so this entry keeps its names. The exporter imports infer, never the reverse.
 */
export { layersModelToOnnx, ONNX_OPSET, ONNX_IR_VERSION } from './export.js';
export { ONNX_INPUT, ONNX_OUTPUT } from '../infer/onnx-io-names.js';
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
} from '../infer/onnx-engine.js';
export type { OnnxEngineOptions, OnnxFolderStatus } from '../infer/onnx-engine.js';
export { decodeModel } from './proto.js';
export { onnxMetadata } from '../infer/onnx-metadata.js';
