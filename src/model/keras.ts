/**
 * Keras VGG16 weights into the U-Net's encoder, matched by layer name (`block1_conv1`…).
 * Pure: takes the arrays already read from the HDF5 file (src/train/keras-h5.ts reads it).
 * A 1-channel model gets block1_conv1's RGB kernels summed over the input channels, so a
 * grey image replicated three times and a single grey channel give the same response.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { tf } from '../engine/tf.js';
import { DentsegError } from '../errors.js';

/** One weight array as read from the file (row-major, Keras/TF layout). */
export interface KerasArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Weights per Keras layer name, in the layer's weight order (kernel, bias). */
export type KerasWeights = ReadonlyMap<string, readonly KerasArray[]>;

/** Sum a [kh, kw, cin, cout] kernel over its input channels → [kh, kw, 1, cout]. */
export function sumInputChannels(k: KerasArray): KerasArray {
  const [kh = 0, kw = 0, cin = 0, cout = 0] = k.shape;
  const out = new Float32Array(kh * kw * cout);
  for (let p = 0; p < kh * kw; p++) {
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        const dst = p * cout + o;
        out[dst] = (out[dst] ?? 0) + (k.data[(p * cin + i) * cout + o] ?? 0);
      }
    }
  }
  return { shape: [kh, kw, 1, cout], data: out };
}

const sameShape = (a: readonly number[], b: readonly (number | null)[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Copy the VGG16 encoder weights (`block*` conv layers) from `weights` into `model`.
 * Throws E_HDF5_INVALID naming `file` when a layer is missing or a shape does not match
 * (e.g. a width other than 1.0). Returns the names of the layers loaded.
 */
export function applyKerasWeights(
  model: LayersModel,
  weights: KerasWeights,
  file: string,
): string[] {
  const loaded: string[] = [];
  for (const layer of model.layers) {
    if (!/^block\d_conv\d$/.test(layer.name)) continue;
    const arrays = weights.get(layer.name);
    if (!arrays || arrays.length !== 2) {
      throw new DentsegError('E_HDF5_INVALID', `no kernel and bias for layer ${layer.name}`, {
        file,
        hint: "use Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
      });
    }
    const [k0, bias] = arrays as [KerasArray, KerasArray];
    let kernel = k0;
    const target = layer.getWeights().map((w) => w.shape);
    const [kShape = [], bShape = []] = target;
    if (kShape[2] === 1 && kernel.shape[2] === 3) kernel = sumInputChannels(kernel);
    if (!sameShape(kernel.shape, kShape) || !sameShape(bias.shape, bShape)) {
      throw new DentsegError(
        'E_HDF5_INVALID',
        `${layer.name}: file has kernel [${kernel.shape.join(',')}] and bias [${bias.shape.join(',')}], ` +
          `the model needs [${kShape.join(',')}] and [${bShape.join(',')}]`,
        { file, hint: 'ImageNet weights fit only width 1.0 (--width 1)' },
      );
    }
    const tensors = [
      tf.tensor(kernel.data, [...kernel.shape]),
      tf.tensor(bias.data, [...bias.shape]),
    ];
    layer.setWeights(tensors);
    tf.dispose(tensors);
    loaded.push(layer.name);
  }
  return loaded;
}
