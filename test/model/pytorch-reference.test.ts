/**
 * bench/pytorch_unet.py must be buildUnet's network, or `bench:engine`'s ratio against
 * PyTorch compares different work: same trainable parameter count and the same analytic
 * FLOP count (bench/flops.ts), at full and reduced width, and it answers the serve
 * protocol the bench drives (wall and CPU time per pass). Skipped where no Python here imports torch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardFlops } from '../../bench/flops.js';
import { findPytorch, PytorchReference } from '../../bench/pytorch.js';
import { initEngine } from '../../src/engine/index.js';
import { buildUnet } from '../../src/model/index.js';

const python = findPytorch();

function trainableParams(model: ReturnType<typeof buildUnet>): number {
  return model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
}

describe.skipIf(python === undefined)('the PyTorch reference of bench:engine', () => {
  const started: PytorchReference[] = [];
  beforeAll(async () => {
    await initEngine({ backend: 'cpu' });
  });
  afterAll(() => started.forEach((r) => r.close()));

  for (const width of [1, 0.25]) {
    it(`builds buildUnet's network at width ${width}: parameters and FLOPs agree`, async () => {
      const model = buildUnet({ inputSize: [64, 64], channels: 3, classes: 1, width });
      const ref = await PytorchReference.start(python ?? 'python3', {
        size: 64,
        batch: 1,
        width,
        threads: 1,
        channels: 3,
      });
      started.push(ref);
      expect(ref.info.params).toBe(trainableParams(model));
      expect(ref.info.gflopForwardPerImage * 1e9).toBeCloseTo(forwardFlops(model), -1);
      model.dispose();
    });
  }

  it('times one pass per request', async () => {
    const ref = await PytorchReference.start(python ?? 'python3', {
      size: 32,
      batch: 1,
      width: 0.125,
      threads: 1,
      channels: 3,
      channelsLast: true,
    });
    started.push(ref);
    expect(ref.info.layout).toBe('channels-last');
    expect(await ref.run('forward')).toBeGreaterThan(0);
    expect(await ref.run('train')).toBeGreaterThan(0);
    // and the process CPU time of the pass, which bench:engine's CPU-time ratio reads
    const timed = await ref.runTimed('train');
    expect(timed.ms).toBeGreaterThan(0);
    expect(timed.cpuMs).toBeGreaterThan(0);
  });
});
