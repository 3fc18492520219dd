/**
 * The wasm backend runs with the threads it reports: XNNPACK's pool size, cross-checked
 * against the pthread workers emscripten is running; a threaded build that cannot start
 * falls back to 1 thread and says why.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
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

describe('wasm threads and process exit', () => {
  it('a script that used 2 wasm threads exits on its own', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const path = await import('node:path');
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-exit-'));
    const file = path.join(dir, 'exit.mts');
    const engine = new URL('../../src/engine/index.ts', import.meta.url).href;
    writeFileSync(
      file,
      `import { initEngine, tf } from ${JSON.stringify(engine)};
      const info = await initEngine({ backend: 'wasm', threads: 2 });
      tf.conv2d(tf.ones([1, 16, 16, 4]), tf.ones([3, 3, 4, 4]), 1, 'same').dataSync();
      console.log('threads=' + info.threads);`,
    );
    try {
      const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.stdout, child.stderr).toContain(
        `threads=${Math.min(2, os.availableParallelism())}`,
      );
      expect(child.signal).toBeNull();
      expect(child.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
