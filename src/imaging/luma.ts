/**
 * Colour pixels to grey, one rule for every decoder (sharp's raw output in Node, the
 * browser's canvas in private mode): luma weights, and RGB-stored grey kept exact. Pure.
 */

/**
 * Grey samples from interleaved raw pixels with `channels` per pixel (1 grey, 2 grey +
 * alpha, 3 RGB, 4 RGBA; alpha is ignored). Returns `raw` itself when it is already grey.
 */
export function pixelsToGrey<T extends Uint8Array | Uint8ClampedArray | Uint16Array>(
  raw: T,
  pixels: number,
  channels: number,
): T | Uint8Array | Uint16Array {
  if (channels === 1) return raw;
  const out = raw instanceof Uint16Array ? new Uint16Array(pixels) : new Uint8Array(pixels);
  if (channels === 2) {
    for (let i = 0; i < pixels; i++) out[i] = raw[i * 2]!;
    return out;
  }
  for (let i = 0, p = 0; i < pixels; i++, p += channels) {
    const r = raw[p]!;
    const g = raw[p + 1]!;
    const b = raw[p + 2]!;
    out[i] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  return out;
}
