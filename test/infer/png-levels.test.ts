// PNG encodes at the level png-levels.ts gives each kind of picture: the X-ray pictures
// (overlay, the server's stored original) at zlib's fastest level, masks and probabilities
// smaller; read back from the zlib header in the first IDAT chunk, pixels unchanged.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { GreyImage } from '../../src/imaging/types.js';
import { maskPng, probabilityPng, renderOverlay } from '../../src/infer/index.js';
import { renderFindings } from '../../src/infer/findings-image.js';
import { analyseUpload } from '../../src/serve/analyse.js';
import { constantModel } from '../helpers/fixed-model.js';

/**
 * FLEVEL of the zlib stream (RFC 1950): 0 fastest (level 0–1), 1 fast (2–5), 2 default (6),
 * 3 maximum (7–9).
 */
function zlibLevelClass(png: Buffer): number {
  let at = 8;
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') return png[at + 9]! >> 6;
    at += 12 + len;
  }
  throw new Error('no IDAT chunk');
}

const W = 320;
const H = 160;
const image: GreyImage = {
  width: W,
  height: H,
  bitDepth: 8,
  data: Uint8Array.from({ length: W * H }, (_, i) => ((i % W) * 3 + Math.floor(i / W)) % 256),
};
const mask = Uint8Array.from({ length: W * H }, (_, i) => (i % W > 100 && i % W < 200 ? 1 : 0));

async function pixels(png: Buffer): Promise<Buffer> {
  return sharp(png).extractChannel(0).raw().toBuffer();
}

describe('PNG levels', () => {
  it('overlays are written at the fastest level, masks and probabilities smaller', async () => {
    const overlay = await renderOverlay(image, mask, null);
    expect(zlibLevelClass(overlay)).toBe(0);
    const m = await maskPng(mask, W, H, true);
    expect(zlibLevelClass(m)).toBe(1);
    expect([...(await pixels(m))].every((v, i) => v === (mask[i] ? 255 : 0))).toBe(true);
    const probs = Float32Array.from(mask, (v) => (v ? 0.8 : 0.1));
    const p = await probabilityPng(probs, 1, 0, W, H);
    expect(zlibLevelClass(p)).toBe(1);
    expect(await sharp(p).metadata()).toMatchObject({ channels: 1 });
  });

  it("the set's findings picture (the overlay with lesions drawn) is written at the fastest level", async () => {
    const overlay = await renderOverlay(image, mask, null);
    const png = await renderFindings(overlay, W, H, []);
    expect(zlibLevelClass(png)).toBe(0);
  });

  it('the server stores one grey channel, the original at the fastest level, same pixels', async () => {
    const model = constantModel(0.7);
    const upload = await sharp(Buffer.from(image.data), {
      raw: { width: W, height: H, channels: 1 },
    })
      .png()
      .toBuffer();
    const out = await analyseUpload(model, upload, 'x.png', { maxPixels: 1e7, threshold: 0.5 });
    const original = out.files['original.png'];
    expect(zlibLevelClass(original)).toBe(0);
    const back = await sharp(original).extractChannel(0).raw().toBuffer();
    expect(Buffer.compare(back, Buffer.from(image.data))).toBe(0);
    expect(zlibLevelClass(out.files['probability.png'])).toBe(1);
    // One grey channel each (libvips' default would write three equal ones).
    for (const file of ['original.png', 'probability.png'] as const)
      expect((await sharp(out.files[file]).metadata()).channels, file).toBe(1);
    expect(zlibLevelClass(out.files['mask.png'])).toBe(1);
  });
});
