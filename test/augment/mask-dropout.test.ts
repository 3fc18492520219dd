/**
 * MaskDropout: removes whole objects (a tooth) from image and mask together, as many as
 * drawn, filled as asked, the same for the same seed; its keys are validated.
 */
import { describe, expect, it } from 'vitest';
import { augmentSample, normaliseAugmentConfig, Rng } from '../../src/augment/index.js';

const W = 40;
const H = 20;

/** Three teeth (classes 1, 2, 3) as bright bars on a background of grey 0.2. */
function threeTeeth(): { grey: Float32Array; mask: Uint8Array } {
  const grey = new Float32Array(W * H).fill(0.2);
  const mask = new Uint8Array(W * H);
  for (let y = 5; y < 15; y++)
    for (const [x0, cls] of [
      [4, 1],
      [16, 2],
      [28, 3],
    ] as const)
      for (let x = x0; x < x0 + 8; x++) {
        mask[y * W + x] = cls;
        grey[y * W + x] = 0.9;
      }
  return { grey, mask };
}

const present = (mask: Uint8Array): number[] => [...new Set(mask)].filter((c) => c > 0).sort();

describe('MaskDropout', () => {
  it('removes the drawn number of whole teeth from mask and image alike', () => {
    const { grey, mask } = threeTeeth();
    const cfg = normaliseAugmentConfig([{ type: 'MaskDropout', p: 1, max_objects: [2, 2] }]);
    const seen = new Set<string>();
    for (let s = 0; s < 20; s++) {
      const out = augmentSample(grey, mask, W, H, cfg, Rng.seeded(s));
      const kept = present(out.mask);
      expect(kept).toHaveLength(1);
      seen.add(kept.join());
      for (let i = 0; i < W * H; i++) {
        // A pixel is bright exactly where a kept tooth is: removed teeth took fill 0.
        if (out.mask[i]) expect(out.grey[i]).toBeCloseTo(0.9);
        else if (mask[i]) expect(out.grey[i]).toBe(0);
        else expect(out.grey[i]).toBeCloseTo(0.2);
      }
    }
    expect(seen.size).toBe(3); // each tooth is the survivor for some seed
    expect(present(mask)).toEqual([1, 2, 3]); // the input is left alone
  });

  it('fill "mean" paints the gap with the background around it; more than exist removes all', () => {
    const { grey, mask } = threeTeeth();
    const cfg = normaliseAugmentConfig([
      { type: 'MaskDropout', p: 1, max_objects: 9, fill: 'mean' },
    ]);
    const counts = new Set<number>();
    for (let s = 0; s < 30; s++) {
      const out = augmentSample(grey, mask, W, H, cfg, Rng.seeded(s));
      counts.add(3 - present(out.mask).length);
      for (let i = 0; i < W * H; i++)
        if (mask[i] && !out.mask[i]) expect(out.grey[i]).toBeCloseTo(0.2);
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
  });

  it('classes: only objects of those classes are removed', () => {
    const { grey, mask } = threeTeeth();
    const cfg = normaliseAugmentConfig([
      { type: 'MaskDropout', p: 1, max_objects: 1, classes: [2, 3] },
    ]);
    const removed = new Set<number>();
    for (let s = 0; s < 30; s++) {
      const kept = present(augmentSample(grey, mask, W, H, cfg, Rng.seeded(s)).mask);
      expect(kept).toContain(1); // class 1 is never a candidate
      expect(kept).toHaveLength(2);
      for (const c of [2, 3]) if (!kept.includes(c)) removed.add(c);
    }
    expect([...removed].sort()).toEqual([2, 3]);
    // Asking for more than the listed classes hold removes those and no other.
    const all = normaliseAugmentConfig([
      { type: 'MaskDropout', p: 1, max_objects: [5, 5], classes: [3] },
    ]);
    expect(present(augmentSample(grey, mask, W, H, all, Rng.seeded(1)).mask)).toEqual([1, 2]);
  });

  it('same seed, same bytes', () => {
    const { grey, mask } = threeTeeth();
    const cfg = normaliseAugmentConfig([{ type: 'MaskDropout', p: 0.5, max_objects: 2 }]);
    const a = augmentSample(grey, mask, W, H, cfg, Rng.seeded(4, 1, 2));
    const b = augmentSample(grey, mask, W, H, cfg, Rng.seeded(4, 1, 2));
    expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
    expect(Array.from(a.grey)).toEqual(Array.from(b.grey));
  });

  it('refuses bad keys, naming them', () => {
    const bad: [unknown, RegExp][] = [
      [[{ type: 'MaskDropout', max_objects: 1.5 }], /max_objects/],
      [[{ type: 'MaskDropout', max_objects: [3, 1] }], /max_objects/],
      [[{ type: 'MaskDropout', fill: 'median' }], /fill/],
      [[{ type: 'MaskDropout', fill: 2 }], /fill/],
      [[{ type: 'MaskDropout', holes: 2 }], /holes/],
      [[{ type: 'MaskDropout', classes: [] }], /classes/],
      [[{ type: 'MaskDropout', classes: [0] }], /classes/],
      [[{ type: 'MaskDropout', classes: 'molars' }], /classes/],
    ];
    for (const [cfg, re] of bad) expect(() => normaliseAugmentConfig(cfg)).toThrow(re);
  });
});
