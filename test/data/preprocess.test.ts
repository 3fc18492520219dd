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
  restoreClassMapToOriginal,
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

describe('restoreClassMapToOriginal', () => {
  // Network 4×1, X-ray 8×1 (stretch): labels 0 | 1 | 1 | 2, probabilities per pixel for
  // channels [background, tooth A, tooth B].
  // (Built by hand: a config's size is at least 16 px.)
  const g = {
    srcWidth: 8,
    srcHeight: 1,
    width: 4,
    height: 1,
    contentX: 0,
    contentY: 0,
    contentWidth: 4,
    contentHeight: 1,
  };
  const labels = Uint8Array.from([0, 1, 1, 2]);
  const probs = Float32Array.from([
    ...[0.9, 0.1, 0.0],
    ...[0.1, 0.9, 0.0],
    ...[0.0, 0.9, 0.1],
    ...[0.0, 0.2, 0.8],
  ]);

  it('keeps runs of one label and puts borders where the probabilities cross', () => {
    const nearest = restoreMaskToOriginal(labels, g);
    expect([...nearest]).toEqual([0, 0, 1, 1, 1, 1, 2, 2]);
    const smooth = restoreClassMapToOriginal(labels, probs, 3, [0, 1, 2], g);
    // X-ray pixel 5 lies a quarter of the way from network pixel 2 to 3: A 0.725, B 0.275.
    expect(smooth[5]).toBe(1);
    // Pixel 6, three quarters of the way: A 0.375, B 0.625.
    expect(smooth[6]).toBe(2);
    // Between background 0.9 → 0.1 and tooth A 0.1 → 0.9 the border stays mid-way.
    expect([...smooth]).toEqual([0, 0, 1, 1, 1, 1, 2, 2]);
  });

  it('moves a border to where a less certain neighbour gives way', () => {
    // Tooth B barely wins its own pixel (0.45 vs A 0.4): the X-ray pixel between A and B
    // a quarter of the way towards B goes to A, and so does the one a further half-step on.
    const weak = Float32Array.from(probs);
    weak.set([0.15, 0.4, 0.45], 9);
    const smooth = restoreClassMapToOriginal(labels, weak, 3, [0, 1, 2], g);
    expect([...smooth.subarray(4)]).toEqual([1, 1, 1, 2]);
  });

  it("reads a renamed label's probabilities from the channel it came from", () => {
    // Post-processing renamed the region of channel 2 to label 1's neighbour number 3 (a
    // 4-class map): label 3 must speak with channel 2's probabilities.
    const renamed = Uint8Array.from([0, 1, 1, 3]);
    const four = new Float32Array(16);
    for (let i = 0; i < 4; i++) four.set([...probs.subarray(i * 3, i * 3 + 3), 0], i * 4);
    const smooth = restoreClassMapToOriginal(renamed, four, 4, [0, 1, 2, 2], g);
    expect([...smooth]).toEqual([0, 0, 1, 1, 1, 1, 3, 3]);
    // With label 3 reading its own (empty) channel, tooth A would take all of it.
    const wrong = restoreClassMapToOriginal(renamed, four, 4, [0, 1, 2, 3], g);
    expect(wrong[6]).toBe(1);
  });
});

describe('coordinates', () => {
  it('needs 3 channels and no tiling', () => {
    expect(validatePreprocessConfig({ channels: 3, coordinates: true }).coordinates).toBe(true);
    expect(() => validatePreprocessConfig({ channels: 1, coordinates: true })).toThrow(
      /"channels" must be 3 when coordinates is set/,
    );
    expect(() => validatePreprocessConfig({ channels: 3, coordinates: 1 })).toThrow(
      /"coordinates" must be true or false/,
    );
    expect(() =>
      validatePreprocessConfig({ channels: 3, coordinates: true, tiling: { tile: [64, 64] } }),
    ).toThrow(/"coordinates" must be absent when tiling is set/);
  });

  it('puts the grey in channel 1 and x, y (−1…1, pixel centres) in channels 2 and 3', () => {
    const cfg = validatePreprocessConfig({
      size: [16, 16],
      channels: 3,
      normalise: 'unit',
      coordinates: true,
    });
    const { data } = preprocessImage(ramp(16, 16), cfg);
    const at = (x: number, y: number) => [...data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)];
    expect(at(0, 0)).toEqual([0, -0.9375, -0.9375]);
    expect(at(15, 3)).toEqual([1, 0.9375, -0.5625]);
    expect(at(5, 15)[0]).toBeCloseTo(85 / 255, 6);
    expect(at(5, 15)[2]).toBe(0.9375);
  });
});
