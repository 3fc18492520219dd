// The quality estimate's faster kernels (convolution without per-tap border checks inside
// the image, selection instead of a sort) give the values the plain ones gave, bit for bit.
import { describe, expect, it } from 'vitest';
import { convolve1d, gaussianKernel, reflect } from '../../src/imaging/kernels.js';
import { selectKth } from '../../src/imaging/quality.js';
import { mulberry32 } from '../../src/rng.js';

/** The per-tap reflecting convolution the fast one replaced. */
function plainConvolve(
  src: Float64Array,
  width: number,
  height: number,
  kernel: Float64Array,
  axis: 0 | 1,
): Float64Array {
  const out = new Float64Array(src.length);
  const r = (kernel.length - 1) >> 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) {
        const w = kernel[k + r]!;
        s +=
          axis === 0
            ? w * src[y * width + reflect(x + k, width)]!
            : w * src[reflect(y + k, height) * width + x]!;
      }
      out[y * width + x] = s;
    }
  }
  return out;
}

function noise(n: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  return Float64Array.from({ length: n }, () => rand());
}

describe('quality estimate kernels', () => {
  it.each([
    [37, 23, 1],
    [64, 48, 4],
    [5, 40, 4], // narrower than the kernel: every sample reflects
    [1, 9, 1],
  ])('convolve1d on %i×%i, σ %i: the same values as per-tap reflection', (w, h, sigma) => {
    const src = noise(w * h, w * 31 + h);
    const k = gaussianKernel(sigma);
    for (const axis of [0, 1] as const) {
      expect(convolve1d(src, w, h, k, axis)).toEqual(plainConvolve(src, w, h, k, axis));
    }
  });

  it('selectKth gives what a sort puts at k, with ties and runs', () => {
    const rand = mulberry32(7);
    const cases = [
      noise(1001, 1),
      Float64Array.from({ length: 500 }, () => Math.floor(rand() * 5)), // many ties
      Float64Array.from({ length: 300 }, (_, i) => i), // sorted
      Float64Array.from({ length: 300 }, (_, i) => 300 - i), // reversed
      new Float64Array(64), // constant
      Float64Array.of(3),
    ];
    for (const values of cases) {
      const sorted = Float64Array.from(values).sort();
      for (const k of [0, 1, values.length >> 1, values.length - 2, values.length - 1]) {
        if (k < 0 || k >= values.length) continue;
        expect(selectKth(Float64Array.from(values), k)).toBe(sorted[k]);
      }
    }
  });
});
