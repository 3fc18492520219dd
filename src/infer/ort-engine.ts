/**
 * An ONNX Runtime session as an inference engine, for either runtime: onnxruntime-node
 * (./onnx-engine.node.ts loads model folders with it) and onnxruntime-web (the browser's
 * private mode). Both implement onnxruntime-common's API, so one adapter serves both and
 * the pipeline never knows which one runs. Pure: the caller creates the session.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { DentsegError } from '../errors.js';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx-io-names.js';
import type { InferenceEngine } from './types.js';

/** The part of an ONNX Runtime module the adapter needs (`import * as ort from …`). */
export interface OrtModule {
  readonly Tensor: typeof Tensor;
}

/** What the engine reports about itself. */
export interface OrtEngineInfo {
  /** e.g. `onnxruntime-node`, `onnxruntime-web`. */
  readonly backend: string;
  /** Intra-op threads, when known (≥ 1). */
  readonly threads?: number;
  /** Names the model in errors (a path, or the download's URL). */
  readonly file?: string;
}

/**
 * Wrap a created session whose graph maps `input` (NHWC float32) to `probabilities` (NHWC,
 * k channels), as dentseg's exporter writes it. Throws E_MODEL_INVALID for other graphs.
 */
export function ortSessionEngine(
  ort: OrtModule,
  session: InferenceSession,
  info: OrtEngineInfo,
): InferenceEngine {
  const fileOpt = info.file !== undefined ? { file: info.file } : {};
  if (!session.inputNames.includes(ONNX_INPUT) || !session.outputNames.includes(ONNX_OUTPUT)) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `the ONNX graph has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; dentseg expects "${ONNX_INPUT}" → "${ONNX_OUTPUT}"`,
      fileOpt,
    );
  }
  let disposed = false;
  return {
    name: 'onnx',
    backend: info.backend,
    ...(info.threads !== undefined ? { threads: info.threads } : {}),
    async run(input, batch, h, w, c) {
      if (disposed) throw new Error('onnx engine used after dispose()');
      if (input.length !== batch * h * w * c) {
        throw new DentsegError(
          'E_USAGE',
          `engine input has ${input.length} values, expected ${batch}×${h}×${w}×${c}`,
        );
      }
      const x = new ort.Tensor('float32', input, [batch, h, w, c]);
      try {
        const out = await session.run({ [ONNX_INPUT]: x });
        const y = out[ONNX_OUTPUT];
        if (!y) throw new Error('internal: ORT returned no probabilities');
        // getData() also downloads from a proxy worker or GPU (web); Node's is the data.
        const data = await y.getData();
        if (!(data instanceof Float32Array))
          throw new Error('internal: ORT returned no float output');
        return data;
      } finally {
        x.dispose();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      void session.release();
    },
  };
}
