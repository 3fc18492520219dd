/**
 * ONNX: export a dentseg model folder to `model.onnx` (opset 17, protobufjs, no Python).
 * This is the train side only. The runtime side (ONNX Runtime as an inference engine, the
 * graph's I/O names, reading the metadata back) belongs to inference: src/infer/onnx-*.ts
 * and ort-engine.ts, exported by src/infer/index.ts. The exporter imports infer's runtime
 * to verify an export, never the reverse.
 */
export { layersModelToOnnx, ONNX_OPSET, ONNX_IR_VERSION } from './export.js';
export type { OnnxExportOptions } from './export.js';
export { exportOnnx, verifyOnnx, onnxBytesForFolder } from './folder.js';
export type { OnnxExportResult, OnnxVerifyResult } from './folder.js';
export { decodeModel } from './proto.js';
