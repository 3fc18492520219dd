/**
 * tfjs-core and tfjs-layers as one flat module (their export names do not overlap), so
 * that `tf` can be re-exported as a namespace: values (`tf.conv2d`) and types
 * (`tf.Tensor`, `tf.LayersModel`) alike.
 */
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
