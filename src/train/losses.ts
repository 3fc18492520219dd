/**
 * Losses and on-device batch statistics for training: the seed's BCE + Dice (smooth = 1)
 * for binary masks, categorical cross-entropy + soft Dice for K classes, with optional
 * per-class weights; and, for small imbalanced targets such as lesions, Tversky and
 * focal Tversky overlap terms and a focal cross-entropy (`LossSpec`). Pure tfjs; callers
 * run them inside `tf.tidy`/`variableGrads`.
 */
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { tf } from '../engine/index.js';
import { DentsegError } from '../errors.js';
import { binarise, labelComponents } from '../imaging/components.js';
import { DEFAULT_LOSS, type LossSpec } from './loss-spec.js';

export {
  DEFAULT_LOSS,
  LOSS_DEFAULTS,
  LOSS_NAMES,
  type LossName,
  type LossSpec,
} from './loss-spec.js';

/** Probability clip for the logarithms (as Keras' epsilon). */
export const EPSILON = 1e-7;
/** The seed's Dice smoothing term. */
export const DICE_SMOOTH = 1;

/** Loss options. */
export interface LossOptions {
  /** 1 = binary (sigmoid output), K ≥ 2 = softmax over K classes. */
  readonly classes: number;
  /**
   * Per-class weights for the cross-entropy term: binary [background, foreground],
   * multi-class K values. Default: all 1.
   */
  readonly classWeights?: readonly number[] | undefined;
  /** The loss (default `DEFAULT_LOSS`). */
  readonly loss?: LossSpec | undefined;
}

/** Validate class weights against the class count (E_USAGE naming `--class-weights`). */
export function checkClassWeights(classes: number, weights: readonly number[] | undefined): void {
  if (weights === undefined) return;
  const want = classes === 1 ? 2 : classes;
  if (weights.length !== want || weights.some((w) => !(w >= 0) || !Number.isFinite(w))) {
    throw new DentsegError(
      'E_USAGE',
      `--class-weights must be ${want} non-negative numbers (${classes === 1 ? 'background,foreground' : 'one per class'}); received ${weights.join(',')}`,
    );
  }
}

/**
 * Target tensor for a batch of class-index masks: binary → [b,h,w,1] of 0/1 (any non-zero
 * is foreground); K classes → one-hot [b,h,w,K].
 */
export function targetTensor(
  masks: Uint8Array,
  b: number,
  h: number,
  w: number,
  classes: number,
): Tensor {
  if (classes === 1) {
    const y = new Float32Array(masks.length);
    for (let i = 0; i < masks.length; i++) y[i] = masks[i] ? 1 : 0;
    return tf.tensor4d(y, [b, h, w, 1]);
  }
  return tf.tidy(() => {
    // float32 straight from OneHot: no int32 copy of the K-times-larger target to cast.
    const flat = tf.oneHot(tf.tensor1d(Int32Array.from(masks), 'int32'), classes, 1, 0, 'float32');
    return tf.reshape(flat, [b, h, w, classes]);
  });
}

/** The largest pixel weight {@link lesionSizeWeights} gives (a lesion of ref/10 px or less). */
export const LESION_SIZE_WEIGHT_MAX = 10;

/**
 * Per-pixel weights for a batch of binary masks ([b,h,w] flattened, non-zero = lesion): each
 * 8-connected lesion of a tile weighs `refAreaPx / area` per pixel (within 1 … {@link
 * LESION_SIZE_WEIGHT_MAX}), background 1. Why: in a pixel-summed loss a 40 px caries counts
 * a tenth of a 400 px one, and the caries model learnt to leave the small half of the lesions
 * at probability ≈ 0; with these weights every lesion up to `refAreaPx` counts about as much
 * as one of that size. A lesion cut by the tile's edge is weighed by its part in the tile.
 */
export function lesionSizeWeights(
  masks: Uint8Array,
  b: number,
  h: number,
  w: number,
  refAreaPx: number,
): Float32Array {
  if (masks.length !== b * h * w)
    throw new RangeError(`masks have ${masks.length} values, expected ${b}×${h}×${w}`);
  if (!(refAreaPx > 0)) throw new RangeError(`refAreaPx must be > 0, got ${refAreaPx}`);
  const out = new Float32Array(masks.length).fill(1);
  const n = h * w;
  const binary = new Uint8Array(n); // one buffer for the batch's tiles
  for (let t = 0; t < b; t++) {
    const comp = labelComponents(binarise(masks.subarray(t * n, (t + 1) * n), binary), w, h);
    if (comp.count === 0) continue;
    const weight = new Float32Array(comp.count);
    for (let c = 0; c < comp.count; c++)
      weight[c] = Math.min(LESION_SIZE_WEIGHT_MAX, Math.max(1, refAreaPx / comp.area[c]!));
    for (let i = 0; i < n; i++) {
      const l = comp.labels[i]!;
      if (l !== 0) out[t * n + i] = weight[l - 1]!;
    }
  }
  return out;
}

/** A Tversky index's weights: α on false positives, β on false negatives, each 0…1. */
type TverskyWeights = { readonly alpha: number; readonly beta: number };

/**
 * What an overlap index is made of: TP = Σ y·p, Σ y and Σ p, each a scalar (over the whole
 * tensor) or one value per class (summed along an axis).
 */
interface OverlapSums {
  readonly tp: Tensor;
  readonly sumTrue: Tensor;
  readonly sumPred: Tensor;
}

/** The sums of `yTrue`, `yPred` and their product `yp` (if the caller has it) along `axis`. */
function overlapSums(yTrue: Tensor, yPred: Tensor, axis?: number, yp?: Tensor): OverlapSums {
  return {
    tp: tf.sum(yp ?? tf.mul(yTrue, yPred), axis),
    sumTrue: tf.sum(yTrue, axis),
    sumPred: tf.sum(yPred, axis),
  };
}

/** {@link overlapSums} over the whole tensor with every pixel counted `weights` times. */
function weightedOverlapSums(yTrue: Tensor, yPred: Tensor, weights: Tensor): OverlapSums {
  const wp = tf.mul(weights, yPred);
  return {
    tp: tf.sum(tf.mul(yTrue, wp)),
    sumTrue: tf.sum(tf.mul(weights, yTrue)),
    sumPred: tf.sum(wp),
  };
}

/**
 * The one overlap index of the losses, from its sums: with `tversky` (α, β) the Tversky
 * index (2·TP + s) / (2·TP + 2α·FP + 2β·FN + s), FP = Σ p − TP, FN = Σ y − TP — doubled so
 * that α = β = ½ is the soft Dice, smoothing term included; α weights false positives, β
 * false negatives. Without, the seed's soft Dice (2·TP + s) / (Σ y + Σ p + s), in the
 * seed's own operations so that its graph stays the same.
 */
function overlapIndex(
  s: OverlapSums,
  tversky: TverskyWeights | undefined,
  smooth = DICE_SMOOTH,
): Tensor {
  const twiceTp = tf.mul(2, s.tp);
  const denominator = tversky
    ? tf.add(
        tf.add(twiceTp, tf.mul(2 * tversky.alpha, tf.sub(s.sumPred, s.tp))),
        tf.mul(2 * tversky.beta, tf.sub(s.sumTrue, s.tp)),
      )
    : tf.add(s.sumTrue, s.sumPred);
  return tf.div(tf.add(twiceTp, smooth), tf.add(denominator, smooth));
}

/** The seed's Dice over the whole batch: (2·Σ y·p + 1) / (Σ y + Σ p + 1). Scalar. */
export function softDice(yTrue: Tensor, yPred: Tensor, smooth = DICE_SMOOTH): Tensor {
  return tf.tidy(() => overlapIndex(overlapSums(yTrue, yPred), undefined, smooth));
}

/**
 * Tversky index over the whole tensor (`axis` undefined: a scalar) or along `axis` (per
 * class on [N, K] with axis 0); the formula is {@link overlapIndex}'s.
 */
export function tverskyIndex(
  yTrue: Tensor,
  yPred: Tensor,
  alpha: number,
  beta: number,
  axis?: number,
  smooth = DICE_SMOOTH,
): Tensor {
  return tf.tidy(() => overlapIndex(overlapSums(yTrue, yPred, axis), { alpha, beta }, smooth));
}

/** The Tversky parameters of a loss that uses the Tversky index, else undefined (Dice). */
function tverskyOf(loss: LossSpec): TverskyWeights | undefined {
  return loss.name === 'tversky' || loss.name === 'focal-tversky' ? loss : undefined;
}

/**
 * The overlap term from an overlap index (a scalar, or one value per class, averaged):
 * 1 − index, or for focal Tversky (1 − index)^γ, its base clipped at EPSILON so that the
 * gradient of a γ < 1 power stays finite at a perfect prediction.
 */
function overlapTerm(index: Tensor, loss: LossSpec): Tensor {
  if (loss.name === 'focal-tversky')
    return tf.mean(tf.pow(tf.clipByValue(tf.sub(1, index), EPSILON, 1), loss.gamma));
  // A scalar (binary) is used as it is: the seed's graph, op for op.
  return tf.sub(1, index.rank === 0 ? index : tf.mean(index));
}

/** The focal exponent of a loss's cross-entropy term, or undefined for plain cross-entropy. */
function focalGamma(loss: LossSpec): number | undefined {
  return loss.name === 'focal' ? loss.gamma : undefined;
}

/**
 * Binary loss: mean (BCE or focal BCE) + the overlap term of `loss` (default: the seed's
 * mean BCE + (1 − Dice)). yTrue, yPred: [b,h,w,1], yPred probabilities, yTrue 0/1. With
 * weights [w0, w1], each pixel's cross-entropy is scaled by w1 (foreground) or w0. With
 * `pixelWeights` ([b,h,w,1], e.g. {@link lesionSizeWeights}) each pixel's cross-entropy is
 * scaled by its weight too, and counts that many times in the overlap term's sums.
 */
export function binaryLoss(
  yTrue: Tensor,
  yPred: Tensor,
  loss: LossSpec = DEFAULT_LOSS,
  classWeights?: readonly number[],
  pixelWeights?: Tensor,
): Tensor {
  return tf.tidy(() => {
    const p = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
    const one = tf.scalar(1);
    let bce = tf.neg(
      tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(one, yTrue), tf.log(tf.sub(one, p)))),
    );
    const gamma = focalGamma(loss);
    // Focal: × (1 − p_true)^γ, and 1 − p_true = |y − p| for a 0/1 target; the clip keeps
    // it ≥ EPSILON, so the power's gradient stays finite for any γ ≥ 0.
    if (gamma !== undefined) bce = tf.mul(bce, tf.pow(tf.abs(tf.sub(yTrue, p)), gamma));
    if (classWeights) {
      const [w0 = 1, w1 = 1] = classWeights;
      bce = tf.mul(bce, tf.add(tf.mul(yTrue, w1 - w0), w0));
    }
    if (pixelWeights) bce = tf.mul(bce, pixelWeights);
    const sums = pixelWeights
      ? weightedOverlapSums(yTrue, yPred, pixelWeights)
      : overlapSums(yTrue, yPred);
    const index = overlapIndex(sums, tverskyOf(loss));
    return tf.add(tf.mean(bce), overlapTerm(index, loss));
  });
}

/**
 * Binary loss: mean BCE + (1 − Dice). yTrue, yPred: [b,h,w,1], yPred probabilities.
 * With weights [w0, w1], each pixel's BCE is scaled by w1 (foreground) or w0.
 */
export function bceDiceLoss(
  yTrue: Tensor,
  yPred: Tensor,
  classWeights?: readonly number[],
): Tensor {
  return binaryLoss(yTrue, yPred, DEFAULT_LOSS, classWeights);
}

/**
 * Multi-class loss: mean categorical cross-entropy (optionally class-weighted per pixel
 * by its true class; focal: × (1 − p_true)^γ) + the overlap term of `loss` over the mean
 * of per-class indices (default: 1 − mean soft Dice). [b,h,w,K]; yTrue one-hot as
 * `targetTensor` makes it (a row of zeros, from an out-of-range mask value, adds nothing
 * to the cross-entropy).
 */
export function categoricalLoss(
  yTrue: Tensor,
  yPred: Tensor,
  loss: LossSpec = DEFAULT_LOSS,
  classWeights?: readonly number[],
): Tensor {
  return tf.tidy(() => {
    const k = yPred.shape[yPred.shape.length - 1] ?? 1;
    // With one-hot rows, −Σ_k y_k·log(clip(p_k)) = −log(clip(Σ_k y_k·p_k)) · Σ_k y_k: the
    // clip and log (and their gradients) then run on one channel instead of K, and y·p is
    // shared with the overlap index's TP (Dice or Tversky). Same values; for 33 classes at
    // 256², batch 8, the loss and its gradient took 0.34–0.62 s instead of 1.02 s (two
    // loaded shared cores).
    const yp = tf.mul(yTrue, yPred);
    const pTrue = tf.clipByValue(tf.sum(yp, -1), EPSILON, 1 - EPSILON);
    const rowWeight = classWeights
      ? tf.sum(tf.mul(yTrue, tf.tensor1d([...classWeights])), -1)
      : tf.sum(yTrue, -1);
    let ce = tf.mul(tf.neg(tf.log(pTrue)), rowWeight);
    const gamma = focalGamma(loss);
    if (gamma !== undefined) ce = tf.mul(ce, tf.pow(tf.sub(1, pTrue), gamma));
    const flat = (x: Tensor): Tensor => tf.reshape(x, [-1, k]);
    const sums = overlapSums(flat(yTrue), flat(yPred), 0, flat(yp));
    return tf.add(tf.mean(ce), overlapTerm(overlapIndex(sums, tverskyOf(loss)), loss));
  });
}

/**
 * Multi-class loss: mean categorical cross-entropy (optionally class-weighted per pixel
 * by its true class) + (1 − mean over classes of the per-class soft Dice). [b,h,w,K].
 */
export function cceDiceLoss(
  yTrue: Tensor,
  yPred: Tensor,
  classWeights?: readonly number[],
): Tensor {
  return categoricalLoss(yTrue, yPred, DEFAULT_LOSS, classWeights);
}

/** A training loss: targets, probabilities and (binary only) per-pixel weights. */
export type SegmentationLoss = (yTrue: Tensor, yPred: Tensor, pixelWeights?: Tensor) => Tensor;

/** The loss for a task (binary when `classes` is 1), `opts.loss` or the seed's. */
export function segmentationLoss(opts: LossOptions): SegmentationLoss {
  checkClassWeights(opts.classes, opts.classWeights);
  const w = opts.classWeights;
  const loss = opts.loss ?? DEFAULT_LOSS;
  return opts.classes === 1
    ? (t, p, pw) => binaryLoss(t, p, loss, w, pw)
    : (t, p, pw) => {
        if (pw) throw new RangeError('per-pixel weights are for binary losses only');
        return categoricalLoss(t, p, loss, w);
      };
}

/**
 * Hard-prediction counts of a batch, per class (binary: one entry, the foreground):
 * `[tp_k, pred_k, true_k]` flattened as a Float32Array of length 3·K', plus pixel count.
 * Binary thresholds at 0.5; multi-class takes the argmax.
 */
export function batchCounts(yTrue: Tensor, yPred: Tensor): Tensor {
  return tf.tidy(() => {
    const k = yPred.shape[yPred.shape.length - 1] ?? 1;
    if (k === 1) {
      const t = tf.reshape(yTrue, [-1, 1]);
      const p = tf.reshape(tf.cast(tf.greater(yPred, 0.5), 'float32'), [-1, 1]);
      return tf.concat([tf.sum(tf.mul(t, p), 0), tf.sum(p, 0), tf.sum(t, 0)]);
    }
    // Multi-class: count class indices per pixel (segment sums over [N]) instead of
    // building a one-hot of the prediction: three passes over the [N, K] tensors instead
    // of about nine. A zero row of yTrue (out-of-range mask value) has no true class: it
    // goes to an extra segment K that is dropped.
    const t = tf.reshape(yTrue, [-1, k]);
    if (!tf.getKernel('UnsortedSegmentSum', tf.getBackend())) {
      // Backends without segment sums (wasm): the one-hot of the prediction instead.
      const p = tf.reshape(tf.oneHot(tf.argMax(yPred, -1), k, 1, 0, 'float32'), [-1, k]);
      return tf.concat([tf.sum(tf.mul(t, p), 0), tf.sum(p, 0), tf.sum(t, 0)]);
    }
    const pIdx = tf.reshape(tf.argMax(yPred, -1), [-1]);
    const hasTrue = tf.greater(tf.sum(t, -1), 0);
    const tIdx = tf.where(hasTrue, tf.argMax(t, -1), tf.fill(hasTrue.shape, k, 'int32'));
    const ones = tf.fill(pIdx.shape, 1, 'float32');
    const count = (ids: Tensor, of: Tensor): Tensor =>
      tf.slice(tf.unsortedSegmentSum(of, ids as Tensor1D, k + 1), 0, k);
    const hit = tf.cast(tf.equal(pIdx, tIdx), 'float32');
    return tf.concat([count(tIdx, hit), count(pIdx, ones), count(tIdx, ones)]);
  });
}
