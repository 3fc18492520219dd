/**
 * dentseg's wasm Tile (whole-input repeats by copying; everything else falls back to
 * tfjs' kernel) against the cpu backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { initEngine, tf } from '../../src/engine/index.js';
import { wholeRepeats } from '../../src/engine/wasm/tile.js';

const CASES: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
  { shape: [1, 1, 1, 5], reps: [2, 7, 9, 1], dtype: 'float32' }, // batch norm's gradient
  { shape: [1, 3], reps: [5, 1], dtype: 'int32' },
  { shape: [1, 1, 4], reps: [3, 1, 1], dtype: 'bool' },
  { shape: [2, 3], reps: [1, 1], dtype: 'float32' },
  { shape: [2, 3], reps: [2, 1], dtype: 'float32' }, // fallback: tiled axis carries data
  { shape: [1, 3], reps: [2, 2], dtype: 'float32' }, // fallback: tiles a data axis
  { shape: [3, 1], reps: [1, 4], dtype: 'int32' }, // fallback: tiled axis after data
];

async function tileOn(backend: string, c: (typeof CASES)[number]): Promise<number[]> {
  await tf.setBackend(backend);
  const n = c.shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (c.dtype === 'bool' ? i % 2 : i * 1.5 - 3));
  const x = tf.tensor(values, c.shape, c.dtype);
  const y = tf.tile(x, c.reps);
  const out = Array.from(await y.data());
  tf.dispose([x, y]);
  return out;
}

describe('wasm Tile', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it.each(CASES)('matches cpu: $shape × $reps ($dtype)', async (c) => {
    expect(await tileOn('wasm', c)).toEqual(await tileOn('cpu', c));
  });

  it('takes the copy route only for whole repeats', () => {
    expect(wholeRepeats([1, 1, 1, 5], [2, 7, 9, 1])).toBe(126);
    expect(wholeRepeats([2, 3], [1, 1])).toBe(1);
    expect(wholeRepeats([2, 3], [2, 1])).toBe(0);
    expect(wholeRepeats([1, 3], [2, 2])).toBe(0);
    expect(wholeRepeats([3, 1], [1, 4])).toBe(0);
    expect(wholeRepeats([1, 2], [3])).toBe(0);
  });
});
