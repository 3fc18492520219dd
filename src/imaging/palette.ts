/**
 * Class colours shared by every picture of a mask (server overlay PNGs, the web viewer):
 * pure, no Node or DOM, so the browser bundle can import it too.
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
