/**
 * Grey images ↔ float working copies: every filter here works on values scaled to 0…1 of
 * the image's bit depth, and writes back at the same depth (rounded, clamped). Pure.
 */
import { maxValue, type GreyImage } from './types.js';

export type { GreyImage } from './types.js';

/** The image's samples as floats in 0…1 (value / 255 or / 65535). */
export function toUnit(image: GreyImage): Float64Array {
  const max = maxValue(image.bitDepth);
  const out = new Float64Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i]! / max;
  return out;
}

/** Floats in 0…1 back to an image of `like`'s size and bit depth (clamped, rounded). */
export function fromUnit(values: Float64Array, like: GreyImage): GreyImage {
  const max = maxValue(like.bitDepth);
  const data =
    like.bitDepth === 16 ? new Uint16Array(values.length) : new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    data[i] = v <= 0 ? 0 : v >= 1 ? max : Math.round(v * max);
  }
  return { width: like.width, height: like.height, bitDepth: like.bitDepth, data };
}
