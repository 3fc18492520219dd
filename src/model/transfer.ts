/**
 * Start one U-Net from another's weights (fine-tuning, e.g. at a larger input size).
 * Convolution and batch-norm weights do not depend on the input size, so a model trained
 * at 256² can continue at 512²; layers are matched by name, and every shape must agree —
 * or, with `partial`, layers that do not fit keep their fresh initialisation (e.g. a wider
 * decoder on a trained encoder).
 */
import { concat, zeros, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { DentsegError } from '../errors.js';

/** What `copyModelWeights` did. */
export interface WeightCopy {
  /** Weight arrays copied. */
  readonly copied: number;
  /** Layers left as initialised because they do not fit (only with `partial`). */
  readonly skipped: readonly string[];
}

/**
 * Copy every layer's weights from `from` into `to`, matched by layer name. Throws
 * E_MODEL_INVALID naming `file` (where `from` came from) when a layer with weights is
 * missing or a shape differs (another width, channel count, decoder or class count),
 * unless `partial` is set: then such layers are listed in `skipped` and left as they are.
 */
export function copyModelWeights(
  from: LayersModel,
  to: LayersModel,
  file: string,
  opts: { readonly partial?: boolean; readonly zeroNewInputChannels?: boolean } = {},
): WeightCopy {
  let copied = 0;
  const skipped: string[] = [];
  for (const layer of to.layers) {
    const target = layer.getWeights();
    if (target.length === 0) continue;
    const source = from.layers.find((l) => l.name === layer.name);
    let weights = source?.getWeights() ?? [];
    if (opts.zeroNewInputChannels === true) weights = widenInput(weights, target);
    const mismatch =
      weights.length !== target.length ||
      weights.some((w, i) => w.shape.join('×') !== target[i]?.shape.join('×'));
    if (mismatch && opts.partial === true) {
      skipped.push(layer.name);
      continue;
    }
    if (mismatch) {
      const have = weights.map((w) => w.shape.join('×')).join(', ') || 'none';
      const want = target.map((w) => w.shape.join('×')).join(', ');
      throw new DentsegError(
        'E_MODEL_INVALID',
        `layer ${layer.name}: the model to start from has weights [${have}], this run needs [${want}]`,
        {
          file,
          hint: 'start from a model with the same width, channels, decoder filters and classes',
        },
      );
    }
    layer.setWeights(weights);
    copied += weights.length;
  }
  if (copied === 0) {
    throw new DentsegError('E_MODEL_INVALID', 'no layer of the model to start from fits this run', {
      file,
      hint: 'start from a model with the same encoder (width, channels)',
    });
  }
  return { copied, skipped };
}

/**
 * A grey model's first convolution for an input with more channels (coordinate channels
 * added): the kernel `[kh, kw, 1, cout]` becomes `[kh, kw, cin, cout]` with the grey
 * weights on channel 1 and zeros on the new ones, so the widened model starts out computing
 * exactly what the grey one did and learns what the new channels are worth. Any other
 * weights come back as they are.
 */
function widenInput(weights: Tensor[], target: readonly Tensor[]): Tensor[] {
  const kernel = weights[0];
  const want = target[0]?.shape;
  if (kernel?.rank !== 4 || want?.length !== 4) return weights;
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const grow = (want[2] ?? 0) - cin;
  if (cin !== 1 || grow <= 0 || want[0] !== kh || want[1] !== kw || want[3] !== cout)
    return weights;
  return [concat([kernel, zeros([kh, kw, grow, cout])], 2), ...weights.slice(1)];
}
