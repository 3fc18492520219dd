/**
 * `preprocess.tiling.width`: a tiled model sees every X-ray at the width it was trained at.
 * A "network" that answers its input's grey value (unit normalisation) makes the scale
 * visible without weights: a full-size image (twice the reference width) is cut into the
 * tiles of the half-size one, its mask is the half-size mask upscaled (up to resize
 * rounding), and the model's `minAreaPx` keeps meaning pixels at the model's scale.
 */
import { describe, expect, it } from 'vitest';
import {
  resizeMaskNearest,
  tileGrid,
  validateTilingConfig,
  type TilingConfig,
} from '../../src/data/index.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { findingsMinAreaPx, runPipeline } from '../../src/infer/index.js';
import type { ModelMeta } from '../../src/model/meta.js';
import { fixedMeta, identityEngine } from '../helpers/fixed-model.js';

const W = 192; // the reference (training) width
const H = 96;
const TILE = 64;

/** A tiled binary model of 64² tiles, with `width` when given and a 100 px speck rule. */
function tiledMeta(width?: number): ModelMeta {
  return fixedMeta({
    task: 'binary',
    classes: ['caries'],
    size: [TILE, TILE],
    preprocess: { tiling: { tile: [TILE, TILE], ...(width !== undefined ? { width } : {}) } },
    postprocess: { minAreaPx: 100, lesion: 'caries' },
  });
}

/** The half-size X-ray: dark, with a 12×12 (144 px) and an 8×8 (64 px) bright "lesion". */
function halfSize(): GreyImage {
  const data = new Uint8Array(W * H).fill(40);
  const square = (x0: number, y0: number, side: number): void => {
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) data[y * W + x] = 230;
  };
  square(30, 40, 12);
  square(130, 20, 8);
  return { width: W, height: H, bitDepth: 8, data };
}

/** The same X-ray at full size: every pixel doubled along both axes. */
function fullSize(img: GreyImage): GreyImage {
  const [w, h] = [img.width * 2, img.height * 2];
  const data = resizeMaskNearest(Uint8Array.from(img.data), img.width, img.height, w, h);
  return { width: w, height: h, bitDepth: 8, data };
}

const agreement = (a: Uint8Array, b: Uint8Array): number => {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
};

describe('tiling.width', () => {
  it('is validated naming the key', () => {
    expect(validateTilingConfig({ tile: [64, 64], width: 1472 }).width).toBe(1472);
    expect('width' in validateTilingConfig({ tile: [64, 64] })).toBe(false);
    for (const width of [16, 1472.5, '1472', 0, 20000])
      expect(() => validateTilingConfig({ tile: [64, 64], width })).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: expect.stringContaining('tiling.width'),
        }),
      );
  });

  it('a full-size X-ray is cut into the tiles of the reference width and masked like it', async () => {
    const small = halfSize();
    const big = fullSize(small);
    const meta = tiledMeta(W);
    const tiling = meta.preprocess.tiling as TilingConfig;

    const eSmall = identityEngine();
    const rSmall = await runPipeline(eSmall, meta, small);
    const eBig = identityEngine();
    const rBig = await runPipeline(eBig, meta, big);

    // the network saw the full-size image at the reference width: the same tiles
    expect(eBig.runs).toBe(tileGrid(H, W, tiling).length);
    expect(eBig.runs).toBe(eSmall.runs);
    expect(eBig.runs).toBeLessThan(tileGrid(2 * H, 2 * W, tiling).length);
    // results at the input's own size; the mask is the half-size one upscaled
    expect([rBig.width, rBig.height]).toEqual([2 * W, 2 * H]);
    expect(rBig.mask).toHaveLength(4 * W * H);
    expect(rBig.probabilities).toHaveLength(4 * W * H);
    const up = resizeMaskNearest(rSmall.mask, W, H, 2 * W, 2 * H);
    expect(agreement(rBig.mask, up)).toBeGreaterThan(0.995);

    // minAreaPx (100) counts pixels at the model's scale: the 144 px lesion stays and the
    // 64 px one goes on both images, although they cover 576 and 256 px of the big one
    expect(findingsMinAreaPx(meta, W, H)).toBe(100);
    expect(findingsMinAreaPx(meta, 2 * W, 2 * H)).toBe(400);
    expect(findingsMinAreaPx(meta, 2 * W, 2 * H, 50)).toBe(50); // the caller's, image px
    expect(rSmall.findings).toHaveLength(1);
    expect(rBig.findings).toHaveLength(1);
    expect(rBig.findings[0]!.areaPx).toBeGreaterThan(500);
  });

  it('without the key, the image keeps its own resolution (and the rule its pixels)', async () => {
    const big = fullSize(halfSize());
    const meta = tiledMeta();
    const tiling = meta.preprocess.tiling as TilingConfig;
    const e = identityEngine();
    const r = await runPipeline(e, meta, big);
    expect(e.runs).toBe(tileGrid(2 * H, 2 * W, tiling).length);
    expect(findingsMinAreaPx(meta, 2 * W, 2 * H)).toBe(100);
    expect(r.findings).toHaveLength(2);
    // a key equal to the image's width changes nothing, bit for bit
    const same = await runPipeline(identityEngine(), tiledMeta(2 * W), big);
    expect(same.probabilities).toEqual(r.probabilities);
    expect(same.mask).toEqual(r.mask);
  });
});
