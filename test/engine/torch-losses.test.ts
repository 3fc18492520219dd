/**
 * The training losses' variants (Tversky, focal Tversky, focal) on the torch backend, the
 * default for training: value and gradient against the cpu backend, binary and 3-class,
 * without a model (the U-Net parity run lives in torch-train.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/engine/index.js';
import { segmentationLoss, type LossSpec } from '../../src/train/losses.js';
import { compareBackends, setupTorch, TORCH_BUILT } from './torch-compare.js';

type Tensor = ReturnType<typeof tf.tensor>;

const LOSSES: LossSpec[] = [
  { name: 'dice' },
  { name: 'tversky', alpha: 0.3, beta: 0.7 },
  { name: 'focal-tversky', alpha: 0.3, beta: 0.7, gamma: 0.75 },
  { name: 'focal', gamma: 2 },
];

/** A fixed striped target of `classes` (1 = binary) for a [1, 6, 5, C] prediction. */
function target(classes: number): Tensor {
  const k = classes === 1 ? 2 : classes;
  const ids = Int32Array.from({ length: 30 }, (_, i) => (i * 7 + (i >> 2)) % k);
  return classes === 1
    ? tf.tensor4d(Float32Array.from(ids), [1, 6, 5, 1])
    : tf.reshape(tf.oneHot(tf.tensor1d(ids, 'int32'), classes), [1, 6, 5, classes]);
}

describe.skipIf(!TORCH_BUILT)('loss variants on torch match cpu', () => {
  beforeAll(() => setupTorch());

  for (const loss of LOSSES) {
    it(`${loss.name}: value and gradient within 1e-4, binary and 3-class`, async () => {
      for (const classes of [1, 3]) {
        const fn = segmentationLoss({
          classes,
          classWeights: classes === 1 ? [0.5, 3] : [0.2, 1, 2],
          loss,
        });
        // Logits up to ±12 saturate some probabilities into the clip range.
        const err = await compareBackends(
          (logits: Tensor) =>
            fn(target(classes), classes === 1 ? tf.sigmoid(logits) : tf.softmax(logits)),
          [{ shape: [1, 6, 5, classes], lo: -12, hi: 12 }],
          { grad: true, seed: 5 },
        );
        expect(err, `${classes} class(es)`).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});
