/**
 * Made-up "wrong uploads" for the panoramic check: what a clinic might send instead of a
 * panoramic X-ray (a periapical or bitewing film, an inverted or blank export, noise, a
 * gradient, a scanned letter, a photo, a chest film). Seeded and pure, so the detector's
 * training set and its held-out test set reproduce from a seed; crops and inversions are
 * cut from a real panoramic the caller supplies, the rest is drawn from nothing.
 */
import { DentsegError } from '../errors.js';
import { Rng } from '../rng.js';
import { fromUnit, toUnit, type GreyImage } from './image.js';
import { downsampleArea, gaussian, resizeBilinear } from './kernels.js';

/** The kinds of negatives, in the order `makeNegative` cycles through them. */
export const NEGATIVE_KINDS = [
  'periapical',
  'bitewing',
  'inverted',
  'blank',
  'noise',
  'gradient',
  'text',
  'photo',
  'chest',
] as const;
export type NegativeKind = (typeof NEGATIVE_KINDS)[number];

/** Kinds cut from a real panoramic (the caller passes one); the others need none. */
export const NEGATIVE_KINDS_FROM_PANORAMIC: readonly NegativeKind[] = [
  'periapical',
  'bitewing',
  'inverted',
];

/** Uniform in [a, b). */
function uniform(rng: Rng, a: number, b: number): number {
  return a + (b - a) * rng.next();
}

/** Integer in [a, b]. */
function int(rng: Rng, a: number, b: number): number {
  return Math.floor(uniform(rng, a, b + 1));
}

interface Unit {
  v: Float64Array;
  width: number;
  height: number;
}

/** A crop of `src` (unit values), resized to `w` × `h`. */
function cropResize(
  src: Unit,
  x0: number,
  y0: number,
  cw: number,
  ch: number,
  w: number,
  h: number,
): Unit {
  const crop = new Float64Array(cw * ch);
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++) crop[y * cw + x] = src.v[(y0 + y) * src.width + x0 + x]!;
  const resized =
    cw >= w && ch >= h ? downsampleArea(crop, cw, ch, w, h) : resizeBilinear(crop, cw, ch, w, h);
  return { v: resized, width: w, height: h };
}

/** A random output size: width 256…1024, aspect (w/h) in [lo, hi]. */
function size(rng: Rng, lo: number, hi: number): { width: number; height: number } {
  const width = int(rng, 256, 1024);
  const height = Math.max(64, Math.round(width / uniform(rng, lo, hi)));
  return { width, height };
}

/** Add Gaussian noise of σ (unit range) in place. */
function addNoise(u: Unit, rng: Rng, sigma: number): void {
  for (let i = 0; i < u.v.length; i++) u.v[i] = u.v[i]! + sigma * rng.normal();
}

/** Fill an axis-aligned ellipse (centre, radii in px, rotation in radians) with `value`. */
function fillEllipse(
  u: Unit,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  angle: number,
  value: number | ((x: number, y: number) => number),
): void {
  const r = Math.max(rx, ry);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(u.height - 1, cy + r); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(u.width - 1, cx + r); x++) {
      const dx = x - cx;
      const dy = y - cy;
      const a = (dx * c + dy * s) / rx;
      const b = (-dx * s + dy * c) / ry;
      if (a * a + b * b <= 1)
        u.v[y * u.width + x] = typeof value === 'number' ? value : value(x, y);
    }
  }
}

/** Fill a rectangle with `value`. */
function fillRect(u: Unit, x0: number, y0: number, w: number, h: number, value: number): void {
  for (let y = Math.max(0, Math.round(y0)); y < Math.min(u.height, Math.round(y0 + h)); y++)
    for (let x = Math.max(0, Math.round(x0)); x < Math.min(u.width, Math.round(x0 + w)); x++)
      u.v[y * u.width + x] = value;
}

function blank(width: number, height: number, value: number): Unit {
  return { v: new Float64Array(width * height).fill(value), width, height };
}

/** One tooth and its neighbours, portrait, as a periapical film shows them. */
function periapical(rng: Rng, pano: Unit): Unit {
  const cw = Math.max(16, Math.round(pano.width * uniform(rng, 0.07, 0.16)));
  const ch = Math.min(pano.height, Math.round(cw * uniform(rng, 1.2, 1.6)));
  const x0 = Math.round(uniform(rng, 0.15, 0.85) * pano.width - cw / 2);
  const upper = rng.next() < 0.5;
  const cy = (upper ? uniform(rng, 0.3, 0.48) : uniform(rng, 0.52, 0.7)) * pano.height;
  const y0 = Math.round(Math.min(pano.height - ch, Math.max(0, cy - ch / 2)));
  const w = int(rng, 300, 700);
  return cropResize(
    pano,
    Math.min(pano.width - cw, Math.max(0, x0)),
    y0,
    cw,
    ch,
    w,
    Math.round(w * (ch / cw)),
  );
}

/** The premolars and molars of one side, upper and lower, landscape, as a bitewing shows. */
function bitewing(rng: Rng, pano: Unit): Unit {
  const cw = Math.round(pano.width * uniform(rng, 0.2, 0.38));
  const ch = Math.min(pano.height, Math.round(cw * uniform(rng, 0.65, 0.85)));
  const left = rng.next() < 0.5;
  const cx = (left ? uniform(rng, 0.22, 0.36) : uniform(rng, 0.64, 0.78)) * pano.width;
  const cy = uniform(rng, 0.45, 0.58) * pano.height;
  const x0 = Math.round(Math.min(pano.width - cw, Math.max(0, cx - cw / 2)));
  const y0 = Math.round(Math.min(pano.height - ch, Math.max(0, cy - ch / 2)));
  const w = int(rng, 400, 900);
  return cropResize(pano, x0, y0, cw, ch, w, Math.round(w * (ch / cw)));
}

/** The whole panoramic with its grey levels reversed (a MONOCHROME1 export read wrongly). */
function inverted(rng: Rng, pano: Unit): Unit {
  // A few percent cropped off so that the same panoramic never gives the same pixels twice.
  const mx = Math.round(pano.width * uniform(rng, 0, 0.04));
  const my = Math.round(pano.height * uniform(rng, 0, 0.04));
  const cw = pano.width - 2 * mx;
  const ch = pano.height - 2 * my;
  const out = cropResize(pano, mx, my, cw, ch, cw, ch);
  for (let i = 0; i < out.v.length; i++) out.v[i] = 1 - out.v[i]!;
  return out;
}

function blankImage(rng: Rng): Unit {
  const { width, height } = size(rng, 0.6, 2.4);
  const u = blank(width, height, uniform(rng, 0, 1));
  if (rng.next() < 0.5) addNoise(u, rng, uniform(rng, 0, 0.004));
  return u;
}

function noiseImage(rng: Rng): Unit {
  const { width, height } = size(rng, 0.6, 2.4);
  const u = blank(width, height, uniform(rng, 0.2, 0.8));
  addNoise(u, rng, uniform(rng, 0.05, 0.3));
  // Half of them smoothed into blobs (film grain, a texture), not only white noise.
  if (rng.next() < 0.5) return { ...u, v: gaussian(u.v, width, height, uniform(rng, 1, 6)) };
  return u;
}

function gradientImage(rng: Rng): Unit {
  const { width, height } = size(rng, 0.6, 2.4);
  const u = blank(width, height, 0);
  const a = uniform(rng, 0, 1);
  const b = uniform(rng, 0, 1);
  const radial = rng.next() < 0.4;
  const angle = uniform(rng, 0, 2 * Math.PI);
  const [cx, cy] = [uniform(rng, 0, width), uniform(rng, 0, height)];
  const diag = Math.hypot(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = radial
        ? Math.min(1, Math.hypot(x - cx, y - cy) / (0.7 * diag))
        : 0.5 + ((x - width / 2) * Math.cos(angle) + (y - height / 2) * Math.sin(angle)) / diag;
      u.v[y * width + x] = a + (b - a) * t;
    }
  }
  if (rng.next() < 0.5) addNoise(u, rng, uniform(rng, 0, 0.01));
  return u;
}

/** Lines of blocky glyphs, dark on light (a letter) or light on dark (a screenshot). */
function textImage(rng: Rng): Unit {
  const { width, height } = size(rng, 0.6, 2.2);
  const dark = rng.next() < 0.3;
  const [bg, ink] = dark
    ? [uniform(rng, 0, 0.2), uniform(rng, 0.7, 1)]
    : [uniform(rng, 0.8, 1), uniform(rng, 0, 0.3)];
  const u = blank(width, height, bg);
  const em = uniform(rng, 10, 40);
  const stroke = Math.max(1, Math.round(em / 8));
  const margin = uniform(rng, 0.05, 0.15) * width;
  for (let y = margin; y + em < height - margin / 2; y += em * uniform(rng, 1.3, 1.8)) {
    let x = margin;
    const lineEnd = width - margin * uniform(rng, 1, 3);
    while (x + em * 0.6 < lineEnd) {
      if (rng.next() < 0.16) {
        x += em * 0.5; // a space between words
        continue;
      }
      const gw = em * uniform(rng, 0.4, 0.7);
      // A glyph: two to four strokes on the edges and middle of its box.
      const strokes = int(rng, 2, 4);
      for (let s = 0; s < strokes; s++) {
        const vertical = rng.next() < 0.5;
        if (vertical) fillRect(u, x + (gw - stroke) * int(rng, 0, 2) * 0.5, y, stroke, em, ink);
        else fillRect(u, x, y + (em - stroke) * int(rng, 0, 2) * 0.5, gw, stroke, ink);
      }
      x += gw + em * 0.15;
    }
  }
  return u;
}

/** A "photo": a lit background and coloured shapes, as grey (luma), lightly blurred. */
function photoImage(rng: Rng): Unit {
  const { width, height } = size(rng, 0.75, 1.8);
  const u = gradientImage(rng);
  const bg = cropResize(u, 0, 0, u.width, u.height, width, height);
  const shapes = int(rng, 4, 25);
  for (let s = 0; s < shapes; s++) {
    // Luma of a random colour: 0.299 R + 0.587 G + 0.114 B.
    const luma = 0.299 * rng.next() + 0.587 * rng.next() + 0.114 * rng.next();
    const cx = uniform(rng, 0, width);
    const cy = uniform(rng, 0, height);
    const r = uniform(rng, 0.03, 0.3) * Math.min(width, height);
    if (rng.next() < 0.5)
      fillEllipse(bg, cx, cy, r, r * uniform(rng, 0.4, 1), uniform(rng, 0, 3), luma);
    else fillRect(bg, cx - r, cy - r, 2 * r * uniform(rng, 0.5, 1.5), 2 * r, luma);
  }
  const v = gaussian(bg.v, width, height, uniform(rng, 0.5, 2));
  const out = { v, width, height };
  addNoise(out, rng, uniform(rng, 0.005, 0.03));
  return out;
}

/** A chest film: a bright body, two dark lung fields crossed by bright rib arcs, a spine. */
function chestImage(rng: Rng): Unit {
  const width = int(rng, 400, 1000);
  const height = Math.round(width * uniform(rng, 0.85, 1.25));
  const u = blank(width, height, uniform(rng, 0, 0.1));
  const body = uniform(rng, 0.55, 0.75);
  fillEllipse(u, width / 2, height * 0.55, width * 0.46, height * 0.55, 0, body);
  const lung = uniform(rng, 0.15, 0.3);
  const rib = body * uniform(rng, 0.75, 0.95);
  for (const side of [-1, 1]) {
    const cx = width / 2 + side * width * uniform(rng, 0.17, 0.22);
    const rx = width * uniform(rng, 0.13, 0.17);
    const ry = height * uniform(rng, 0.3, 0.36);
    const cy = height * uniform(rng, 0.45, 0.52);
    const ribGap = height * uniform(rng, 0.05, 0.07);
    const ribWidth = ribGap * uniform(rng, 0.3, 0.45);
    fillEllipse(u, cx, cy, rx, ry, 0, (x, y) => {
      // Ribs run down and outwards from the spine: bands of a tilted, bent coordinate.
      const t = y + side * 0.35 * (x - width / 2) + ((x - cx) ** 2 / rx) * 0.4;
      return ((t % ribGap) + ribGap) % ribGap < ribWidth ? rib : lung;
    });
  }
  fillRect(u, width * 0.47, height * 0.05, width * 0.06, height * 0.95, body * 1.15);
  fillEllipse(u, width * 0.55, height * 0.72, width * 0.12, height * 0.1, 0, body * 1.05);
  const v = gaussian(u.v, width, height, uniform(rng, 1.5, 4));
  const out = { v, width, height };
  addNoise(out, rng, uniform(rng, 0.003, 0.02));
  return out;
}

/**
 * One negative of `kind`, 8-bit grey, drawn from the integer `seed` parts (same seed, same
 * image; e.g. `[setSeed, index]`). Kinds in
 * `NEGATIVE_KINDS_FROM_PANORAMIC` need `panoramic` (a real panoramic to cut from).
 */
export function makeNegative(
  kind: NegativeKind,
  seed: readonly number[],
  panoramic?: GreyImage,
): GreyImage {
  const rng = Rng.seeded(...seed);
  let u: Unit;
  if (NEGATIVE_KINDS_FROM_PANORAMIC.includes(kind)) {
    if (!panoramic)
      throw new DentsegError('E_USAGE', `makeNegative: "${kind}" needs a panoramic to cut from`);
    const pano = { v: toUnit(panoramic), width: panoramic.width, height: panoramic.height };
    u =
      kind === 'periapical'
        ? periapical(rng, pano)
        : kind === 'bitewing'
          ? bitewing(rng, pano)
          : inverted(rng, pano);
  } else if (kind === 'blank') u = blankImage(rng);
  else if (kind === 'noise') u = noiseImage(rng);
  else if (kind === 'gradient') u = gradientImage(rng);
  else if (kind === 'text') u = textImage(rng);
  else if (kind === 'photo') u = photoImage(rng);
  else u = chestImage(rng);
  const like: GreyImage = {
    width: u.width,
    height: u.height,
    bitDepth: 8,
    data: new Uint8Array(0),
  };
  return fromUnit(u.v, like);
}
