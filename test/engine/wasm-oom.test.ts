/**
 * XNNPACK out-of-memory and heap exhaustion on wasm are errors (E_ENGINE_OOM), never a
 * warning followed by garbage. The heap is capped at 64 MiB so that a convolution whose
 * XNNPACK scratch (indirection buffer: output pixels × kernel taps pointers) cannot fit
 * fails for real, while its tensors are small.
 */
import { describe, expect, it } from 'vitest';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { initEngine, tf } from '../../src/engine/index.js';
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
