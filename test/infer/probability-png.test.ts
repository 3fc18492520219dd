// `encodeProbabilityPng` is part of the package API (a client re-thresholds its own masks
// from it): one class's probabilities as 8-bit grey at the original size, pixel for pixel.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeProbabilityPng } from '../../src/infer/overlay.js';
import type { SegmentResult } from '../../src/infer/types.js';

/** The fields encodeProbabilityPng reads; the rest of a result plays no part. */
function result(width: number, height: number, probabilities: number[]): SegmentResult {
  const partial: Pick<SegmentResult, 'width' | 'height' | 'probabilities'> = {
    width,
    height,
    probabilities: Float32Array.from(probabilities),
  };
  return partial as SegmentResult;
}

async function greyPixels(png: Buffer): Promise<{ data: number[]; w: number; h: number }> {
  // The file itself is one-channel grey, as documented.
  expect((await sharp(png).metadata()).channels).toBe(1);
  // (sharp's raw output would be sRGB again unless asked for grey.)
  const { data, info } = await sharp(png)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: [...data], w: info.width, h: info.height };
}

describe('encodeProbabilityPng', () => {
  it('binary: p × 255 rounded, at the original width and height', async () => {
    const r = result(3, 2, [0, 0.5, 1, 0.25, 0.999, 0.002]);
    const { data, w, h } = await greyPixels(await encodeProbabilityPng(r));
    expect([w, h]).toEqual([3, 2]);
    expect(data).toEqual([0, 128, 255, 64, 255, 1]);
  });

  it('multi-class: picks one class out of the pixel-interleaved probabilities', async () => {
    // 2×1 pixels, 3 classes each
    const r = result(2, 1, [0.1, 0.15, 0.75, 0.6, 0.4, 0]);
    expect((await greyPixels(await encodeProbabilityPng(r, 0))).data).toEqual([26, 153]);
    expect((await greyPixels(await encodeProbabilityPng(r, 1))).data).toEqual([38, 102]);
    expect((await greyPixels(await encodeProbabilityPng(r, 2))).data).toEqual([191, 0]);
  });
});
