/**
 * A TensorFlow.js layers model as an inference engine. TensorFlow.js itself (and with it a
 * backend) is imported on the first run only, so that ONNX models never load it.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { DentsegError } from '../errors.js';
import type { InferenceEngine } from './types.js';

/** A TensorFlow.js layers model as an engine; every tensor it makes is disposed. */
export function tfjsEngine(model: LayersModel): InferenceEngine {
  return {
    name: 'tfjs',
    async run(input, batch, h, w, c) {
      if (input.length !== batch * h * w * c) {
        throw new DentsegError(
          'E_USAGE',
          `engine input has ${input.length} values, expected ${batch}×${h}×${w}×${c}`,
        );
      }
      // Imported here, not at the top: predict and serve with an ONNX model never load
      // TensorFlow.js (~0.4 s of start-up). The module is cached after the first call.
      const { tf } = await import('../engine/tf.js');
      const y = tf.tidy(() => model.predict(tf.tensor4d(input, [batch, h, w, c])) as Tensor);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      model.dispose();
    },
  };
}
