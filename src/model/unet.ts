/**
 * The network: a U-Net whose encoder is Keras' VGG16 without the top (same layer names,
 * so Keras weights map by name) and whose decoder upsamples and fuses the skips, as the
 * seed and segmentation_models' `Unet('vgg16')` do. Platform-free: tfjs-layers only.
 */
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { tf } from '../engine/tf.js';
import { DentsegError } from '../errors.js';

/** VGG16 blocks: filters at width 1.0 and convolutions per block (Keras `VGG16(include_top=False)`). */
export const VGG16_BLOCKS: readonly { readonly filters: number; readonly convs: number }[] = [
  { filters: 64, convs: 2 },
  { filters: 128, convs: 2 },
  { filters: 256, convs: 3 },
  { filters: 512, convs: 3 },
  { filters: 512, convs: 3 },
];

/** Decoder filters at width 1.0, deepest stage first (segmentation_models' default). */
export const DEFAULT_DECODER_FILTERS: readonly number[] = [256, 128, 64, 32, 16];

/** Options of {@link buildUnet}; every field is serialisable (it goes into dentseg.json). */
export interface UnetOptions {
  /** Input [height, width] in pixels; both multiples of 32 (five 2× poolings). */
  readonly inputSize: readonly [number, number];
  /** Input channels: 1 (grey) or 3 (grey repeated, as Keras VGG16 expects). */
  readonly channels: 1 | 3;
  /** Output classes: 1 = binary (sigmoid), K ≥ 2 = K-way softmax (index 0 = background). */
  readonly classes: number;
  /** Channel multiplier for the encoder, in (0, 1]; 1.0 = VGG16 exactly. Default 1. */
  readonly width?: number;
  /**
   * Filters of the five decoder stages, deepest first. Default: [256,128,64,32,16] times
   * `width`, at least 4 each.
   */
  readonly decoderFilters?: readonly number[];
  /** Batch normalisation after each decoder convolution. Default true. */
  readonly batchNorm?: boolean;
  /**
   * Batch normalisation after each encoder convolution too (torchvision's `vgg16_bn`
   * layout: conv → BN → ReLU). Trains faster from scratch; Keras VGG16 weights do not
   * fit it. Default false (the encoder is Keras VGG16 exactly).
   */
  readonly encoderBatchNorm?: boolean;
  /** Dropout rate in [0, 1) before the head (0 = none). Default 0. */
  readonly dropout?: number;
  /** Seed for the weight initialisers (reproducible initial weights). Default 1. */
  readonly seed?: number;
}

/** {@link UnetOptions} with every default filled in, as saved in `dentseg.json`. */
export interface NormalizedUnetOptions {
  readonly inputSize: readonly [number, number];
  readonly channels: 1 | 3;
  readonly classes: number;
  readonly width: number;
  readonly decoderFilters: readonly number[];
  readonly batchNorm: boolean;
  readonly encoderBatchNorm: boolean;
  readonly dropout: number;
  readonly seed: number;
}

function usage(message: string): DentsegError {
  return new DentsegError('E_USAGE', message);
}

/** Encoder filters of block `i` (0-based) at a width multiplier: at least 1. */
export function encoderFilters(block: number, width: number): number {
  const spec = VGG16_BLOCKS[block];
  if (!spec) throw usage(`encoder block ${block} does not exist (0…4)`);
  return Math.max(1, Math.round(spec.filters * width));
}

/** Validate once at the boundary and fill in defaults. */
export function normalizeUnetOptions(opts: UnetOptions): NormalizedUnetOptions {
  const [h, w] = opts.inputSize;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 32 || w < 32 || h % 32 || w % 32) {
    throw usage(`inputSize must be two multiples of 32 (≥ 32); received [${h}, ${w}]`);
  }
  if (opts.channels !== 1 && opts.channels !== 3) {
    throw usage(`channels must be 1 or 3; received ${String(opts.channels)}`);
  }
  if (!Number.isInteger(opts.classes) || opts.classes < 1 || opts.classes > 255) {
    throw usage(`classes must be an integer in 1…255; received ${opts.classes}`);
  }
  const width = opts.width ?? 1;
  if (!(width > 0 && width <= 1)) throw usage(`width must be in (0, 1]; received ${width}`);
  const decoderFilters =
    opts.decoderFilters ?? DEFAULT_DECODER_FILTERS.map((f) => Math.max(4, Math.round(f * width)));
  if (decoderFilters.length !== 5 || decoderFilters.some((f) => !Number.isInteger(f) || f < 1)) {
    throw usage(
      `decoderFilters must be 5 positive integers; received [${decoderFilters.join(',')}]`,
    );
  }
  const dropout = opts.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw usage(`dropout must be in [0, 1); received ${dropout}`);
  return Object.freeze({
    inputSize: [h, w] as const,
    channels: opts.channels,
    classes: opts.classes,
    width,
    decoderFilters: Object.freeze([...decoderFilters]),
    batchNorm: opts.batchNorm ?? true,
    encoderBatchNorm: opts.encoderBatchNorm ?? false,
    dropout,
    seed: opts.seed ?? 1,
  });
}

/**
 * Build the U-Net. Layer names: the encoder's are Keras VGG16's (`block1_conv1` …
 * `block5_pool`), the decoder's `decoder{s}_…` (s = 1 deepest … 5), the head `head`
 * (+ `head_activation`). Output: [batch, h, w, classes] probabilities.
 */
export function buildUnet(options: UnetOptions): LayersModel {
  const o = normalizeUnetOptions(options);
  let seed = o.seed * 1000;
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [o.inputSize[0], o.inputSize[1], o.channels], name: 'input' });

  // Encoder: Keras VGG16 notop, conv 3×3 same + ReLU, max-pool 2×2 after each block.
  const skips: SymbolicTensor[] = [];
  let x: SymbolicTensor = input;
  VGG16_BLOCKS.forEach((block, b) => {
    const filters = encoderFilters(b, o.width);
    for (let c = 1; c <= block.convs; c++) {
      const bn = o.encoderBatchNorm;
      x = tf.layers
        .conv2d({
          name: `block${b + 1}_conv${c}`,
          filters,
          kernelSize: 3,
          padding: 'same',
          activation: bn ? 'linear' : 'relu',
          useBias: !bn,
          kernelInitializer: init(),
        })
        .apply(x) as SymbolicTensor;
      if (bn) {
        x = tf.layers
          .batchNormalization({ name: `block${b + 1}_bn${c}`, axis: -1 })
          .apply(x) as SymbolicTensor;
        x = tf.layers
          .activation({ name: `block${b + 1}_relu${c}`, activation: 'relu' })
          .apply(x) as SymbolicTensor;
      }
    }
    skips.push(x);
    x = tf.layers
      .maxPooling2d({ name: `block${b + 1}_pool`, poolSize: 2, strides: 2 })
      .apply(x) as SymbolicTensor;
  });

  // Decoder: nearest 2× upsampling, concat with the skip at that scale, two conv-(BN)-ReLU.
  o.decoderFilters.forEach((filters, s) => {
    const skip = skips[skips.length - 1 - s];
    if (!skip) throw new Error('unreachable: five skips for five decoder stages');
    const p = `decoder${s + 1}`;
    x = tf.layers.upSampling2d({ name: `${p}_up`, size: [2, 2] }).apply(x) as SymbolicTensor;
    x = tf.layers.concatenate({ name: `${p}_concat`, axis: -1 }).apply([x, skip]) as SymbolicTensor;
    for (let c = 1; c <= 2; c++) {
      x = tf.layers
        .conv2d({
          name: `${p}_conv${c}`,
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: !o.batchNorm,
          kernelInitializer: init(),
        })
        .apply(x) as SymbolicTensor;
      if (o.batchNorm) {
        x = tf.layers
          .batchNormalization({ name: `${p}_bn${c}`, axis: -1 })
          .apply(x) as SymbolicTensor;
      }
      x = tf.layers
        .activation({ name: `${p}_relu${c}`, activation: 'relu' })
        .apply(x) as SymbolicTensor;
    }
  });

  if (o.dropout > 0) {
    x = tf.layers.dropout({ name: 'head_dropout', rate: o.dropout }).apply(x) as SymbolicTensor;
  }
  x = tf.layers
    .conv2d({ name: 'head', filters: o.classes, kernelSize: 1, kernelInitializer: init() })
    .apply(x) as SymbolicTensor;
  const output = tf.layers
    .activation({ name: 'head_activation', activation: o.classes === 1 ? 'sigmoid' : 'softmax' })
    .apply(x) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'dentseg_unet_vgg16' });
}

/** Parameters of the encoder alone (the `block*` layers): 14,714,688 at width 1, 3 channels. */
export function encoderParamCount(model: LayersModel): number {
  return model.layers
    .filter((l) => l.name.startsWith('block'))
    .reduce((n, l) => n + l.countParams(), 0);
}
