// Run-based labelling against a plain 8-connected flood fill on random multi-class masks:
// the same partition of pixels, components in raster order, statistics that add up; dropping
// components from a labelling is labelling the cleared mask.
import { describe, expect, it } from 'vitest';
import { binarise, dropComponents, labelComponents } from '../../src/imaging/components.js';

function floodFill(mask: Uint8Array, w: number, h: number): Int32Array {
  const labels = new Int32Array(w * h);
  let next = 0;
  for (let s = 0; s < w * h; s++) {
    if (mask[s] === 0 || labels[s] !== 0) continue;
    labels[s] = ++next;
    const stack = [s];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (labels[q] === 0 && mask[q] === mask[p]) {
            labels[q] = next;
            stack.push(q);
          }
        }
    }
  }
  return labels;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A random 3-class mask of random size and density, and the generator to draw on from. */
function randomMask(seed: number): { rnd: () => number; w: number; h: number; mask: Uint8Array } {
  const rnd = random(seed);
  const w = 5 + Math.floor(rnd() * 40);
  const h = 5 + Math.floor(rnd() * 30);
  const density = rnd();
  const mask = Uint8Array.from({ length: w * h }, () =>
    rnd() < density ? 1 + Math.floor(rnd() * 3) : 0,
  );
  return { rnd, w, h, mask };
}

describe('labelComponents', () => {
  it('matches a flood fill on random masks (identical labels, raster order)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { w, h, mask } = randomMask(seed);
      const c = labelComponents(mask, w, h);
      const ref = floodFill(mask, w, h);
      expect(Array.from(c.labels)).toEqual(Array.from(ref));
      let total = 0;
      for (let i = 0; i < c.count; i++) {
        total += c.area[i]!;
        expect(c.labels[c.start[i]!]).toBe(i + 1);
        expect(mask[c.start[i]!]).toBe(c.cls[i]);
      }
      expect(total).toBe(mask.filter((v) => v !== 0).length);
    }
  });
});

describe('binarise', () => {
  it('makes touching regions of different classes one region', () => {
    // Classes 2 and 5 side by side: two components as labelled, one once binarised.
    const mask = Uint8Array.from([0, 2, 5, 0, 0, 0, 0, 0, 0, 3]);
    expect(labelComponents(mask, 5, 2).count).toBe(3);
    const one = binarise(mask);
    expect([...one]).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(labelComponents(one, 5, 2).count).toBe(2);
  });

  it('writes into a reused buffer and refuses one too small', () => {
    const out = new Uint8Array(4).fill(9);
    expect(binarise(Uint8Array.from([7, 0, 0, 1]), out)).toBe(out);
    expect([...out]).toEqual([1, 0, 0, 1]);
    expect(() => binarise(new Uint8Array(5), out)).toThrow(RangeError);
  });
});

describe('dropComponents', () => {
  it('equals labelling the mask with the dropped components cleared (random masks and drops)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { rnd, w, h, mask } = randomMask(seed);
      const c = labelComponents(mask, w, h);
      const drop = Uint8Array.from({ length: c.count }, () => (rnd() < 0.4 ? 1 : 0));
      const cleared = mask.map((v, p) => (drop[c.labels[p]! - 1] ? 0 : v));
      expect(dropComponents(c, w, drop)).toEqual(labelComponents(cleared, w, h));
    }
  });

  it('nothing dropped: the labelling itself', () => {
    const mask = Uint8Array.from([1, 0, 2, 2, 0, 1]);
    const c = labelComponents(mask, 3, 2);
    expect(dropComponents(c, 3, new Uint8Array(c.count))).toBe(c);
  });
});
