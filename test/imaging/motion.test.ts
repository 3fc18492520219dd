// Motion blur: the streak's length is read back from the spectrum, the Wiener filter undoes
// most of it, a clean image is left alone, and `auto` picks the filter for a streaked image.
import { describe, expect, it } from 'vitest';
import {
  AUTO_THRESHOLDS,
  autoSteps,
  boxTaps,
  deblurMotion,
  describeEnhancement,
  degradeImage,
  enhanceImage,
  estimateMotionBlur,
  estimateQuality,
  parseDegradeSpec,
} from '../../src/imaging/index.js';
import { toUnit } from '../../src/imaging/image.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { Rng } from '../../src/rng.js';

const W = 320;
const H = 256;

/** A textured image with edges in every direction: smoothed seeded noise plus discs. */
function textured(): GreyImage {
  const rng = Rng.seeded(7);
  const raw = Float64Array.from({ length: W * H }, () => rng.next());
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      // 3×3 mean of the noise: a spectrum that falls off alike along x and y
      let s = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++)
          s +=
            raw[Math.min(H - 1, Math.max(0, y + dy)) * W + Math.min(W - 1, Math.max(0, x + dx))]!;
      let v = 0.2 + 0.3 * (s / 9);
      if ((x % 40) - 20 < 12 && (x % 40) - 20 > -12 && (y % 40) - 20 < 12 && (y % 40) - 20 > -12)
        v += 0.3;
      data[y * W + x] = Math.round(Math.min(1, v) * 255);
    }
  return { width: W, height: H, bitDepth: 8, data };
}

const rmse = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length);
};

describe('motion blur', () => {
  it('box taps: a centred box of the length, half-weight ends for an even one', () => {
    expect(Array.from(boxTaps(3))).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const even = boxTaps(4);
    expect(Array.from(even)).toEqual([0.125, 0.25, 0.25, 0.25, 0.125]);
    expect(even.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('reads no streak on a clean image and the streak length on a blurred one', async () => {
    const img = textured();
    const clean = estimateMotionBlur(toUnit(img), W, H);
    expect(clean.lengthPx).toBeLessThanOrEqual(1.5);
    expect(estimateQuality(img).motionPx).toBe(1);
    for (const length of [5, 8, 12]) {
      const streaked = await degradeImage(img, parseDegradeSpec(`motion:${length}`), { seed: [1] });
      const e = estimateMotionBlur(toUnit(streaked), W, H);
      expect(Math.abs(e.lengthPx - length)).toBeLessThanOrEqual(0.5);
      expect(estimateQuality(streaked).motionPx).toBe(e.lengthPx);
    }
    // A vertical streak (8 px along y) is not a horizontal one.
    const v = toUnit(img);
    const vertical = new Float64Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let k = 0; k < 8; k++)
          vertical[y * W + x] = vertical[y * W + x]! + v[Math.min(H - 1, y + k) * W + x]! / 8;
    expect(estimateMotionBlur(vertical, W, H).lengthPx).toBeLessThanOrEqual(1.5);
  });

  it('the Wiener filter undoes most of a known streak and keeps a flat image flat', async () => {
    const img = textured();
    const streaked = await degradeImage(img, parseDegradeSpec('motion:8'), { seed: [1] });
    const truth = toUnit(img);
    const blurred = toUnit(streaked);
    const restored = deblurMotion(blurred, W, H, 8);
    expect(rmse(restored, truth)).toBeLessThan(rmse(blurred, truth) * 0.75);
    const flat = new Float64Array(W * H).fill(0.4);
    expect(rmse(deblurMotion(flat, W, H, 8), flat)).toBeLessThan(1e-12);
  });

  it('auto undoes a streak (after a denoise when noisy too) and leaves a clean image', async () => {
    const img = textured();
    expect(enhanceImage(img, 'auto').applied).toBe('none');
    const streaked = await degradeImage(img, parseDegradeSpec('motion:8'), { seed: [1] });
    const r = enhanceImage(streaked, 'auto');
    expect(r.applied).toBe('deblur:8');
    expect(rmse(toUnit(r.image), toUnit(img))).toBeLessThan(
      rmse(toUnit(streaked), toUnit(img)) * 0.75,
    );
    const q = { ...estimateQuality(img), motionPx: 6, noise: AUTO_THRESHOLDS.noise * 2 };
    expect(autoSteps(q).map((s) => s.kind)).toEqual(['denoise', 'deblur']);
    expect(autoSteps({ ...q, motionPx: AUTO_THRESHOLDS.motionPx - 0.5 })[0]?.kind).toBe('denoise');
  });

  it('says in words what enhancement ran, and nothing when none did', () => {
    expect(describeEnhancement(['none', 'none'])).toBeUndefined();
    expect(describeEnhancement([])).toBeUndefined();
    expect(describeEnhancement(['deblur:5'])).toBe(
      'The X-ray was enhanced before it was read: motion blur undone (a 5 px streak).',
    );
    expect(describeEnhancement(['denoise:0.098,unsharp:0.7', 'denoise:0.05', 'none'])).toBe(
      'The X-ray was enhanced before it was read: noise smoothed, sharpened.',
    );
  });
});
