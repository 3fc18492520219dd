/**
 * Graph input and output names of the ONNX files dentseg writes (the runtime wrappers rely
 * on them). Apart from export.ts so that running a model does not load the exporter and
 * protobufjs (~40 ms of start-up).
 */
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'probabilities';
