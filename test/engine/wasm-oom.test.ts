/**
 * XNNPACK out-of-memory and heap exhaustion on wasm are errors (E_ENGINE_OOM), never a
 * warning followed by garbage. The heap is capped at 64 MiB so that a convolution whose
 * XNNPACK scratch (indirection buffer: output pixels × kernel taps pointers) cannot fit
 * fails for real, while its tensors are small.
 */
import { describe, expect, it } from 'vitest';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initEngine, tf } from '../../src/engine/index.js';
import { lastFilterGradBands } from '../../src/engine/wasm/conv2d-backprop-filter.js';
import { checked, simulateXnnFailureForTest } from '../../src/engine/wasm/xnn-status.js';

describe('wasm failures become errors', () => {
  it('a real XNNPACK status 6 in Conv2D is E_ENGINE_OOM', async () => {
    await initEngine({ backend: 'wasm', wasmHeapMB: 64 });
    const x = tf.ones([1, 512, 512, 1]) as tf.Tensor4D;
    const f = tf.ones([15, 15, 1, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => tf.conv2d(x, f, 1, 'same')).toThrow(
      expect.objectContaining({
        code: 'E_ENGINE_OOM',
        message: expect.stringMatching(/Conv2D.*status 6/),
      }),
    );
    expect(tf.memory().numTensors).toBe(before);
    // The engine still works afterwards, and small convolutions are right.
    const y = tf.conv2d(
      tf.ones([1, 8, 8, 1]) as tf.Tensor4D,
      tf.ones([3, 3, 1, 1]) as tf.Tensor4D,
      1,
      'valid',
    );
    expect(Array.from(await y.data()).every((v) => v === 9)).toBe(true);
  });

  it('the filter gradient splits dy into bands when XNNPACK runs out of memory', async () => {
    await initEngine({ backend: 'wasm', wasmHeapMB: 64 });
    // 1024² makes XNNPACK's scratch for the swapped-axes convolution ~50 MB: too much here.
    const x = tf.randomUniform([1, 1024, 1024, 2], -1, 1, 'float32', 7);
    const dy = tf.randomUniform([1, 1024, 1024, 1], -1, 1, 'float32', 8);
    const [xv, dyv] = [await x.data(), await dy.data()];
    tf.dispose([x, dy]);
    const grad = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const inputs = {
        x: tf.tensor(xv, [1, 1024, 1024, 2]),
        dy: tf.tensor(dyv, [1, 1024, 1024, 1]),
      };
      const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 1] };
      const out = tf.engine().runKernel('Conv2DBackpropFilter', inputs, attrs) as tf.Tensor;
      const values = (await out.data()) as Float32Array;
      tf.dispose([out, inputs.x, inputs.dy]);
      return values;
    };
    const got = await grad('wasm');
    expect(lastFilterGradBands()).toBeGreaterThan(1);
    const ref = await grad('cpu');
    await tf.setBackend('wasm');
    const scale = Math.max(...ref.map(Math.abs));
    const err = Math.max(...got.map((v, i) => Math.abs(v - (ref[i] ?? NaN))));
    expect(err / scale).toBeLessThanOrEqual(1e-4);
  });

  it('a tensor larger than the heap is E_ENGINE_OOM, not a wrapped-around size', async () => {
    await initEngine({ backend: 'wasm', wasmHeapMB: 64 });
    expect(() => tf.tile(tf.ones([1, 1]), [40000, 30000])).toThrow(
      expect.objectContaining({ code: 'E_ENGINE_OOM' }),
    );
    expect(() => tf.tile(tf.ones([1, 1]), [4096, 8192])).toThrow(
      expect.objectContaining({ code: 'E_ENGINE_OOM' }),
    );
    expect(Array.from(await tf.tile(tf.ones([1, 1]), [2, 2]).data())).toEqual([1, 1, 1, 1]);
  });

  it('maps other XNNPACK statuses to E_ENGINE_FAILED and frees the output', () => {
    const disposed: object[] = [];
    const out: TensorInfo = { dataId: {}, shape: [1], dtype: 'float32' };
    const backend = { disposeData: (id: object) => disposed.push(id) };
    const failing = (status: number): KernelFunc =>
      checked('Fake', () => {
        simulateXnnFailureForTest(status);
        return out;
      });
    expect(() => failing(2)({ inputs: {}, backend, attrs: {} })).toThrow(
      expect.objectContaining({ code: 'E_ENGINE_FAILED' }),
    );
    expect(() => failing(6)({ inputs: {}, backend, attrs: {} })).toThrow(
      expect.objectContaining({ code: 'E_ENGINE_OOM' }),
    );
    expect(disposed).toEqual([out.dataId, out.dataId]);
    // A failure printed outside any kernel does not fail the next one.
    simulateXnnFailureForTest(6);
    expect(checked('Ok', () => out)({ inputs: {}, backend, attrs: {} })).toBe(out);
  });
});
