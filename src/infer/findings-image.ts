/**
 * `X.findings.png`: the set's lesions drawn over the numbered chart (or the overlay without
 * a numbering model) — each lesion outlined, ringed so that a 40-pixel caries stays
 * visible on a 3000-pixel X-ray, and labelled with its tooth and surface, in its type's
 * colour (the page's too: imaging/palette.ts). An SVG composited by sharp, as the overlay's
 * legend.
 */
import sharp from 'sharp';
import { findingTypeColour } from '../imaging/palette.js';
import type { SetFinding } from './model-set.js';
import { placeLabels } from './label-placement.js';
import { PICTURE_PNG_LEVEL } from './png-levels.js';

const SURFACE_LETTER = { mesial: 'M', distal: 'D', occlusal: 'O' } as const;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Draw `findings` over `basePng` (an RGB PNG of `width`×`height`); returns the PNG. */
export async function renderFindings(
  basePng: Buffer,
  width: number,
  height: number,
  findings: readonly SetFinding[],
): Promise<Buffer> {
  const types = [...new Set(findings.map((f) => f.type))];
  const stroke = Math.max(1.5, Math.min(width, height) / 400);
  const ring = Math.max(8, Math.round(Math.min(width, height) / 60));
  const font = Math.max(10, Math.round(Math.min(width / 70, height / 30)));
  const rings = findings.map((f) => {
    const [cx, cy] = f.centroid;
    const [, , bw, bh] = f.bbox;
    const r = Math.max(ring, Math.hypot(bw, bh) / 2 + stroke * 2);
    const text = `${f.tooth ?? '?'}${f.surface ? ` ${SURFACE_LETTER[f.surface]}` : ''}`;
    // DejaVu Sans Bold's digits and capitals are ≈ 0.7 em wide; the box errs large.
    return { cx, cy, r, text, width: text.length * font * 0.72, height: font * 1.2 };
  });
  const labels = placeLabels(rings, width, height);
  const shapes = findings.map((f, i) => {
    const colour = findingTypeColour(f.type);
    const { cx, cy, r, text } = rings[i]!;
    const at = labels[i]!;
    const points = f.polygon.map(([x, y]) => `${x},${y}`).join(' ');
    return (
      `<polygon points="${points}" fill="${colour}" fill-opacity="0.45" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<circle cx="${cx}" cy="${cy}" r="${r}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<text x="${at.textX}" y="${at.textY}" text-anchor="${at.anchor}" dominant-baseline="central" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="bold" fill="${colour}" stroke="#000" stroke-width="${font / 8}" paint-order="stroke">${escapeXml(text)}</text>`
    );
  });
  // Legend (bottom-left): a swatch and a count per type, so an empty result says so too.
  const lines = types.length > 0 ? types : ['no findings'];
  const pad = Math.round(font * 0.6);
  const row = Math.round(font * 1.45);
  const boxH = lines.length * row + 2 * pad;
  const boxW = Math.min(width, font * 14);
  const y0 = Math.max(0, height - boxH);
  const legend =
    `<rect x="0" y="${y0}" width="${boxW}" height="${boxH}" fill="rgba(0,0,0,0.65)"/>` +
    lines
      .map((t, i) => {
        const y = y0 + pad + i * row;
        const n = findings.filter((f) => f.type === t).length;
        const swatch =
          types.length > 0
            ? `<rect x="${pad}" y="${y + (row - font) / 2}" width="${font}" height="${font}" fill="${findingTypeColour(t)}"/>`
            : '';
        const text = types.length > 0 ? `${t}: ${n}` : t;
        return `${swatch}<text x="${pad + font * 1.4}" y="${y + row / 2}" dominant-baseline="central" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#fff">${escapeXml(text)}</text>`;
      })
      .join('');
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}${legend}</svg>`,
  );
  return sharp(basePng)
    .composite([{ input: svg, left: 0, top: 0 }])
    .removeAlpha()
    .png({ compressionLevel: PICTURE_PNG_LEVEL })
    .toBuffer();
}
