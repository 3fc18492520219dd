/**
 * The wasm backend runs with the threads it reports: XNNPACK's pool size, cross-checked
 * against the pthread workers emscripten is running; a threaded build that cannot start
 * falls back to 1 thread and says why.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import { wasmRunningWorkers } from '../../src/engine/wasm/index.js';
import { createWasmBackend } from '../../src/engine/wasm/module.js';
import { printHooks } from '../../src/engine/wasm/xnn-status.js';

describe('wasm threads', () => {
  it('gets 2 threads in Node where 2 cores exist, and reports them', async () => {
    const info = await initEngine({ backend: 'wasm', threads: 2 });
    const expected = Math.min(2, os.availableParallelism());
    expect(info.backend).toBe('wasm');
    expect(info.threads).toBe(expected);
    expect(info.note).toBeUndefined();
    // pthreadpool runs threads − 1 workers beside the calling thread.
    if (expected > 1) expect(wasmRunningWorkers()).toBe(expected - 1);
    const y = tf.conv2d(
      tf.ones([1, 32, 32, 8]) as tf.Tensor4D,
      tf.ones([3, 3, 8, 4]) as tf.Tensor4D,
      1,
      'valid',
    );
    expect(Array.from(await y.data()).every((v) => v === 72)).toBe(true);
  });

  it('falls back to 1 thread, with a note, when the threaded build cannot start', async () => {
    const build = await createWasmBackend(2, printHooks, {
      threadedGlue: '/nonexistent/tfjs-backend-wasm-threaded-simd.js',
    });
    expect(build.threads).toBe(1);
    expect(build.note).toMatch(/threaded wasm could not start .*ENOENT.*using 1 thread/);
    expect(build.module.PThread).toBeUndefined();
  });
});
