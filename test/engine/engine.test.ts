import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';

describe('engine', () => {
  it('initialises a backend once and reports it', async () => {
    const info = await initEngine();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe(info.backend);
    expect(await initEngine()).toBe(info);
  });
});
