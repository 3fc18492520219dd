// Losses: hand-checked values, finite gradients at the extremes, class weights.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import {
  batchCounts,
  bceDiceLoss,
  cceDiceLoss,
  segmentationLoss,
  softDice,
  targetTensor,
} from '../../src/train/losses.js';

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});

const val = (t: tf.Tensor): number => t.dataSync()[0] ?? NaN;

describe('binary BCE + Dice', () => {
  it('matches a hand computation', () => {
    const y = tf.tensor4d([1, 0, 1, 0], [1, 2, 2, 1]);
    const p = tf.tensor4d([0.9, 0.2, 0.6, 0.1], [1, 2, 2, 1]);
    const bce = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.6) + Math.log(0.9)) / 4;
    const dice = (2 * (0.9 + 0.6) + 1) / (2 + 1.8 + 1);
    expect(val(softDice(y, p))).toBeCloseTo(dice, 5);
    expect(val(bceDiceLoss(y, p))).toBeCloseTo(bce + 1 - dice, 5);
    // class weights [w0, w1] scale background and foreground pixels' BCE
    const wBce =
      -(3 * Math.log(0.9) + 0.5 * Math.log(0.8) + 3 * Math.log(0.6) + 0.5 * Math.log(0.9)) / 4;
    expect(val(bceDiceLoss(y, p, [0.5, 3]))).toBeCloseTo(wBce + 1 - dice, 5);
  });

  it('has finite gradients, also at saturated predictions and empty masks', () => {
    const loss = segmentationLoss({ classes: 1 });
    for (const probs of [
      [0, 1, 1, 0],
      [1, 0, 0, 1],
      [0.5, 0.5, 0.5, 0.5],
    ]) {
      for (const truth of [
        [1, 0, 1, 0],
        [0, 0, 0, 0],
      ]) {
        const y = tf.tensor4d(truth, [1, 2, 2, 1]);
        const logits = tf.variable(
          tf.tensor4d(
            probs.map((q) => (q - 0.5) * 40),
            [1, 2, 2, 1],
          ),
        );
        const { value, grads } = tf.variableGrads(
          () => loss(y, tf.sigmoid(logits)) as tf.Scalar,
          [logits],
        );
        expect(Number.isFinite(val(value))).toBe(true);
        const g = Object.values(grads)[0]!.dataSync();
        expect(Array.from(g).every(Number.isFinite)).toBe(true);
        logits.dispose();
      }
    }
  });
});

describe('categorical CE + soft Dice', () => {
  it('is near zero for a perfect prediction and finite in its gradients', () => {
    const masks = Uint8Array.from([0, 1, 2, 2]);
    const y = targetTensor(masks, 1, 2, 2, 3);
    expect(Array.from(y.dataSync())).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]);
    expect(val(cceDiceLoss(y, y))).toBeLessThan(1e-5);
    const logits = tf.variable(tf.randomNormal([1, 2, 2, 3], 0, 30, 'float32', 5));
    const loss = segmentationLoss({ classes: 3, classWeights: [0.2, 1, 2] });
    const { value, grads } = tf.variableGrads(
      () => loss(y, tf.softmax(logits)) as tf.Scalar,
      [logits],
    );
    expect(Number.isFinite(val(value))).toBe(true);
    expect(Array.from(Object.values(grads)[0]!.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('weights the CE by the true class', () => {
    const y = targetTensor(Uint8Array.from([0, 1]), 1, 1, 2, 2);
    const p = tf.tensor4d([0.8, 0.2, 0.3, 0.7], [1, 1, 2, 2]);
    const ce = -(2 * Math.log(0.8) + 5 * Math.log(0.7)) / 2;
    const d0 = (2 * 0.8 + 1) / (1 + 1.1 + 1);
    const d1 = (2 * 0.7 + 1) / (1 + 0.9 + 1);
    expect(val(cceDiceLoss(y, p, [2, 5]))).toBeCloseTo(ce + 1 - (d0 + d1) / 2, 5);
  });

  it('rejects class weights of the wrong length', () => {
    expect(() => segmentationLoss({ classes: 3, classWeights: [1, 2] })).toThrow(/class-weights/);
  });
});

describe('batchCounts', () => {
  it('counts thresholded binary and argmax multi-class predictions', () => {
    const y = tf.tensor4d([1, 0, 1, 0], [1, 2, 2, 1]);
    const p = tf.tensor4d([0.9, 0.7, 0.4, 0.1], [1, 2, 2, 1]);
    expect(Array.from(batchCounts(y, p).dataSync())).toEqual([1, 2, 2]);
    const y3 = targetTensor(Uint8Array.from([0, 1, 2]), 1, 1, 3, 3);
    const p3 = tf.tensor4d([0.6, 0.3, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.8], [1, 1, 3, 3]);
    // tp per class [1,0,1], predicted [1,0,2], true [1,1,1]
    expect(Array.from(batchCounts(y3, p3).dataSync())).toEqual([1, 0, 1, 1, 0, 2, 1, 1, 1]);
  });
});
