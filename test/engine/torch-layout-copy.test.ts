/**
 * The addon's tiled layout copy (native/src/layout_copy.cc) moves every op result to
 * contiguous memory and makes the convolutions' NCHW and filter copies. A copy must be
 * exact: every permutation of a 4-D tensor whose sizes are not multiples of the 32-element
 * tile, float32 and int32, and views that are no transpose (a broadcast, a slice) equal
 * the cpu backend bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { tf } from '../../src/engine/index.js';
import { setupTorch, TORCH_BUILT } from './torch-compare.js';

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

async function onBoth(fn: () => ReturnType<typeof tf.tensor>): Promise<[unknown[], unknown[]]> {
  const out: unknown[][] = [];
  for (const backend of ['torch', 'cpu']) {
    await tf.setBackend(backend);
    const t = fn();
    out.push(Array.from(await t.data()));
    t.dispose();
  }
  return [out[0]!, out[1]!];
}

describe.skipIf(!TORCH_BUILT)('layout copies on torch', () => {
  it('transposes exactly under all 24 permutations, float32 and int32', async () => {
    setupTorch();
    const shape = [3, 37, 5, 70];
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1000);
    for (const dtype of ['float32', 'int32'] as const) {
      for (const perm of permutations(4)) {
        const [torch, cpu] = await onBoth(() =>
          tf.tidy(() => tf.transpose(tf.tensor(values, shape, dtype), perm)),
        );
        expect(torch, `${dtype} perm ${perm.join(',')}`).toEqual(cpu);
      }
    }
  });

  it('copies views that are no transpose: a broadcast and a strided slice', async () => {
    setupTorch();
    const [a, b] = await onBoth(() =>
      tf.tidy(() =>
        tf.transpose(tf.broadcastTo(tf.reshape(tf.range(0, 40), [1, 40, 1]), [33, 40, 3])),
      ),
    );
    expect(a).toEqual(b);
    const [c, d] = await onBoth(() =>
      tf.tidy(() =>
        tf.transpose(tf.slice(tf.reshape(tf.range(0, 64 * 50), [64, 50]), [3, 5], [40, 33])),
      ),
    );
    expect(c).toEqual(d);
  });
});
