import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, initEngine, tf } from '../../src/engine/index.js';

describe('engine', () => {
  it('initialises a backend once and reports it', async () => {
    const info = await initEngine();
    expect(BACKEND_NAMES).toContain(info.backend);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe(info.backend);
    expect(await initEngine()).toBe(info);
    // Every higher-priority backend that was passed over says why.
    expect(info.skipped.map((s) => s.backend)).toEqual(
      BACKEND_NAMES.slice(0, BACKEND_NAMES.indexOf(info.backend)),
    );
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(initEngine({ threads: 0 })).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});
