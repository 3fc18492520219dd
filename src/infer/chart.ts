/**
 * `X.chart.png`: the X-ray with each numbered tooth filled and outlined in its tooth type's
 * colour and its FDI number written at its centre, plus a legend of the types and the
 * missing numbers — the picture a dentist checks the numbering on. Drawn on an off-screen
 * @napi-rs/canvas (text needs a font rasteriser), encoded by sharp.
 */
import { createCanvas, ImageData } from '@napi-rs/canvas';
import sharp from 'sharp';
import { PICTURE_PNG_LEVEL } from './png-levels.js';
import type { GreyImage } from '../data/index.js';
import {
  TOOTH_TYPES,
  TOOTH_TYPE_COLOURS,
  toothType,
  type Fdi,
  type NumberingScheme,
  type ToothReport,
} from '../numbering/index.js';
import { toGrey8 } from '../imaging/grey8.js';

/** Options of {@link renderChart}. */
export interface ChartOptions {
  /** Fill opacity 0…1 (default 0.35). */
  readonly opacity?: number;
}

/**
 * Draw the chart of `mask` (class indices of a numbering model at the image's size) over
 * `image`; `teeth` give the numbers and their centres, `missing` the legend's last line.
 */
export async function renderChart(
  image: GreyImage,
  mask: Uint8Array,
  scheme: NumberingScheme,
  teeth: readonly (Pick<ToothReport, 'fdi'> & { readonly centroid: readonly [number, number] })[],
  missing: readonly Fdi[],
  opts: ChartOptions = {},
): Promise<Buffer> {
  const { width, height } = image;
  const alpha = Math.round(Math.min(1, Math.max(0, opts.opacity ?? 0.35)) * 255);
  // Colour of each class index by its tooth type.
  const colour = new Uint8Array(256 * 3);
  scheme.fdiOfClass.forEach((fdi, c) => {
    if (fdi === undefined) return;
    colour.set(TOOTH_TYPE_COLOURS[toothType(fdi)], c * 3);
  });
  const grey = toGrey8(image);
  const rgba = new Uint8ClampedArray(width * height * 4);
  // Outlines as thick as the overlay's (1 px at 512², 2 px on a 2900×1300 panoramic),
  // inside the tooth so they never cover its neighbour.
  const t = Math.max(1, Math.round(Math.min(width, height) / 500));
  const differs = (x: number, y: number, c: number): boolean =>
    x < 0 || y < 0 || x >= width || y >= height || mask[y * width + x] !== c;
  for (let i = 0, o = 0; i < mask.length; i++, o += 4) {
    const v = grey[i]!;
    const c = mask[i]!;
    let edge = false;
    if (c !== 0) {
      const x = i % width;
      const y = (i - x) / width;
      for (let d = 1; d <= t && !edge; d++) {
        edge =
          differs(x - d, y, c) ||
          differs(x + d, y, c) ||
          differs(x, y - d, c) ||
          differs(x, y + d, c);
      }
    }
    if (c === 0) {
      rgba[o] = v;
      rgba[o + 1] = v;
      rgba[o + 2] = v;
    } else if (edge) {
      rgba[o] = colour[c * 3]!;
      rgba[o + 1] = colour[c * 3 + 1]!;
      rgba[o + 2] = colour[c * 3 + 2]!;
    } else {
      const keep = (255 - alpha) * v + 127;
      rgba[o] = (keep + alpha * colour[c * 3]!) / 255;
      rgba[o + 1] = (keep + alpha * colour[c * 3 + 1]!) / 255;
      rgba[o + 2] = (keep + alpha * colour[c * 3 + 2]!) / 255;
    }
    rgba[o + 3] = 255;
  }
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.putImageData(new ImageData(rgba, width, height), 0, 0);

  // Numbers: sized to a tooth's width on a panoramic (≈ 1/32 of the image's width).
  const font = Math.max(9, Math.round(Math.min(width / 55, height / 22)));
  ctx.font = `bold ${font}px "DejaVu Sans", sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  ctx.lineWidth = Math.max(2, font / 5);
  for (const t of teeth) {
    const [x, y] = t.centroid;
    ctx.strokeStyle = 'rgba(0,0,0,0.85)';
    ctx.strokeText(String(t.fdi), x, y);
    ctx.fillStyle = '#fff';
    ctx.fillText(String(t.fdi), x, y);
  }

  // Legend (top-left): the types' colours and the missing numbers.
  const lf = Math.max(9, Math.round(font * 0.8));
  const row = Math.round(lf * 1.45);
  const pad = Math.round(lf * 0.6);
  const lines = TOOTH_TYPES.length + 1;
  const missingText = `missing: ${missing.length === 0 ? 'none' : missing.join(' ')}`;
  ctx.font = `${lf}px "DejaVu Sans", sans-serif`;
  ctx.textAlign = 'left';
  const boxW = Math.min(
    width,
    Math.max(lf * 9, ctx.measureText(missingText).width + 2 * pad, lf * 10),
  );
  ctx.fillStyle = 'rgba(0,0,0,0.65)';
  ctx.fillRect(0, 0, boxW, lines * row + 2 * pad);
  TOOTH_TYPES.forEach((type, i) => {
    const y = pad + i * row;
    const [r, g, b] = TOOTH_TYPE_COLOURS[type];
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(pad, y + (row - lf) / 2, lf, lf);
    ctx.fillStyle = '#fff';
    ctx.fillText(type, pad + lf * 1.4, y + row / 2);
  });
  ctx.fillStyle = '#fff';
  ctx.fillText(missingText, pad, pad + TOOTH_TYPES.length * row + row / 2);
  // The canvas' own PNG encoder compresses hard (3 s on a 2900×1300 X-ray); sharp at the
  // overlay's level takes a tenth of that or less.
  const px = ctx.getImageData(0, 0, width, height).data;
  return sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), {
    raw: { width, height, channels: 4 },
  })
    .removeAlpha()
    .png({ compressionLevel: PICTURE_PNG_LEVEL })
    .toBuffer();
}
