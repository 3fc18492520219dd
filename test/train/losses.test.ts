// Losses: hand-checked values, finite gradients at the extremes, class weights.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import {
  batchCounts,
  LESION_SIZE_WEIGHT_MAX,
  lesionSizeWeights,
  bceDiceLoss,
  binaryLoss,
  categoricalLoss,
  cceDiceLoss,
  segmentationLoss,
  softDice,
  targetTensor,
  tverskyIndex,
  type LossSpec,
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

  it('gives the value and gradient of the K-channel formula it replaces', () => {
    // The textbook form: −Σ_k y_k·log(clip(p_k)) per pixel, Dice on the reshaped [N, K].
    const reference = (y: tf.Tensor, p: tf.Tensor, w?: number[]): tf.Tensor =>
      tf.tidy(() => {
        const k = p.shape[p.shape.length - 1]!;
        let ce = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), -1));
        if (w) ce = tf.mul(ce, tf.sum(tf.mul(y, tf.tensor1d(w)), -1));
        const t = tf.reshape(y, [-1, k]);
        const q = tf.reshape(p, [-1, k]);
        const dice = tf.div(
          tf.add(tf.mul(2, tf.sum(tf.mul(t, q), 0)), 1),
          tf.add(tf.add(tf.sum(t, 0), tf.sum(q, 0)), 1),
        );
        return tf.add(tf.mean(ce), tf.sub(1, tf.mean(dice)));
      });
    const k = 5;
    const masks = Uint8Array.from({ length: 2 * 6 * 7 }, (_, i) => (i * 7 + (i >> 3)) % k);
    masks[3] = 9; // out of range: a zero row in the target
    const y = targetTensor(masks, 2, 6, 7, k);
    // Large logits saturate some probabilities into the clip range on both sides.
    const logits = tf.randomNormal([2, 6, 7, k], 0, 12, 'float32', 3);
    for (const w of [undefined, [0.2, 1, 2, 3, 0.5]]) {
      const f = (fn: (l: tf.Tensor) => tf.Tensor) => tf.valueAndGrad((l: tf.Tensor) => fn(l));
      const a = f((l) => cceDiceLoss(y, tf.softmax(l), w))(logits);
      const b = f((l) => reference(y, tf.softmax(l), w))(logits);
      expect(val(a.value)).toBeCloseTo(val(b.value), 6);
      const ga = a.grad.dataSync();
      const gb = b.grad.dataSync();
      let maxDiff = 0;
      for (let i = 0; i < ga.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ga[i]! - gb[i]!));
      expect(maxDiff).toBeLessThan(1e-7);
    }
  });

  it('rejects class weights of the wrong length', () => {
    expect(() => segmentationLoss({ classes: 3, classWeights: [1, 2] })).toThrow(/class-weights/);
  });
});

describe('loss variants for small targets', () => {
  // y = [1, 0, 1, 0], p = [0.9, 0.2, 0.6, 0.1]: TP 1.5, FP 0.3, FN 0.5, Σy 2, Σp 1.8.
  const y = (): tf.Tensor => tf.tensor4d([1, 0, 1, 0], [1, 2, 2, 1]);
  const p = (): tf.Tensor => tf.tensor4d([0.9, 0.2, 0.6, 0.1], [1, 2, 2, 1]);
  const logs = [Math.log(0.9), Math.log(0.8), Math.log(0.6), Math.log(0.9)];
  const bce = -(logs[0]! + logs[1]! + logs[2]! + logs[3]!) / 4;
  const dice = (2 * 1.5 + 1) / (2 + 1.8 + 1);
  const ti = (a: number, b: number): number =>
    (2 * 1.5 + 1) / (2 * 1.5 + 2 * a * 0.3 + 2 * b * 0.5 + 1);

  it('Tversky with α = β = ½ is the seed Dice, binary and per class', () => {
    expect(val(tverskyIndex(y(), p(), 0.5, 0.5))).toBeCloseTo(val(softDice(y(), p())), 6);
    const half: LossSpec = { name: 'tversky', alpha: 0.5, beta: 0.5 };
    expect(val(binaryLoss(y(), p(), half))).toBeCloseTo(val(bceDiceLoss(y(), p())), 6);
    const y3 = targetTensor(Uint8Array.from([0, 1, 2, 2, 1, 0]), 1, 2, 3, 3);
    const p3 = tf.softmax(tf.randomNormal([1, 2, 3, 3], 0, 2, 'float32', 7));
    expect(val(categoricalLoss(y3, p3, half, [1, 2, 3]))).toBeCloseTo(
      val(cceDiceLoss(y3, p3, [1, 2, 3])),
      6,
    );
  });

  it('Tversky and focal Tversky match a hand computation', () => {
    expect(val(tverskyIndex(y(), p(), 0.3, 0.7))).toBeCloseTo(ti(0.3, 0.7), 6);
    const tversky: LossSpec = { name: 'tversky', alpha: 0.3, beta: 0.7 };
    expect(val(binaryLoss(y(), p(), tversky))).toBeCloseTo(bce + 1 - ti(0.3, 0.7), 5);
    // β > α: a missed foreground pixel costs more than a false one
    expect(ti(0.3, 0.7)).toBeLessThan(ti(0.7, 0.3));
    const ft: LossSpec = { name: 'focal-tversky', alpha: 0.2, beta: 0.8, gamma: 0.75 };
    expect(val(binaryLoss(y(), p(), ft))).toBeCloseTo(bce + (1 - ti(0.2, 0.8)) ** 0.75, 5);
    // γ = 1 is plain Tversky
    const ft1: LossSpec = { name: 'focal-tversky', alpha: 0.3, beta: 0.7, gamma: 1 };
    expect(val(binaryLoss(y(), p(), ft1))).toBeCloseTo(val(binaryLoss(y(), p(), tversky)), 6);
  });

  it('focal with γ = 0 is BCE; γ = 2 scales each pixel by (1 − p_true)²', () => {
    const focal0: LossSpec = { name: 'focal', gamma: 0 };
    expect(val(binaryLoss(y(), p(), focal0))).toBeCloseTo(val(bceDiceLoss(y(), p())), 6);
    expect(val(binaryLoss(y(), p(), focal0, [0.5, 3]))).toBeCloseTo(
      val(bceDiceLoss(y(), p(), [0.5, 3])),
      6,
    );
    const miss = [0.1, 0.2, 0.4, 0.1];
    const w = [3, 0.5, 3, 0.5];
    const fl = -logs.reduce((s, l, i) => s + w[i]! * miss[i]! ** 2 * l, 0) / 4;
    expect(val(binaryLoss(y(), p(), { name: 'focal', gamma: 2 }, [0.5, 3]))).toBeCloseTo(
      fl + 1 - dice,
      5,
    );
    // multi-class: γ = 0 is the categorical cross-entropy, γ = 2 is below it
    const y2 = targetTensor(Uint8Array.from([0, 1]), 1, 1, 2, 2);
    const p2 = tf.tensor4d([0.8, 0.2, 0.3, 0.7], [1, 1, 2, 2]);
    expect(val(categoricalLoss(y2, p2, focal0))).toBeCloseTo(val(cceDiceLoss(y2, p2)), 6);
    const ce2 = -(0.2 ** 2 * Math.log(0.8) + 0.3 ** 2 * Math.log(0.7)) / 2;
    const d = ((2 * 0.8 + 1) / (1 + 1.1 + 1) + (2 * 0.7 + 1) / (1 + 0.9 + 1)) / 2;
    expect(val(categoricalLoss(y2, p2, { name: 'focal', gamma: 2 }))).toBeCloseTo(ce2 + 1 - d, 5);
  });

  it('multi-class Tversky averages the per-class indices', () => {
    const y2 = targetTensor(Uint8Array.from([0, 1]), 1, 1, 2, 2);
    const p2 = tf.tensor4d([0.8, 0.2, 0.3, 0.7], [1, 1, 2, 2]);
    const ce = -(Math.log(0.8) + Math.log(0.7)) / 2;
    // class 0: TP 0.8, FP 0.3, FN 0.2; class 1: TP 0.7, FP 0.2, FN 0.3
    const t = (tp: number, fp: number, fn: number): number =>
      (2 * tp + 1) / (2 * tp + 2 * 0.3 * fp + 2 * 0.7 * fn + 1);
    const mean = (t(0.8, 0.3, 0.2) + t(0.7, 0.2, 0.3)) / 2;
    const tv: LossSpec = { name: 'tversky', alpha: 0.3, beta: 0.7 };
    expect(val(categoricalLoss(y2, p2, tv))).toBeCloseTo(ce + 1 - mean, 5);
    const ft: LossSpec = { name: 'focal-tversky', alpha: 0.3, beta: 0.7, gamma: 0.75 };
    const ftTerm = ((1 - t(0.8, 0.3, 0.2)) ** 0.75 + (1 - t(0.7, 0.2, 0.3)) ** 0.75) / 2;
    expect(val(categoricalLoss(y2, p2, ft))).toBeCloseTo(ce + ftTerm, 5);
  });

  it('the default is the seed graph: same value and gradient, bit for bit', () => {
    // The code before --loss existed, copied: BCE + (1 − Dice), CE + (1 − mean Dice).
    const seedBinary = (t: tf.Tensor, q: tf.Tensor, w?: number[]): tf.Tensor =>
      tf.tidy(() => {
        const c = tf.clipByValue(q, 1e-7, 1 - 1e-7);
        const one = tf.scalar(1);
        let b = tf.neg(
          tf.add(tf.mul(t, tf.log(c)), tf.mul(tf.sub(one, t), tf.log(tf.sub(one, c)))),
        );
        if (w) b = tf.mul(b, tf.add(tf.mul(t, w[1]! - w[0]!), w[0]!));
        const inter = tf.sum(tf.mul(t, q));
        const dc = tf.div(tf.add(tf.mul(2, inter), 1), tf.add(tf.add(tf.sum(t), tf.sum(q)), 1));
        return tf.add(tf.mean(b), tf.sub(one, dc));
      });
    const masks = Uint8Array.from({ length: 2 * 8 * 8 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const t = targetTensor(masks, 2, 8, 8, 1);
    const logits = tf.randomNormal([2, 8, 8, 1], 0, 10, 'float32', 9);
    for (const w of [undefined, [0.5, 4]]) {
      const ours = segmentationLoss({ classes: 1, classWeights: w });
      const a = tf.valueAndGrad((l: tf.Tensor) => ours(t, tf.sigmoid(l)))(logits);
      const b = tf.valueAndGrad((l: tf.Tensor) => seedBinary(t, tf.sigmoid(l), w))(logits);
      expect(val(a.value)).toBe(val(b.value));
      expect(Array.from(a.grad.dataSync())).toEqual(Array.from(b.grad.dataSync()));
    }
  });

  const specs: LossSpec[] = [
    { name: 'dice' },
    { name: 'tversky', alpha: 0.3, beta: 0.7 },
    { name: 'tversky', alpha: 0, beta: 1 },
    { name: 'focal-tversky', alpha: 0.3, beta: 0.7, gamma: 0.75 },
    { name: 'focal-tversky', alpha: 0.5, beta: 0.5, gamma: 3 },
    { name: 'focal', gamma: 2 },
    { name: 'focal', gamma: 0 },
  ];

  it('every loss has finite values and gradients, also saturated, perfect and empty', () => {
    for (const loss of specs) {
      for (const classWeights of [undefined, [0.5, 3]]) {
        const fn = segmentationLoss({ classes: 1, classWeights, loss });
        for (const probs of [
          [0, 1, 1, 0],
          [1, 0, 1, 0],
          [0, 0, 0, 0],
          [0.5, 0.5, 0.5, 0.5],
        ]) {
          for (const truth of [
            [1, 0, 1, 0],
            [0, 0, 0, 0],
          ]) {
            const yt = tf.tensor4d(truth, [1, 2, 2, 1]);
            const logits = tf.variable(
              tf.tensor4d(
                probs.map((q) => (q - 0.5) * 200),
                [1, 2, 2, 1],
              ),
            );
            const { value, grads } = tf.variableGrads(
              () => fn(yt, tf.sigmoid(logits)) as tf.Scalar,
              [logits],
            );
            const where = `${JSON.stringify(loss)} p ${probs.join()} y ${truth.join()}`;
            expect(Number.isFinite(val(value)), where).toBe(true);
            const g = Object.values(grads)[0]!.dataSync();
            expect(Array.from(g).every(Number.isFinite), where).toBe(true);
            logits.dispose();
          }
        }
      }
      const y3 = targetTensor(Uint8Array.from([0, 1, 2, 2]), 1, 2, 2, 3);
      const fn3 = segmentationLoss({ classes: 3, classWeights: [0.2, 1, 2], loss });
      for (const logits of [
        tf.variable(tf.randomNormal([1, 2, 2, 3], 0, 30, 'float32', 5)),
        tf.variable(tf.mul(y3, 200)),
      ]) {
        const { value, grads } = tf.variableGrads(
          () => fn3(y3, tf.softmax(logits)) as tf.Scalar,
          [logits],
        );
        expect(Number.isFinite(val(value))).toBe(true);
        expect(Array.from(Object.values(grads)[0]!.dataSync()).every(Number.isFinite)).toBe(true);
        logits.dispose();
      }
    }
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

  it('gives the multi-class counts of a one-hot argmax, also with an out-of-range mask value', () => {
    const k = 6;
    const masks = Uint8Array.from({ length: 3 * 5 * 4 }, (_, i) => (i * 5 + (i >> 2)) % k);
    masks[7] = 200; // no true class: counted as predicted only
    const y = targetTensor(masks, 3, 5, 4, k);
    const p = tf.softmax(tf.randomNormal([3, 5, 4, k], 0, 2, 'float32', 11));
    const t = tf.reshape(y, [-1, k]);
    const hard = tf.reshape(tf.oneHot(tf.argMax(p, -1), k, 1, 0, 'float32'), [-1, k]);
    const want = tf.concat([tf.sum(tf.mul(t, hard), 0), tf.sum(hard, 0), tf.sum(t, 0)]);
    expect(Array.from(batchCounts(y, p).dataSync())).toEqual(Array.from(want.dataSync()));
  });
});

describe('lesion size weights', () => {
  it('weigh each lesion by ref / area within 1…10, per tile, background 1', () => {
    // Tile 0 (4×6): a 2-pixel lesion and an 8-pixel one (two rows of 4); tile 1: a 1-pixel lesion.
    // prettier-ignore
    const masks = Uint8Array.from([
      1, 1, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0,
      0, 0, 255, 255, 255, 255,
      0, 0, 255, 255, 255, 255,

      0, 0, 0, 0, 0, 0,
      0, 0, 0, 1, 0, 0,
      0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0,
    ]);
    const w = lesionSizeWeights(masks, 2, 4, 6, 16);
    expect(w[0]).toBe(8); // 16 / 2
    expect(w[1]).toBe(8);
    expect(w[2]).toBe(1); // background
    expect(w[2 * 6 + 2]).toBe(2); // 16 / 8
    expect(w[3 * 6 + 5]).toBe(2);
    expect(w[24 + 6 + 3]).toBe(LESION_SIZE_WEIGHT_MAX); // 16 / 1, capped
    // A lesion larger than the reference is not weighed down.
    expect(lesionSizeWeights(masks, 2, 4, 6, 4)[2 * 6 + 2]).toBe(1);
    expect(() => lesionSizeWeights(masks, 1, 4, 6, 16)).toThrow(RangeError);
  });

  it('all-ones weights leave the binary loss as it is; a missed small lesion costs more', () => {
    const y = tf.tensor4d([1, 0, 1, 1, 0, 0, 0, 1], [1, 2, 4, 1]);
    const p = tf.tensor4d([0.1, 0.2, 0.9, 0.8, 0.2, 0.1, 0.3, 0.7], [1, 2, 4, 1]);
    for (const spec of [{ name: 'dice' }, { name: 'tversky', alpha: 0.3, beta: 0.7 }] as const) {
      const ones = tf.onesLike(y);
      expect(val(binaryLoss(y, p, spec, [1, 3], ones))).toBeCloseTo(
        val(binaryLoss(y, p, spec, [1, 3])),
        6,
      );
    }
    // Pixel 0 is a lone 1-px lesion the prediction misses; the 3-px one (pixels 2, 3 and 7
    // of the 4-wide rows) is found. Weighting by size raises the loss.
    const weights = tf.tensor4d(
      lesionSizeWeights(Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 1]), 1, 2, 4, 3),
      [1, 2, 4, 1],
    );
    expect(Array.from(weights.dataSync())).toEqual([3, 1, 1, 1, 1, 1, 1, 1]);
    expect(val(binaryLoss(y, p, undefined, undefined, weights))).toBeGreaterThan(
      val(binaryLoss(y, p)) + 0.1,
    );
    const loss = segmentationLoss({ classes: 3 });
    const y3 = tf.reshape(tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3), [1, 2, 2, 3]);
    expect(() => loss(y3, y3, tf.ones([1, 2, 2, 1]))).toThrow(/binary/);
  });
});
