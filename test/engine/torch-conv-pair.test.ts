/**
 * Conv2D's two gradients in one call: dentseg's Conv2D gradient (src/engine/gradients.ts)
 * asks a backend with the paired kernel for the input gradient and the filter gradient at
 * once, and the filter-gradient kernel that follows hands out the kept result. The values
 * match the cpu backend (which keeps tfjs' two kernels) and tfjs' own fused-conv gradient;
 * a filter-gradient call on other data never gets a kept gradient.
 */
import { describe, expect, it, vi } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import { CONV2D_GRAD_PAIR, CONV2D_GRADIENT } from '../../src/engine/gradients.js';
import type { TorchBackend } from '../../src/engine/torch/backend.js';
import { loadTorchNative } from '../../src/engine/torch/native.js';
import {
  compareBackends,
  relError,
  rng,
  setupTorch,
  TORCH_BUILT,
  type InputSpec,
} from './torch-compare.js';

type T = ReturnType<typeof tf.tensor>;
type T4 = ReturnType<typeof tf.tensor4d>;
const as4 = (t: T): T4 => t as T4;
const f4 = (shape: number[]): InputSpec => ({ shape, lo: -1, hi: 1 });

function seeded(shape: number[], seed: number): T {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => next() * 2 - 1),
    shape,
  );
}

/** Kernels one gradient of Σ(conv(x, w) · v) runs, and the gradients. */
async function convGrads(
  stride: number,
  pad: 'same' | 'valid',
): Promise<{ kernels: string[]; dx: Float32Array; dw: Float32Array }> {
  const x = seeded([2, 6, 5, 3], 1);
  const w = seeded([3, 3, 3, 4], 2);
  const f = (a: T, b: T): T => tf.sum(tf.conv2d(as4(a), as4(b), stride, pad));
  const prof = await tf.profile(() => tf.grads(f)([x, w]));
  const [dx, dw] = tf.grads(f)([x, w]);
  const out = {
    kernels: prof.kernels.map((k) => k.name),
    dx: (await dx!.data()) as Float32Array,
    dw: (await dw!.data()) as Float32Array,
  };
  tf.dispose([x, w, dx!, dw!]);
  return out;
}

describe('Conv2D gradient', () => {
  it('is dentseg’s after initEngine and keeps tfjs’ two kernels where the backend lacks the pair', async () => {
    await initEngine({ backend: 'cpu' });
    expect(tf.getGradient('Conv2D')).toBe(CONV2D_GRADIENT);
    const r = await convGrads(1, 'same');
    expect(r.kernels).toContain('Conv2DBackpropInput');
    expect(r.kernels).toContain('Conv2DBackpropFilter');
    expect(r.kernels).not.toContain(CONV2D_GRAD_PAIR);
  });

  it('gives tfjs’ own gradient values (its fused-conv gradient, linear, as reference)', async () => {
    await initEngine({ backend: 'cpu' });
    for (const [stride, pad] of [
      [1, 'same'],
      [2, 'same'],
      [2, 'valid'],
    ] as const) {
      const x = seeded([2, 6, 5, 3], 1);
      const w = seeded([3, 3, 3, 4], 2);
      const ours = tf.grads((a: T, b: T) => tf.sum(tf.conv2d(as4(a), as4(b), stride, pad)))([x, w]);
      const tfjs = tf.grads((a: T, b: T) =>
        tf.sum(tf.fused.conv2d({ x: as4(a), filter: as4(b), strides: stride, pad })),
      )([x, w]);
      for (let i = 0; i < 2; i++) {
        expect(relError(ours[i]!.dataSync(), tfjs[i]!.dataSync())).toBeLessThanOrEqual(1e-6);
      }
      tf.dispose([x, w, ...ours, ...tfjs]);
    }
  });
});

describe.skipIf(!TORCH_BUILT)('Conv2D gradient on torch', () => {
  it('runs the paired kernel and matches the cpu backend', async () => {
    setupTorch();
    await tf.setBackend('torch');
    const r = await convGrads(1, 'same');
    expect(r.kernels).toContain(CONV2D_GRAD_PAIR);
    expect(r.kernels).toContain('Conv2DBackpropFilter');
    expect(r.kernels).not.toContain('Conv2DBackpropInput');
    for (const [stride, pad] of [
      [1, 'same'],
      [2, 'same'],
      [2, 'valid'],
    ] as const) {
      await tf.setBackend('torch');
      const t = await convGrads(stride, pad);
      await tf.setBackend('cpu');
      const c = await convGrads(stride, pad);
      expect(relError(t.dx, c.dx)).toBeLessThanOrEqual(1e-4);
      expect(relError(t.dw, c.dw)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('matches cpu on a deep layer, where the pair runs in NCHW on AVX-512', async () => {
    setupTorch();
    const native = loadTorchNative();
    native.setConvLayout('auto');
    if (native.convLayout().cpu === 'avx512') {
      expect(native.convPlan('bothGrads', 2, 512, 512, 32, 32)).toBe('nchw');
      expect(native.convPlan('bothGrads', 2, 256, 256, 64, 64)).toBe('nchw');
      expect(native.convPlan('bothGrads', 2, 64, 64, 256, 256)).toBe('nhwc');
    }
    const err = await compareBackends(
      (x, w) => tf.conv2d(as4(x), as4(w), 1, 'same'),
      [f4([1, 4, 4, 256]), f4([3, 3, 256, 256])],
      { grad: true },
    );
    expect(err).toBeLessThanOrEqual(1e-4);
  });

  it('never hands a kept filter gradient to a call on other data', async () => {
    setupTorch();
    const run = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const x = seeded([1, 5, 5, 2], 3);
      const w = seeded([3, 3, 2, 3], 4);
      const dy1 = seeded([1, 5, 5, 3], 5);
      const dy2 = seeded([1, 5, 5, 3], 6);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
      const kernel = backend === 'torch' ? CONV2D_GRAD_PAIR : 'Conv2DBackpropInput';
      const inputs = backend === 'torch' ? { dy: dy1, filter: w, x } : { dy: dy1, filter: w };
      const dx = tf.engine().runKernel(kernel, inputs, { ...attrs, inputShape: x.shape }) as T;
      // The filter gradient of another dy, then of another x: each computed afresh.
      const dw2 = tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy: dy2 }, { ...attrs, filterShape: w.shape }) as T;
      const x2 = tf.add(x, 1);
      const dw3 = tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: x2, dy: dy1 },
          { ...attrs, filterShape: w.shape },
        ) as T;
      const out = new Float32Array([...(await dw2.data()), ...(await dw3.data())]);
      tf.dispose([x, w, dy1, dy2, dx, dw2, x2, dw3]);
      return out;
    };
    const torch = await run('torch');
    const cpu = await run('cpu');
    expect(relError(torch, cpu)).toBeLessThanOrEqual(1e-4);
  });

  it('pairs the fused convolution’s gradients too, right even when a filter is shared', async () => {
    setupTorch();
    // Σ(fused(x1, w) · v1) + Σ(fused(x2, w) · v2): w goes through two inputs, so the input
    // the backend recorded for w is x2's while x1's gradient is asked for as well.
    const run = async (backend: string): Promise<{ kernels: string[]; out: Float32Array }> => {
      await tf.setBackend(backend);
      const x1 = seeded([2, 6, 5, 3], 7);
      const x2 = seeded([2, 6, 5, 3], 8);
      const w = seeded([3, 3, 3, 4], 9);
      const v = seeded([2, 6, 5, 4], 10);
      const conv = (x: T, f: T): T =>
        tf.fused.conv2d({ x: as4(x), filter: as4(f), strides: 1, pad: 'same' });
      const f = (a: T, b: T, c: T): T =>
        tf.add(tf.sum(tf.mul(conv(a, c), v)), tf.sum(tf.mul(conv(b, c), tf.neg(v))));
      const prof = await tf.profile(() => tf.grads(f)([x1, x2, w]));
      const grads = tf.grads(f)([x1, x2, w]);
      const out = new Float32Array(grads.flatMap((g) => [...g.dataSync()]));
      tf.dispose([x1, x2, w, v, ...grads]);
      return { kernels: prof.kernels.map((k) => k.name), out };
    };
    await tf.setBackend('torch');
    const ops = vi.spyOn(tf.backend() as TorchBackend, 'exec1');
    const torch = await run('torch');
    const called = ops.mock.calls.map((c) => c[0]);
    ops.mockRestore();
    expect(torch.kernels).toContain('FusedConv2D');
    // x2's gradients paired and handed out; x1's input gradient paired with x2 (the
    // recorded input), so its filter gradient is computed afresh: never a wrong one.
    expect(called).toContain('conv2dBackpropPair');
    expect(called).toContain('conv2dBackpropFilter');
    const cpu = await run('cpu');
    expect(relError(torch.out, cpu.out)).toBeLessThanOrEqual(1e-4);
  });
});
