/**
 * dentseg's Adam on a backend with the fused update kernel (torch): one kernel per variable
 * instead of tfjs' element-wise chain, the same values as tfjs' AdamOptimizer on the cpu
 * backend step after step, and the same saved state (moments, step count), so a run saved
 * on one backend resumes on the other.
 */
import { describe, expect, it } from 'vitest';
import { ADAM_UPDATE, tf } from '../../src/engine/index.js';
import {
  Adam,
  exportOptimizerState,
  importOptimizerState,
  type OptimizerStateFile,
} from '../../src/train/optimizer.js';
import { relError, rng, setupTorch, TORCH_BUILT } from '../engine/torch-compare.js';

const SHAPES = [[3, 3, 2, 4], [4], [5, 7]];
const STEPS = 4;

function seeded(shape: number[], seed: number, scale = 1): Float32Array {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

interface Run {
  readonly values: Float32Array[];
  readonly kernels: string[];
  readonly state: OptimizerStateFile;
}

/** `steps` Adam steps of fixed gradients (varying per step) on seeded variables. */
async function run(backend: string, steps: number, from?: OptimizerStateFile): Promise<Run> {
  await tf.setBackend(backend);
  const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(seeded(s, 10 + i), s), true, `w${i}`));
  const opt = new Adam(1e-2);
  if (from) await importOptimizerState(opt, from, 'test');
  let kernels: string[] = [];
  for (let t = 0; t < steps; t++) {
    const grads = SHAPES.map((s, i) => ({
      name: `w${i}`,
      // Some gradients near zero: where Adam's m / sqrt(v) is most sensitive to rounding.
      tensor: tf.tensor(seeded(s, 100 * t + i, i === 2 ? 1e-4 : 1), s),
    }));
    const prof = await tf.profile(() => opt.applyGradients(grads));
    kernels = prof.kernels.map((k) => k.name);
    tf.dispose(grads.map((g) => g.tensor));
  }
  const values = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
  const state = await exportOptimizerState(opt);
  opt.dispose();
  tf.dispose(vars);
  return { values, kernels, state };
}

describe('Adam', () => {
  it('keeps tfjs’ element-wise update where the backend lacks the fused kernel', async () => {
    const r = await run('cpu', 1);
    expect(r.kernels).not.toContain(ADAM_UPDATE);
    expect(r.kernels).toContain('Sqrt');
  });
});

describe.skipIf(!TORCH_BUILT)('Adam on torch', () => {
  it('updates each variable in one fused kernel, with tfjs’ values on cpu', async () => {
    setupTorch();
    const torch = await run('torch', STEPS);
    const cpu = await run('cpu', STEPS);
    expect(torch.kernels.filter((k) => k === ADAM_UPDATE)).toHaveLength(SHAPES.length);
    expect(torch.kernels).not.toContain('Sqrt');
    for (let i = 0; i < SHAPES.length; i++) {
      expect(relError(torch.values[i]!, cpu.values[i]!)).toBeLessThanOrEqual(1e-5);
    }
    expect(torch.state.index).toEqual(cpu.state.index);
    expect(relError(torch.state.data, cpu.state.data)).toBeLessThanOrEqual(1e-5);
  });

  it('saves a state that resumes on cpu as if the run had stayed there', async () => {
    setupTorch();
    const saved = await run('torch', 2);
    const resumed = await run('cpu', 2, saved.state);
    const cpu = await run('cpu', 2, (await run('cpu', 2)).state);
    for (let i = 0; i < SHAPES.length; i++) {
      expect(relError(resumed.values[i]!, cpu.values[i]!)).toBeLessThanOrEqual(1e-5);
    }
  });
});
