/**
 * Colours shared by every picture of a mask (server overlay PNGs, `X.findings.png`, the web
 * viewer): one per class index, and one per finding type. Pure, no Node or DOM, so the
 * browser bundle imports it too and the page draws a finding in the colour the PNG does.
 */

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/**
 * Colour of class index `classIndex` (≥ 1): a clear cyan for the first (the binary target),
 * then golden-angle hues so that neighbouring indices (adjacent teeth) get distant colours.
 */
export function classColour(classIndex: number): [number, number, number] {
  if (classIndex <= 1) return [0, 200, 255];
  const hue = ((classIndex - 1) * 137.508) % 360;
  return hslToRgb(hue, 0.85, 0.55);
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Colours of the finding types dentseg knows (CSS hex); others take one of `EXTRA_COLOURS`. */
const FINDING_TYPE_COLOURS: Readonly<Record<string, string>> = { caries: '#e8364f' };
/**
 * Blue, purple, green: mid-grey in brightness (seen on the page's light panels and on the
 * X-ray), over 150 apart in RGB from each other and over 80 from caries' red, the binary
 * overlay's cyan and the chart's tooth-type colours (numbering/fdi.ts) that
 * `X.findings.png` draws lesions over — an orange like the molars' or a pink like caries'
 * would hide a lesion there.
 */
const EXTRA_COLOURS = ['#1c7ed6', '#9c36b5', '#5c940d'] as const;

/**
 * The colour of a finding type (`caries`, …) as CSS hex, for `X.findings.png` and the page
 * alike. Unknown types take a colour hashed from their name, not from their order on one
 * image, so that a type keeps its colour from one X-ray (and one picture) to the next.
 */
export function findingTypeColour(type: string): string {
  const known = FINDING_TYPE_COLOURS[type];
  if (known) return known;
  let h = 0;
  for (const ch of type) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return EXTRA_COLOURS[h % EXTRA_COLOURS.length]!;
}
