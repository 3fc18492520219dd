/**
 * End-to-end parity of the torch backend: the project's own U-Net (buildUnet), losses
 * (BCE+Dice, CCE+Dice) and Adam train a few steps from the same weights on the cpu and
 * torch backends; the losses must agree within 1e-3 and predictions afterwards too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/engine/index.js';
import { buildUnet } from '../../src/model/index.js';
import { segmentationLoss } from '../../src/train/losses.js';
import { Adam } from '../../src/train/optimizer.js';
import { rng, setupTorch, TORCH_BUILT } from './torch-compare.js';

type Tensor = ReturnType<typeof tf.tensor>;
const SIZE = 64;
// Batch 1: tfjs-cpu's ResizeNearestNeighborGrad (the UpSampling2D gradient) reads dy at
// the wrong offset for batch > 1 (a tfjs bug), so the cpu reference is wrong there.
const BATCH = 1;
const STEPS = 3;

interface Trace {
  readonly losses: number[];
  readonly prediction: Float32Array;
  /** Tensors alive after each step (stable from step 2 on when nothing leaks). */
  readonly live: number[];
  /** Initial weights, to start the other backend from the same point. */
  readonly weights: Float32Array[];
}

async function trainOn(backend: string, classes: number, from?: Float32Array[]): Promise<Trace> {
  await tf.setBackend(backend);
  const model = buildUnet({
    inputSize: [SIZE, SIZE],
    channels: 1,
    classes,
    width: 1 / 16,
    seed: 7,
  });
  if (from)
    model.setWeights(
      from.map((w, i) => tf.tensor(w, [...(model.weights[i]?.shape ?? [])] as number[])),
    );
  const weights = await Promise.all(
    model.getWeights().map(async (w) => (await w.data()) as Float32Array),
  );
  const next = rng(99);
  const n = BATCH * SIZE * SIZE;
  const x = tf.tensor4d(
    Float32Array.from({ length: n }, () => next()),
    [BATCH, SIZE, SIZE, 1],
  );
  const k = classes === 1 ? 2 : classes;
  const mask = Int32Array.from(
    { length: n },
    (_, i) => ((i % SIZE) * 3 + Math.floor(i / SIZE)) % k,
  );
  const y =
    classes === 1
      ? tf.tensor4d(Float32Array.from(mask), [BATCH, SIZE, SIZE, 1])
      : tf.reshape(tf.oneHot(tf.tensor1d(mask, 'int32'), classes), [BATCH, SIZE, SIZE, classes]);
  const loss = segmentationLoss({ classes });
  // 1e-3: Adam's first steps move each weight by ≈ lr·sign(g), so at large rates float
  // rounding in near-zero gradients (same maths, another summation order) shows up.
  const opt = new Adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses: number[] = [];
  const live: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const value = opt.minimize(
      () => loss(y, model.apply(x, { training: true }) as Tensor) as tf.Scalar,
      true,
      vars,
    );
    if (!value) throw new Error('optimizer.minimize returned no loss');
    losses.push((await value.data())[0] ?? NaN);
    value.dispose();
    live.push(tf.memory().numTensors);
  }
  const pred = model.predict(x) as Tensor;
  const prediction = (await pred.data()) as Float32Array;
  tf.dispose([pred, x, y]);
  opt.dispose();
  model.dispose();
  return { losses, prediction, live, weights };
}

describe.skipIf(!TORCH_BUILT)('a small U-Net trains alike on torch and cpu', () => {
  beforeAll(() => setupTorch());

  for (const classes of [1, 3]) {
    const name = classes === 1 ? 'binary BCE+Dice' : '3-class CCE+Dice';
    it(`${name}: ${STEPS} Adam steps give the same losses within 1e-3`, async () => {
      const cpu = await trainOn('cpu', classes);
      const torch = await trainOn('torch', classes, cpu.weights);
      expect(torch.losses).toHaveLength(STEPS);
      torch.losses.forEach((l, i) =>
        expect(Math.abs(l - (cpu.losses[i] ?? NaN))).toBeLessThanOrEqual(1e-3),
      );
      // Training moved the loss (the check is not comparing two constants).
      expect(Math.abs((cpu.losses[0] ?? 0) - (cpu.losses[STEPS - 1] ?? 0))).toBeGreaterThan(1e-3);
      // Adam creates its moments on step 1; after that the tensor count must not grow.
      expect(torch.live[STEPS - 1]).toBe(torch.live[1]);
      let worst = 0;
      cpu.prediction.forEach(
        (v, i) => (worst = Math.max(worst, Math.abs(v - (torch.prediction[i] ?? NaN)))),
      );
      expect(worst).toBeLessThanOrEqual(1e-3);
    });
  }
});
