// Each degradation does what its name says, measured back on synthetic images, and is the
// same for the same seed; the spec parser names the flag and the bad token.
import { describe, expect, it } from 'vitest';
import { jpegRoundTrip } from '../../src/data/jpeg.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { degradeImage, formatDegradeSpec, parseDegradeSpec } from '../../src/imaging/index.js';
import { laplacian, meanStd } from '../../src/imaging/kernels.js';
import { toUnit } from '../../src/imaging/image.js';

const W = 128;
const H = 96;

function image(fn: (x: number, y: number) => number, bitDepth: 8 | 16 = 8): GreyImage {
  const max = bitDepth === 16 ? 65535 : 255;
  const data = bitDepth === 16 ? new Uint16Array(W * H) : new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) data[y * W + x] = Math.round(fn(x, y) * max);
  return { width: W, height: H, bitDepth, data };
}

/** A textured test image: smooth ramps plus fine stripes, values 0.2…0.8. */
const textured = (): GreyImage =>
  image((x, y) => 0.5 + 0.15 * Math.sin(x / 7) * Math.cos(y / 5) + 0.15 * ((x + y) % 2 ? 1 : -1));

/** Mean squared Laplacian: the image's high-frequency energy. */
function hfEnergy(img: GreyImage): number {
  const l = laplacian(toUnit(img), img.width, img.height);
  return l.reduce((s, v) => s + v * v, 0) / l.length;
}

const run = (img: GreyImage, spec: string, seed = 1): Promise<GreyImage> =>
  degradeImage(img, parseDegradeSpec(spec), { seed: [seed], jpeg: jpegRoundTrip });

describe('parseDegradeSpec', () => {
  it('reads combined specs in order and formats them back', () => {
    const steps = parseDegradeSpec(' noise:0.05, blur:1.5 ');
    expect(steps).toEqual([
      { kind: 'noise', level: 0.05 },
      { kind: 'blur', level: 1.5 },
    ]);
    expect(formatDegradeSpec(steps)).toBe('noise:0.05,blur:1.5');
    expect(parseDegradeSpec('none')).toEqual([]);
  });
  it.each([
    ['fog:1', /--degrade: "fog:1" is not kind:level/],
    ['noise', /--degrade: "noise" is not kind:level/],
    ['noise:abc', /--degrade: "noise:abc": noise takes .*received "abc"/],
    ['blur:-1', /"blur:-1"/],
    ['jpeg:50.5', /"jpeg:50.5": jpeg takes quality, integer/],
    ['motion:0', /"motion:0"/],
    ['noise:0.1,,blur:1', /"" is not kind:level/],
  ])('rejects %s with E_USAGE naming the flag and token', (spec, msg) => {
    expect(() => parseDegradeSpec(spec)).toThrow(msg);
    try {
      parseDegradeSpec(spec);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('E_USAGE');
    }
  });
  it('names another flag when told', () => {
    expect(() => parseDegradeSpec('x:1', '--augment-degrade')).toThrow(/^--augment-degrade: /);
  });
});

describe('degradeImage', () => {
  it('is deterministic per seed and differs between seeds', async () => {
    const img = textured();
    const spec = 'noise:0.05,poisson:200,blur:1,jpeg:40';
    const a = await run(img, spec, 7);
    const b = await run(img, spec, 7);
    const c = await run(img, spec, 8);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(c.data.buffer))).toBe(false);
    expect(img.data).toEqual(textured().data); // input untouched
  });

  it.each([8, 16] as const)(
    'noise:σ is σ of the full range (%i-bit), measured back',
    async (bits) => {
      const flat = image(() => 0.5, bits);
      for (const sigma of [0.02, 0.05, 0.1]) {
        const { mean, std } = meanStd(toUnit(await run(flat, `noise:${sigma}`)));
        expect(std).toBeGreaterThan(sigma * 0.95);
        expect(std).toBeLessThan(sigma * 1.05);
        expect(mean).toBeCloseTo(0.5, 2);
      }
    },
  );

  it('poisson:scale has variance mean / scale', async () => {
    const flat = image(() => 0.4, 16);
    const { mean, std } = meanStd(toUnit(await run(flat, 'poisson:100')));
    expect(mean).toBeCloseTo(0.4, 2);
    expect(std).toBeGreaterThan(Math.sqrt(0.4 / 100) * 0.93);
    expect(std).toBeLessThan(Math.sqrt(0.4 / 100) * 1.07);
  });

  it('blur lowers high-frequency energy, more for a larger σ', async () => {
    const img = textured();
    const e0 = hfEnergy(img);
    const e1 = hfEnergy(await run(img, 'blur:1'));
    const e3 = hfEnergy(await run(img, 'blur:3'));
    expect(e1).toBeLessThan(e0 * 0.2);
    expect(e3).toBeLessThan(e1);
    expect(meanStd(toUnit(await run(img, 'blur:3'))).mean).toBeCloseTo(
      meanStd(toUnit(img)).mean,
      2,
    );
  });

  it('motion smears along x only', async () => {
    const vertical = image((x) => (x % 8 < 4 ? 0.2 : 0.8)); // stripes across x
    const horizontal = image((_, y) => (y % 8 < 4 ? 0.2 : 0.8)); // stripes across y
    expect(hfEnergy(await run(vertical, 'motion:8'))).toBeLessThan(hfEnergy(vertical) * 0.1);
    expect(hfEnergy(await run(horizontal, 'motion:8'))).toBeCloseTo(hfEnergy(horizontal), 6);
  });

  it('contrast:f scales the standard deviation around the mean', async () => {
    const img = textured();
    const before = meanStd(toUnit(img));
    for (const f of [0.7, 0.5, 0.3]) {
      const after = meanStd(toUnit(await run(img, `contrast:${f}`)));
      expect(after.mean).toBeCloseTo(before.mean, 2);
      expect(after.std / before.std).toBeCloseTo(f, 1);
      expect(Math.abs(after.std / before.std - f)).toBeLessThan(0.01);
    }
  });

  it('gamma is monotone and > 1 darkens, < 1 brightens', async () => {
    const ramp = image((x) => x / (W - 1));
    for (const g of [0.6, 1.6]) {
      const out = await run(ramp, `gamma:${g}`);
      for (let x = 1; x < W; x++) expect(out.data[x]!).toBeGreaterThanOrEqual(out.data[x - 1]!);
      const mid = out.data[W >> 1]!;
      if (g > 1) expect(mid).toBeLessThan(ramp.data[W >> 1]!);
      else expect(mid).toBeGreaterThan(ramp.data[W >> 1]!);
    }
  });

  it('downscale loses fine detail but keeps smooth content and the size', async () => {
    const fine = image((x, y) => ((x + y) % 2 ? 0.8 : 0.2));
    const smooth = image((x, y) => 0.3 + 0.4 * (x / W) * (y / H));
    const f2 = await run(fine, 'downscale:2');
    expect([f2.width, f2.height, f2.bitDepth]).toEqual([W, H, 8]);
    expect(meanStd(toUnit(f2)).std).toBeLessThan(0.02); // the checkerboard is gone
    const s4 = toUnit(await run(smooth, 'downscale:4'));
    const s0 = toUnit(smooth);
    let worst = 0;
    for (let i = 0; i < s0.length; i++) worst = Math.max(worst, Math.abs(s4[i]! - s0[i]!));
    expect(worst).toBeLessThan(0.03);
    expect(hfEnergy(await run(textured(), 'downscale:3'))).toBeLessThan(hfEnergy(textured()) * 0.2);
  });

  it('jpeg changes the bytes but keeps the mean; lower quality errs more', async () => {
    const img = textured();
    const q50 = await run(img, 'jpeg:50');
    const q15 = await run(img, 'jpeg:15');
    expect(Buffer.from(q50.data.buffer).equals(Buffer.from(img.data.buffer))).toBe(false);
    const m0 = meanStd(toUnit(img)).mean;
    expect(Math.abs(meanStd(toUnit(q50)).mean - m0)).toBeLessThan(0.01);
    const err = (a: GreyImage): number => {
      let s = 0;
      for (let i = 0; i < a.data.length; i++) s += (a.data[i]! - img.data[i]!) ** 2;
      return s / a.data.length;
    };
    expect(err(q15)).toBeGreaterThan(err(q50));
    const sixteen = await run(
      image(() => 0.5, 16),
      'jpeg:30',
    );
    expect(sixteen.bitDepth).toBe(16);
  });

  it('jpeg without an encoder is E_USAGE', async () => {
    await expect(degradeImage(textured(), parseDegradeSpec('jpeg:30'))).rejects.toThrow(
      /needs an encoder/,
    );
  });
});
