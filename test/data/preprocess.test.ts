/**
 * Pre-processing: geometry for stretch and letterbox, restore as the inverse, normalise
 * modes, antialiased resize, CLAHE/denoise, and negative tests for every config key.
 */
import { describe, expect, it } from 'vitest';
import {
  computeGeometry,
  DEFAULT_PREPROCESS,
  maskToInput,
  preprocessImage,
  resizeLinear,
  resizeMaskNearest,
  restoreToOriginal,
  restoreMaskToOriginal,
  validatePreprocessConfig,
  type GreyImage,
} from '../../src/data/index.js';

function ramp(width: number, height: number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = Math.round((255 * x) / (width - 1));
  return { width, height, data, bitDepth: 8 };
}

describe('preprocess', () => {
  it('stretch fills the input; letterbox keeps aspect and centres', () => {
    const s = computeGeometry(300, 100, validatePreprocessConfig({ size: [64, 64] }));
    expect([s.contentX, s.contentY, s.contentWidth, s.contentHeight]).toEqual([0, 0, 64, 64]);
    const l = computeGeometry(
      300,
      100,
      validatePreprocessConfig({ size: [64, 64], aspect: 'letterbox' }),
    );
    expect([l.contentX, l.contentWidth, l.contentHeight]).toEqual([0, 64, 21]);
    expect(l.contentY).toBe(21);
  });

  it('outputs NHWC h*w*c and normalises per mode', () => {
    const img: GreyImage = { width: 8, height: 8, data: new Uint8Array(64).fill(255), bitDepth: 8 };
    const unit = preprocessImage(
      img,
      validatePreprocessConfig({ size: [16, 16], channels: 1, normalise: 'unit' }),
    );
    expect(unit.data.length).toBe(256);
    expect(unit.data[0]).toBeCloseTo(1, 6);
    const caffe = preprocessImage(
      img,
      validatePreprocessConfig({ size: [16, 32], channels: 3, normalise: 'caffe' }),
    );
    expect(caffe.data.length).toBe(16 * 32 * 3);
    expect(Array.from(caffe.data.slice(0, 3)).map((v) => +v.toFixed(3))).toEqual([
      151.061, 138.221, 131.32,
    ]);
    const imnet = preprocessImage(
      img,
      validatePreprocessConfig({ size: [16, 16], normalise: 'imagenet' }),
    );
    expect(imnet.data[0]).toBeCloseTo((1 - 0.485) / 0.229, 4);
    const z = preprocessImage(
      ramp(32, 8),
      validatePreprocessConfig({ size: [16, 16], channels: 1, normalise: 'zscore' }),
    );
    const mean = z.data.reduce((a, b) => a + b, 0) / z.data.length;
    expect(Math.abs(mean)).toBeLessThan(1e-4);
  });

  it('16-bit images land in the same 0…1 range', () => {
    const img: GreyImage = {
      width: 4,
      height: 4,
      data: new Uint16Array(16).fill(65535),
      bitDepth: 16,
    };
    const out = preprocessImage(
      img,
      validatePreprocessConfig({ size: [16, 16], channels: 1, normalise: 'unit' }),
    );
    expect(out.data[5]).toBeCloseTo(1, 6);
  });

  it('shrinking is antialiased (a 1-px checkerboard averages to grey)', () => {
    const w = 400;
    const src = Float32Array.from({ length: w * w }, (_, i) => ((i % w) + Math.floor(i / w)) % 2);
    const out = resizeLinear(src, w, w, 37, 37);
    for (const v of out) expect(Math.abs(v - 0.5)).toBeLessThan(0.05);
  });

  it('restoreToOriginal brings a letterboxed map back onto the original pixels', () => {
    const img = ramp(300, 120);
    const cfg = validatePreprocessConfig({
      size: [64, 64],
      channels: 1,
      normalise: 'unit',
      aspect: 'letterbox',
    });
    const { data, geometry } = preprocessImage(img, cfg);
    const back = restoreToOriginal(data, 1, geometry);
    expect(back.length).toBe(300 * 120);
    let err = 0;
    for (let i = 0; i < back.length; i++) err += Math.abs(back[i]! - img.data[i]! / 255);
    expect(err / back.length).toBeLessThan(0.01);
    expect(() => restoreToOriginal(new Float32Array(5), 1, geometry)).toThrow(/expected/);
  });

  it('masks: nearest keeps labels; letterbox padding is background', () => {
    const mask = Uint8Array.from({ length: 100 * 50 }, (_, i) => (i % 100 < 50 ? 7 : 3));
    const r = resizeMaskNearest(mask, 100, 50, 20, 10);
    expect(new Set(r)).toEqual(new Set([7, 3]));
    const g = computeGeometry(
      100,
      50,
      validatePreprocessConfig({ size: [40, 40], aspect: 'letterbox' }),
    );
    const m = maskToInput(mask, g);
    expect(m[0]).toBe(0);
    expect(m[20 * 40 + 5]).toBe(7);
    // and back: a class map at the network's size crops the padding and resizes nearest
    const back = restoreMaskToOriginal(m, g);
    expect(back).toHaveLength(100 * 50);
    let same = 0;
    for (let i = 0; i < back.length; i++) if (back[i] === mask[i]) same++;
    expect(same / back.length).toBeGreaterThan(0.97);
    expect(new Set(back)).toEqual(new Set([7, 3]));
    expect(() => restoreMaskToOriginal(new Uint8Array(5), g)).toThrow(/expected/);
  });

  it('CLAHE and denoise run and keep values in range', () => {
    const img = ramp(128, 64);
    for (const extra of [
      { clahe: { clipLimit: 2, tiles: [4, 4] } },
      { denoise: { method: 'median', radius: 1 } },
      { denoise: { method: 'gaussian', sigma: 1.5 } },
    ]) {
      const out = preprocessImage(
        img,
        validatePreprocessConfig({ size: [64, 64], channels: 1, normalise: 'unit', ...extra }),
      );
      expect(Math.min(...out.data)).toBeGreaterThanOrEqual(-1e-6);
      expect(Math.max(...out.data)).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it('validates every key and names it', () => {
    expect(validatePreprocessConfig(undefined)).toBe(DEFAULT_PREPROCESS);
    expect(JSON.parse(JSON.stringify(DEFAULT_PREPROCESS))).toEqual(DEFAULT_PREPROCESS);
    const bad: [unknown, RegExp][] = [
      [{ size: [8, 8] }, /"size"/],
      [{ size: [64] }, /"size"/],
      [{ channels: 2 }, /"channels"/],
      [{ aspect: 'crop' }, /"aspect"/],
      [{ normalise: 'minmax' }, /"normalise"/],
      [{ clahe: { clipLimit: -1 } }, /"clahe.clipLimit"/],
      [{ clahe: { tiles: [0, 8] } }, /"clahe.tiles"/],
      [{ denoise: { method: 'bilateral' } }, /"denoise.method"/],
      [{ denoise: { method: 'median', radius: 9 } }, /"denoise.radius"/],
      [{ denoise: { method: 'gaussian', sigma: 0 } }, /"denoise.sigma"/],
      [{ sizes: [64, 64] }, /"sizes"/],
      ['x', /\(root\)/],
    ];
    for (const [cfg, re] of bad) {
      expect(() => validatePreprocessConfig(cfg)).toThrow(re);
      try {
        validatePreprocessConfig(cfg);
      } catch (e) {
        expect((e as { code: string }).code).toBe('E_CONFIG_INVALID');
      }
    }
  });
});
