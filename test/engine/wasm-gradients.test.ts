/**
 * dentseg's wasm kernels (and tfjs' own Conv2DBackpropInput, the fallback for strided
 * shapes) against the cpu backend on
 * random inputs: odd sizes, stride 1 and 2, same/valid. Max relative error ≤ 1e-4
 * (max |wasm − cpu| / max |cpu|).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { initEngine, tf } from '../../src/engine/index.js';
import { setBackpropInputRoute } from '../../src/engine/wasm/conv2d-backprop-input.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid';
interface Case {
  x: Shape4;
  filter: Shape4;
  strides: [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: 'valid' },
  { x: [1, 9, 7, 2], filter: [3, 3, 2, 5], strides: [1, 1], pad: 'valid' },
  { x: [2, 6, 6, 3], filter: [3, 3, 3, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 8, 8, 5], filter: [2, 2, 5, 3], strides: [2, 2], pad: 'same' },
  { x: [3, 5, 11, 2], filter: [5, 3, 2, 3], strides: [1, 2], pad: 'same' },
  { x: [2, 16, 16, 8], filter: [1, 1, 8, 1], strides: [1, 1], pad: 'same' },
  { x: [2, 33, 31, 16], filter: [3, 3, 16, 32], strides: [1, 1], pad: 'same' },
  { x: [1, 17, 17, 24], filter: [3, 3, 24, 8], strides: [2, 2], pad: 'same' },
];

/** Deterministic uniform values in [-1, 1) (mulberry32). */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function outShape(c: Case): Shape4 {
  const o = (n: number, k: number, s: number): number =>
    c.pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
  return [
    c.x[0],
    o(c.x[1], c.filter[0], c.strides[0]),
    o(c.x[2], c.filter[1], c.strides[1]),
    c.filter[3],
  ];
}

/** Run one kernel on a backend with the given raw inputs; returns its values. */
async function runOn(
  backend: string,
  kernel: string,
  inputs: Record<string, { values: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<Float32Array> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.values, v.shape);
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = (await out.data()) as Float32Array;
  tf.dispose([out, ...Object.values(tensors)]);
  return values;
}

async function relError(
  kernel: string,
  inputs: Record<string, { values: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<number> {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  const got = await runOn('wasm', kernel, inputs, attrs);
  expect(got.length).toBe(ref.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  expect(Number.isFinite(diff)).toBe(true);
  return diff / Math.max(scale, 1e-12);
}

const label = (c: Case): string =>
  `x ${c.x.join('×')}, filter ${c.filter.join('×')}, stride ${c.strides.join(',')}, ${c.pad}`;

describe('wasm gradient kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initEngine({ backend: 'wasm' });
  });

  it.each(CASES)('Conv2DBackpropFilter: $x / $filter / $strides / $pad', async (c) => {
    const dy = outShape(c);
    const err = await relError(
      'Conv2DBackpropFilter',
      {
        x: { values: random(size(c.x), 1), shape: c.x },
        dy: { values: random(size(dy), 2), shape: dy },
      },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
    );
    expect(err, label(c)).toBeLessThanOrEqual(1e-4);
  });

  it.each(CASES.flatMap((c) => (['auto', 'tfjs'] as const).map((route) => ({ ...c, route }))))(
    'Conv2DBackpropInput ($route): $x / $filter / $strides / $pad',
    async (c) => {
      setBackpropInputRoute(c.route);
      const dy = outShape(c);
      const err = await relError(
        'Conv2DBackpropInput',
        {
          dy: { values: random(size(dy), 3), shape: dy },
          filter: { values: random(size(c.filter), 4), shape: c.filter },
        },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
      );
      expect(err, label(c)).toBeLessThanOrEqual(1e-4);
    },
  );
});
