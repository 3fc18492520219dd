/**
 * dentseg's Mean and Sum gradients (src/engine/gradients.ts: dy broadcast by the backend
 * instead of multiplied by a JavaScript-filled ones tensor) are the ones in use after
 * `initEngine`, and give the analytic values: d/dx Σ(w · mean(x, axes)) = w / |axes|,
 * broadcast over the reduced axes, for the reductions batch norm and the losses use.
 */
import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import { MEAN_GRADIENT, RELU_GRADIENT, SUM_GRADIENT } from '../../src/engine/gradients.js';
import { setupTorch, TORCH_BUILT } from './torch-compare.js';

const SHAPE = [2, 3, 4, 5];
const CASES: { axis: number[] | undefined; keepDims: boolean }[] = [
  { axis: [0, 1, 2], keepDims: false }, // batch-norm moments over N, H, W
  { axis: [0, 1, 2], keepDims: true },
  { axis: [1], keepDims: false },
  { axis: [3], keepDims: true },
  { axis: undefined, keepDims: false }, // the loss: mean over everything
];

/** Expected gradient: w (the reduced shape) broadcast back, divided by n for a mean. */
function expected(w: tf.Tensor, axis: number[] | undefined, n: number): Float32Array {
  const axes = axis ?? SHAPE.map((_, i) => i);
  const kept = SHAPE.map((s, i) => (axes.includes(i) ? 1 : s));
  return tf.tidy(() =>
    tf.div(tf.broadcastTo(tf.reshape(w, kept), SHAPE), n).dataSync(),
  ) as Float32Array;
}

describe('Mean and Sum gradients', () => {
  it('are dentseg’s after initEngine', async () => {
    await initEngine({ backend: 'cpu' });
    expect(tf.getGradient('Mean')).toBe(MEAN_GRADIENT);
    expect(tf.getGradient('Sum')).toBe(SUM_GRADIENT);
  });

  for (const { axis, keepDims } of CASES) {
    it(`match the analytic gradient for axis ${JSON.stringify(axis)}, keepDims ${keepDims}`, async () => {
      await initEngine({ backend: 'cpu' });
      const x = tf.randomNormal(SHAPE, 0, 1, 'float32', 3);
      const axes = axis ?? SHAPE.map((_, i) => i);
      const n = axes.reduce((p, a) => p * SHAPE[a]!, 1);
      for (const [op, divisor] of [
        [tf.mean, n],
        [tf.sum, 1],
      ] as const) {
        const reducedShape = op(x, axis, keepDims).shape;
        const w = tf.randomNormal(reducedShape, 0, 1, 'float32', 5);
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(op(v, axis, keepDims), w)))(x);
        const got = g.dataSync();
        const want = expected(w, axis, divisor);
        expect(g.shape).toEqual(SHAPE);
        for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 6);
        tf.dispose([w, g]);
      }
      x.dispose();
    });
  }
});

describe('Relu gradient', () => {
  /** d/dx Σ(w · relu(x)) = w where x > 0, else 0; kernels run by that gradient. */
  async function reluGrad(): Promise<{ ok: boolean; kernels: string[] }> {
    const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3, -1e-9, 1e-9]);
    const w = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
    const f = (v: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.relu(v), w));
    const prof = await tf.profile(() => tf.grad(f)(x));
    const g = Array.from(tf.grad(f)(x).dataSync());
    tf.dispose([x, w]);
    return {
      ok: JSON.stringify(g) === JSON.stringify([0, 0, 0, 4, 5, 0, 7]),
      kernels: prof.kernels.map((k) => k.name),
    };
  }

  it('is dentseg’s after initEngine and keeps tfjs’ dy * step(x) where the backend lacks the fused kernel', async () => {
    await initEngine({ backend: 'cpu' });
    expect(tf.getGradient('Relu')).toBe(RELU_GRADIENT);
    const r = await reluGrad();
    expect(r.ok).toBe(true);
    expect(r.kernels).toContain('Step');
  });

  it.skipIf(!TORCH_BUILT)('runs as one kernel on torch, without Step', async () => {
    setupTorch();
    await tf.setBackend('torch');
    const r = await reluGrad();
    expect(r.ok).toBe(true);
    expect(r.kernels).toContain('DentsegReluGrad');
    expect(r.kernels).not.toContain('Step');
  });
});
