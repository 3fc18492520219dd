/**
 * The torch backend as the engine registry offers it: chosen first when the addon is
 * built, with the thread count asked for; and an install without libtorch still succeeds
 * (the build script explains and exits 0, or fails when CI requires the backend).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, initEngine, tf } from '../../src/engine/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { TORCH_BUILT } from './torch-compare.js';

const SCRIPT = path.join(REPO_ROOT, 'scripts/build-native.mjs');

function buildWith(env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('torch in the engine registry', () => {
  it('is the first backend in priority order', () => {
    expect(BACKEND_NAMES[0]).toBe('torch');
  });

  it.skipIf(!TORCH_BUILT)('is picked by default, with the requested threads', async () => {
    const saved = process.env.DENTSEG_BACKEND;
    delete process.env.DENTSEG_BACKEND;
    try {
      const info = await initEngine({ threads: 1 });
      expect(info.backend).toBe('torch');
      expect(info.threads).toBe(1);
      expect(tf.getBackend()).toBe('torch');
      const y = tf.conv2d(
        tf.ones([1, 4, 4, 1]) as tf.Tensor4D,
        tf.ones([3, 3, 1, 1]) as tf.Tensor4D,
        1,
        'same',
      );
      expect(Array.from(await y.data()).slice(0, 5)).toEqual([4, 6, 6, 4, 6]);
    } finally {
      if (saved !== undefined) process.env.DENTSEG_BACKEND = saved;
    }
  });
});

describe('building the addon where libtorch is missing', () => {
  it('explains how to get libtorch and exits 0 (npm ci still succeeds)', () => {
    const r = buildWith({ LIBTORCH: '/nonexistent/libtorch', DENTSEG_REQUIRE_TORCH: '0' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/torch backend was not built/);
    expect(r.stderr).toMatch(/apt-get install libtorch-dev/);
  });

  it('fails when DENTSEG_REQUIRE_TORCH=1 (CI)', () => {
    const r = buildWith({ LIBTORCH: '/nonexistent/libtorch', DENTSEG_REQUIRE_TORCH: '1' });
    expect(r.status).toBe(1);
  });
});
