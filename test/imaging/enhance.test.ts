// Enhancement: `auto` leaves an ideal image alone, denoises a noisy one and sharpens a
// blurred one (each measured back); the spec parser and the dentseg.json key.
import { describe, expect, it } from 'vitest';
import { validatePreprocessConfig, prepareGrey, DEFAULT_PREPROCESS } from '../../src/data/index.js';
import type { GreyImage } from '../../src/imaging/types.js';
import {
  AUTO_THRESHOLDS,
  UNSHARP_AFTER_DENOISE_MIN_SIDE,
  autoSteps,
  degradeImage,
  enhanceImage,
  estimateQuality,
  parseDegradeSpec,
  parseEnhanceSpec,
} from '../../src/imaging/index.js';
import { toUnit } from '../../src/imaging/image.js';

const W = 256;
const H = 192;

/** An ideal synthetic panoramic-like image: smooth bands and sharp-edged "teeth", no noise. */
function ideal(bitDepth: 8 | 16 = 8): GreyImage {
  const max = bitDepth === 16 ? 65535 : 255;
  const data = bitDepth === 16 ? new Uint16Array(W * H) : new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let v = 0.25 + 0.2 * Math.sin(x / 40) * Math.cos(y / 30);
      if (y > 60 && y < 130 && x % 24 > 4 && x % 24 < 20) v += 0.35; // teeth with hard edges
      data[y * W + x] = Math.round(v * max);
    }
  return { width: W, height: H, bitDepth, data };
}

function rmse(a: GreyImage, b: GreyImage): number {
  const u = toUnit(a);
  const v = toUnit(b);
  let s = 0;
  for (let i = 0; i < u.length; i++) s += (u[i]! - v[i]!) ** 2;
  return Math.sqrt(s / u.length);
}

describe('enhancement', () => {
  it.each([8, 16] as const)('auto is a no-op on an ideal %i-bit image', (bits) => {
    const img = ideal(bits);
    const q = estimateQuality(img);
    expect(q.noise).toBeLessThan(AUTO_THRESHOLDS.noise);
    expect(q.sharpness).toBeGreaterThan(AUTO_THRESHOLDS.sharpness);
    const r = enhanceImage(img, 'auto');
    expect(r.applied).toBe('none');
    expect(rmse(r.image, img)).toBeLessThan(1e-9);
  });

  it('auto denoises a noisy image: closer to the clean one, edges kept', async () => {
    const img = ideal();
    const noisy = await degradeImage(img, parseDegradeSpec('noise:0.1'), { seed: [1] });
    const r = enhanceImage(noisy, 'auto');
    // Under 512 px no unsharp follows (UNSHARP_AFTER_DENOISE_MIN_SIDE).
    expect(r.applied).toMatch(/^denoise:[\d.]+$/);
    expect(estimateQuality(noisy).noise).toBeGreaterThan(0.09);
    expect(rmse(r.image, img)).toBeLessThan(rmse(noisy, img) * 0.6);
  });

  it('auto follows a denoise with a mild unsharp from 512 px up', () => {
    const q = { ...estimateQuality(ideal()), noise: 0.05 };
    expect(autoSteps(q, 256).map((s) => s.kind)).toEqual(['denoise']);
    expect(autoSteps(q, UNSHARP_AFTER_DENOISE_MIN_SIDE)).toEqual([
      { kind: 'denoise', level: 0 },
      { kind: 'unsharp', level: 0.7 },
    ]);
  });

  it('auto sharpens a blurred image: closer to the clean one', async () => {
    const img = ideal();
    const blurred = await degradeImage(img, parseDegradeSpec('blur:2'), { seed: [1] });
    expect(autoSteps(estimateQuality(blurred))[0]?.kind).toBe('unsharp');
    const r = enhanceImage(blurred, 'auto');
    expect(r.applied).toMatch(/^unsharp:/);
    expect(rmse(r.image, img)).toBeLessThan(rmse(blurred, img));
  });

  it('explicit lists run in order; none passes through', () => {
    const img = ideal();
    expect(enhanceImage(img, 'none').image).toBe(img);
    const r = enhanceImage(img, parseEnhanceSpec('denoise:0.05,clahe'));
    expect(r.applied).toBe('denoise:0.05,clahe:2');
    expect(rmse(r.image, img)).toBeGreaterThan(0.001);
  });

  it.each([
    ['sharpen', /--enhance: "sharpen" is not auto, none or a list/],
    ['unsharp:x', /--enhance: "unsharp:x": unsharp takes amount/],
    ['clahe:0', /"clahe:0": clahe takes clip limit/],
  ])('rejects %s with E_USAGE naming the flag', (spec, msg) => {
    expect(() => parseEnhanceSpec(spec)).toThrow(msg);
  });

  it('preprocess.enhance in dentseg.json is validated and applied at network size', async () => {
    expect(validatePreprocessConfig({ enhance: ' auto ' }).enhance).toBe('auto');
    expect(validatePreprocessConfig({ enhance: 'none' }).enhance).toBeUndefined();
    expect(validatePreprocessConfig({ enhance: 'unsharp' }).enhance).toBe('unsharp:1');
    expect(() => validatePreprocessConfig({ enhance: 'magic' })).toThrow(/"enhance" must be/);
    const noisy = await degradeImage(ideal(), parseDegradeSpec('noise:0.1'), { seed: [2] });
    const cfg = { ...DEFAULT_PREPROCESS, size: [H, W] as [number, number] };
    const plain = prepareGrey(noisy, cfg).grey;
    const auto = prepareGrey(noisy, validatePreprocessConfig({ ...cfg, enhance: 'auto' })).grey;
    const clean = prepareGrey(ideal(), cfg).grey;
    const err = (g: Float32Array): number => g.reduce((s, v, i) => s + (v - clean[i]!) ** 2, 0);
    expect(err(auto)).toBeLessThan(err(plain) * 0.5);
    const idealAuto = prepareGrey(ideal(), validatePreprocessConfig({ ...cfg, enhance: 'auto' }));
    expect(err(idealAuto.grey)).toBeLessThan(1e-9);
  });
});
