/**
 * The one rule for showing an X-ray as 8-bit grey (overlays, charts, the server's stored
 * original, error maps): so `dentseg predict` and the server draw the same picture.
 * Pure. 8-bit images are shown as they are. A 16-bit image is stretched to its display
 * range: the DICOM window when the decoder applied one (`displayRange`), else the image's
 * own minimum–maximum — dividing by 257 would leave 12-bit data (0…4095) nearly black.
 */
import type { GreyImage } from './types.js';

/** The samples shown black and white: `displayRange`, else the image's own min–max. */
export function displayRange(image: GreyImage): readonly [number, number] {
  if (image.displayRange) return image.displayRange;
  if (image.bitDepth === 8) return [0, 255];
  const src = image.data;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/**
 * The image as 8-bit grey for display, `width*height` values 0…255 (the image's own array
 * when it is 8-bit without a display range): its display range stretched linearly to
 * 0…255, samples outside it clamped; a flat image is black.
 */
export function toGrey8(image: GreyImage): Uint8Array {
  if (image.bitDepth === 8 && !image.displayRange) return image.data as Uint8Array;
  const [lo, hi] = displayRange(image);
  const src = image.data;
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = (src[i]! - lo) * scale;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}
