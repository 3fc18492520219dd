/**
 * Losses and on-device batch statistics for training: the seed's BCE + Dice (smooth = 1)
 * for binary masks, categorical cross-entropy + soft Dice for K classes, with optional
 * per-class weights. Pure tfjs; callers run them inside `tf.tidy`/`variableGrads`.
 */
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { tf } from '../engine/index.js';
import { DentsegError } from '../errors.js';

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

/** The seed's Dice over the whole batch: (2·Σ y·p + 1) / (Σ y + Σ p + 1). Scalar. */
export function softDice(yTrue: Tensor, yPred: Tensor, smooth = DICE_SMOOTH): Tensor {
  return tf.tidy(() => {
    const inter = tf.sum(tf.mul(yTrue, yPred));
    return tf.div(
      tf.add(tf.mul(2, inter), smooth),
      tf.add(tf.add(tf.sum(yTrue), tf.sum(yPred)), smooth),
    );
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
  return tf.tidy(() => {
    const p = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
    const one = tf.scalar(1);
    let bce = tf.neg(
      tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(one, yTrue), tf.log(tf.sub(one, p)))),
    );
    if (classWeights) {
      const [w0 = 1, w1 = 1] = classWeights;
      bce = tf.mul(bce, tf.add(tf.mul(yTrue, w1 - w0), w0));
    }
    return tf.add(tf.mean(bce), tf.sub(one, softDice(yTrue, yPred)));
  });
}

/**
 * Multi-class loss: mean categorical cross-entropy (optionally class-weighted per pixel
 * by its true class) + (1 − mean over classes of the per-class soft Dice). [b,h,w,K];
 * yTrue one-hot as `targetTensor` makes it (a row of zeros, from an out-of-range mask
 * value, adds nothing to the cross-entropy).
 */
export function cceDiceLoss(
  yTrue: Tensor,
  yPred: Tensor,
  classWeights?: readonly number[],
): Tensor {
  return tf.tidy(() => {
    const k = yPred.shape[yPred.shape.length - 1] ?? 1;
    // With one-hot rows, −Σ_k y_k·log(clip(p_k)) = −log(clip(Σ_k y_k·p_k)) · Σ_k y_k: the
    // clip and log (and their gradients) then run on one channel instead of K, and y·p is
    // shared with the Dice intersection. Same values; for 33 classes at 256², batch 8, the
    // loss and its gradient took 0.34–0.62 s instead of 1.02 s (two loaded shared cores).
    const yp = tf.mul(yTrue, yPred);
    const pTrue = tf.clipByValue(tf.sum(yp, -1), EPSILON, 1 - EPSILON);
    const rowWeight = classWeights
      ? tf.sum(tf.mul(yTrue, tf.tensor1d([...classWeights])), -1)
      : tf.sum(yTrue, -1);
    const ce = tf.mul(tf.neg(tf.log(pTrue)), rowWeight);
    const t = tf.reshape(yTrue, [-1, k]);
    const q = tf.reshape(yPred, [-1, k]);
    const inter = tf.sum(tf.reshape(yp, [-1, k]), 0);
    const perClass = tf.div(
      tf.add(tf.mul(2, inter), DICE_SMOOTH),
      tf.add(tf.add(tf.sum(t, 0), tf.sum(q, 0)), DICE_SMOOTH),
    );
    return tf.add(tf.mean(ce), tf.sub(1, tf.mean(perClass)));
  });
}

/** The loss for a task (binary when `classes` is 1). */
export function segmentationLoss(opts: LossOptions): (yTrue: Tensor, yPred: Tensor) => Tensor {
  checkClassWeights(opts.classes, opts.classWeights);
  const w = opts.classWeights;
  return opts.classes === 1 ? (t, p) => bceDiceLoss(t, p, w) : (t, p) => cceDiceLoss(t, p, w);
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
