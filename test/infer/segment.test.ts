// The library API on a tiny random-weight model: results at the input's size for paths,
// Buffers and grey images, TTA, overlays, disposal of every tensor over 100 calls.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreyImage } from '../../src/data/index.js';
import { tf } from '../../src/engine/index.js';
import {
  encodeMaskPng,
  flipHorizontal,
  loadModel,
  probabilitiesToMask,
  segment,
  type LoadedModel,
} from '../../src/infer/index.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { SAMPLES } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from './helpers.js';

const dir = tempDir();
const multiDir = path.join(dir, 'multi');
let model: LoadedModel;

beforeAll(async () => {
  await writeTinyModel(path.join(dir, 'binary'));
  await writeTinyModel(multiDir, { classes: 5 });
  await writeTinyModel(path.join(dir, 'fdi'), {
    classes: 33,
    classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
  });
  model = await loadModel(path.join(dir, 'binary'));
});
afterAll(() => {
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function greyImage(width: number, height: number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = (x * 7 + y * 3) % 256;
  return { width, height, data, bitDepth: 8 };
}

describe('segment', () => {
  it('returns mask and probabilities at the original size of a non-square image', async () => {
    const r = await segment(model, greyImage(300, 130));
    expect([r.width, r.height]).toEqual([300, 130]);
    expect(r.mask).toHaveLength(300 * 130);
    expect(r.probabilities).toHaveLength(300 * 130);
    expect(r.classes).toEqual(['teeth']);
    for (const v of r.mask) expect(v === 0 || v === 1).toBe(true);
    for (const p of r.probabilities.subarray(0, 1000)) expect(p >= 0 && p <= 1).toBe(true);
    expect(Object.keys(r.timings).sort()).toEqual(
      ['decode', 'findings', 'forward', 'postprocess', 'preprocess', 'quality', 'restore'].sort(),
    );
    // threshold 0 marks everything, 1.01 is refused.
    const all = await segment(model, greyImage(300, 130), { threshold: 0 });
    expect(all.mask.every((v) => v === 1)).toBe(true);
    await expect(segment(model, greyImage(10, 10), { threshold: 1.5 })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });

  it('accepts a path and a Buffer alike, and names bad input', async () => {
    const png = await sharp(Buffer.from(greyImage(80, 40).data), {
      raw: { width: 80, height: 40, channels: 1 },
    })
      .png()
      .toBuffer();
    const file = path.join(dir, 'x.png');
    await sharp(png).toFile(file);
    const a = await segment(model, file);
    const b = await segment(model, readFileSync(file));
    expect([a.width, a.height]).toEqual([80, 40]);
    expect(Buffer.from(a.probabilities.buffer).equals(Buffer.from(b.probabilities.buffer))).toBe(
      true,
    );
    await expect(segment(model, path.join(dir, 'missing.png'))).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
    await expect(segment(model, Buffer.from('nope'), { name: 'upload.png' })).rejects.toThrow(
      /upload\.png/,
    );
  });

  it('reads 16-bit PNGs at their depth and draws their overlay', async () => {
    const w = 120;
    const h = 60;
    const px = new Uint16Array(w * h).map((_, i) => (i * 37) % 65536);
    const file = path.join(dir, 'sixteen.png');
    await sharp(px, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(file);
    const r = await segment(model, file, { threshold: 0.3 });
    expect(r.bitDepth).toBe(16);
    expect([r.width, r.height]).toEqual([w, h]);
    const overlay = await sharp(await r.overlay({ mode: 'outline' })).metadata();
    expect([overlay.width, overlay.height]).toEqual([w, h]);
  });

  it('TTA averages the prediction with the mirrored one', async () => {
    const img = greyImage(64, 64);
    const plain = await segment(model, img);
    const tta = await segment(model, img, { tta: true });
    const mirrored: GreyImage = {
      ...img,
      data: Uint8Array.from(flipHorizontal(Float32Array.from(img.data), 1, 64, 64, 1)),
    };
    const m = await segment(model, mirrored);
    const back = flipHorizontal(m.probabilities, 1, 64, 64, 1);
    for (let i = 0; i < 64 * 64; i += 97) {
      expect(tta.probabilities[i]).toBeCloseTo((plain.probabilities[i]! + back[i]!) / 2, 5);
    }
    expect(tta.tta).toBe(true);
  });

  it('multi-class: arg-max class indices, k probabilities per pixel, legend overlay', async () => {
    const multi = await loadModel(multiDir);
    try {
      const r = await segment(multi, greyImage(90, 50), { findings: true, minAreaPx: 1 });
      expect(r.probabilities).toHaveLength(90 * 50 * 5);
      expect(r.mask).toEqual(probabilitiesToMask(r.probabilities, 5, 0.5));
      expect(Math.max(...r.mask)).toBeLessThan(5);
      for (const f of r.findings) expect(f.class).toBe(`tooth ${f.classIndex}`);
      const png = await encodeMaskPng(r);
      expect((await sharp(png).metadata()).channels).toBe(1);
      const raw = await sharp(png).extractChannel(0).raw().toBuffer();
      expect(Buffer.from(raw).equals(Buffer.from(r.mask))).toBe(true);
    } finally {
      multi.dispose();
    }
  });

  it('numbering model: anatomy at the network size, only the class map restored', async () => {
    const fdi = await loadModel(path.join(dir, 'fdi'));
    try {
      const img = greyImage(90, 50);
      const none = await segment(fdi, img, { findings: false, numbering: 'none' });
      const r = await segment(fdi, img, { findings: false });
      for (const x of [none, r]) {
        expect(x.numbering!.mask).toHaveLength(64 * 64);
        expect(x.mask).toHaveLength(90 * 50);
        const present = new Set(x.numbering!.teeth.map((t) => t.classIndex));
        for (const v of new Set(x.mask)) if (v !== 0) expect(present.has(v)).toBe(true);
        for (const t of x.numbering!.teeth) expect(t.areaPx).toBeGreaterThanOrEqual(2);
        expect(x.numbering!.missing.length + x.numbering!.teeth.length).toBe(32);
      }
      expect(none.numbering!.midline).toBeNull();
      expect(r.numbering!.midline).not.toBeNull();
      // the probabilities are restored to the image size when read
      expect(r.probabilities).toHaveLength(90 * 50 * 33);
    } finally {
      fdi.dispose();
    }
  });

  it.skipIf(!existsSync(SAMPLES))(
    'full-size sample: mask PNG (0/255) and overlay PNG at the input size',
    async () => {
      const file = path.join(SAMPLES, 'images', 'abdi-20.png');
      const meta = await sharp(file).metadata();
      const r = await segment(model, file);
      expect([r.width, r.height]).toEqual([meta.width, meta.height]);
      const png = await encodeMaskPng(r);
      const mask = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      const pngMeta = await sharp(png).metadata();
      expect([pngMeta.width, pngMeta.height, pngMeta.channels]).toEqual([
        meta.width,
        meta.height,
        1,
      ]);
      expect(new Set(mask.data).size).toBeLessThanOrEqual(2);
      for (const v of new Set(mask.data)) expect([0, 255]).toContain(v);
      const overlay = await sharp(await r.overlay({ opacity: 0.5 })).metadata();
      expect([overlay.width, overlay.height, overlay.channels]).toEqual([
        meta.width,
        meta.height,
        3,
      ]);
    },
  );

  it('disposes every tensor it made (100 calls)', async () => {
    const img = greyImage(96, 48);
    await segment(model, img);
    const before = tf.memory().numTensors;
    // The input check allocates no tensors; off here so that 100 calls stay quick.
    for (let i = 0; i < 100; i++) await segment(model, img, { tta: i % 2 === 0, quality: false });
    expect(tf.memory().numTensors).toBe(before);
  });
});
