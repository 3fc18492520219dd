/**
 * Output images: the mask PNG (0/255 or class index), per-class probability PNGs, and the
 * overlay a dentist reads at a glance: the X-ray in grey (the display rule of
 * src/imaging/grey8.ts, as the server's stored original), a translucent colour fill and a
 * solid outline per class, and a legend for multi-class models (an SVG composited by sharp).
 */
import sharp from 'sharp';
import { toGrey8 } from '../imaging/grey8.js';
import type { GreyImage } from '../imaging/types.js';
import { classColour } from '../imaging/palette.js';
import { MASK_PNG_LEVEL, PICTURE_PNG_LEVEL, PROBABILITY_PNG_LEVEL } from './png-levels.js';
import type { OverlayOptions, SegmentResult } from './types.js';

/** `classColour` for every mask value 0…255, flattened `[r, g, b, r, g, b, …]`. */
const PALETTE = new Uint8Array(256 * 3);
// One call per class (not per channel): this runs when predict loads.
for (let c = 0; c < 256; c++) PALETTE.set(classColour(c), c * 3);

/** The mask as a 1-channel PNG: binary 0/255, multi-class the class index. */
export async function maskPng(
  mask: Uint8Array,
  width: number,
  height: number,
  binary: boolean,
): Promise<Buffer> {
  let px = mask;
  if (binary) {
    // A plain loop: TypedArray#map with a callback costs ~20 ms on a 3100×1300 mask.
    px = new Uint8Array(mask.length);
    for (let i = 0; i < mask.length; i++) px[i] = mask[i] ? 255 : 0;
  }
  return sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: MASK_PNG_LEVEL })
    .toBuffer();
}

/** Channel `classIndex` of `k`-interleaved probabilities as an 8-bit grey PNG (0…255). */
export async function probabilityPng(
  probabilities: Float32Array,
  k: number,
  classIndex: number,
  width: number,
  height: number,
): Promise<Buffer> {
  const px = new Uint8Array(width * height);
  for (let i = 0; i < px.length; i++) px[i] = Math.round(probabilities[i * k + classIndex]! * 255);
  // 'b-w' keeps the one channel: without it libvips writes an RGB PNG of three equal ones.
  return sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: PROBABILITY_PNG_LEVEL })
    .toBuffer();
}

/**
 * Draw `mask` over `image`. Outline width grows with the image (1 px at 512², 3 px on a
 * 2900×1300 panoramic) so it stays visible when the image is shown whole.
 */
export async function renderOverlay(
  image: GreyImage,
  mask: Uint8Array,
  classNames: readonly string[] | null,
  opts: OverlayOptions = {},
): Promise<Buffer> {
  const { width, height } = image;
  const opacity = Math.min(1, Math.max(0, opts.opacity ?? 0.4));
  const mode = opts.mode ?? 'both';
  // Blend in one pass over the pixels (a full-size RGBA layer through sharp's composite
  // cost 2–3× more); sharp composites only the legend and encodes the PNG.
  const grey = toGrey8(image);
  const rgb = new Uint8Array(width * height * 3);
  const alpha = mode === 'outline' ? 0 : Math.round(opacity * 255);
  for (let i = 0, o = 0; i < mask.length; i++, o += 3) {
    const v = grey[i]!;
    const c = mask[i]!;
    if (c === 0 || alpha === 0) {
      rgb[o] = v;
      rgb[o + 1] = v;
      rgb[o + 2] = v;
    } else {
      const keep = (255 - alpha) * v + 127;
      rgb[o] = (keep + alpha * PALETTE[c * 3]!) / 255;
      rgb[o + 1] = (keep + alpha * PALETTE[c * 3 + 1]!) / 255;
      rgb[o + 2] = (keep + alpha * PALETTE[c * 3 + 2]!) / 255;
    }
  }
  if (mode !== 'fill') drawOutline(mask, width, height, rgb);
  let img = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (classNames) {
    const present = [...new Set(mask)].filter((c) => c > 0).sort((a, b) => a - b);
    if (present.length > 0) {
      const legend = legendSvg(present, classNames, width, height);
      // composite() adds an alpha channel (opaque everywhere): drop it for a plain RGB PNG.
      const { data, info } = await img
        .composite([{ input: legend, top: 0, left: 0 }])
        .raw()
        .toBuffer({ resolveWithObject: true });
      img = sharp(data, { raw: { width, height, channels: info.channels } }).removeAlpha();
    }
  }
  return img.png({ compressionLevel: PICTURE_PNG_LEVEL }).toBuffer();
}

/** Solid outline on the boundary pixels of each region, drawn into `rgb`. */
function drawOutline(mask: Uint8Array, width: number, height: number, rgb: Uint8Array): void {
  const r = Math.max(0, Math.round(Math.min(width, height) / 500) - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const c = mask[i]!;
      if (c === 0) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        mask[i - 1] !== c ||
        mask[i + 1] !== c ||
        mask[i - width] !== c ||
        mask[i + width] !== c;
      if (!edge) continue;
      const cr = PALETTE[c * 3]!;
      const cg = PALETTE[c * 3 + 1]!;
      const cb = PALETTE[c * 3 + 2]!;
      // Thicken inwards only, so the outline never hides the tissue just outside a region.
      for (let yy = Math.max(0, y - r); yy <= Math.min(height - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(width - 1, x + r); xx++) {
          const j = yy * width + xx;
          if (mask[j] !== c) continue;
          const o = j * 3;
          rgb[o] = cr;
          rgb[o + 1] = cg;
          rgb[o + 2] = cb;
        }
      }
    }
  }
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A legend box (top-left) listing the classes present, in columns when there are many. */
function legendSvg(
  present: number[],
  classNames: readonly string[],
  width: number,
  height: number,
): Buffer {
  const font = Math.max(11, Math.round(Math.min(width, height) / 45));
  const row = Math.round(font * 1.4);
  const pad = Math.round(font * 0.6);
  const perCol = Math.max(1, Math.floor((height - 2 * pad) / row));
  const cols = Math.ceil(present.length / perCol);
  const longest = Math.max(...present.map((c) => (classNames[c] ?? `class ${c}`).length));
  const colW = Math.round(font * (1.6 + 0.62 * longest)) + pad;
  const boxW = Math.min(width, cols * colW + pad);
  const boxH = Math.min(height, Math.min(present.length, perCol) * row + 2 * pad);
  const items = present
    .map((c, i) => {
      const x = pad + Math.floor(i / perCol) * colW;
      const y = pad + (i % perCol) * row;
      const [r, g, b] = classColour(c);
      const label = escapeXml(classNames[c] ?? `class ${c}`);
      return (
        `<rect x="${x}" y="${y + (row - font) / 2}" width="${font}" height="${font}" fill="rgb(${r},${g},${b})"/>` +
        `<text x="${x + font * 1.4}" y="${y + row / 2}" dominant-baseline="central" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#fff">${label}</text>`
      );
    })
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${boxW}" height="${boxH}">` +
      `<rect width="${boxW}" height="${boxH}" rx="${pad / 2}" fill="rgba(0,0,0,0.65)"/>${items}</svg>`,
  );
}

/** The result's mask as a PNG at the original size: binary 0/255, multi-class class index. */
export function encodeMaskPng(result: SegmentResult): Promise<Buffer> {
  return maskPng(result.mask, result.width, result.height, result.task === 'binary');
}

/**
 * One class's probabilities as an 8-bit grey PNG (0…255) at the original size, e.g. for a
 * client that re-thresholds. `classIndex` 0 for binary models.
 */
export function encodeProbabilityPng(result: SegmentResult, classIndex = 0): Promise<Buffer> {
  const k = result.probabilities.length / (result.width * result.height);
  return probabilityPng(result.probabilities, k, classIndex, result.width, result.height);
}
