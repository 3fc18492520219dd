// Hand-built panoramic-like class maps: 32 rectangular teeth in two smiling rows, the
// patient's right on the image's left, so numbering cases can be drawn slot by slot.
import { FDI_NUMBERS, numberingScheme, type NumberingScheme } from '../../src/numbering/index.js';

export const W = 320;
export const H = 200;
export const MIDLINE = 160;

/** Class names as ufba425's classes_fdi.json gives them: "tooth 11"… in FDI order. */
export const FDI_CLASSES = ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)];
export const SCHEME: NumberingScheme = numberingScheme(FDI_CLASSES)!;
export const cls = (fdi: number): number => SCHEME.classOfFdi.get(fdi)!;

/** The rectangle `[x0, y0, x1, y1)` where tooth `slot` stands. */
export function slotRect(slot: number): [number, number, number, number] {
  const q = Math.floor(slot / 10);
  const p = slot % 10;
  const right = q === 1 || q === 4;
  const upper = q <= 2;
  const cx = MIDLINE + (right ? -1 : 1) * (p - 0.5) * 18;
  const cy = (upper ? 80 : 125) - 0.5 * p * p;
  return [Math.round(cx - 7), Math.round(cy - 15), Math.round(cx + 7), Math.round(cy + 15)];
}

/**
 * A map with every slot labelled with its own number, except those in `labels`
 * (slot → the number drawn there, or null for a missing tooth). `shrink` (slot → px)
 * narrows a slot's tooth on both sides to make it smaller than the others.
 */
export function chart(
  labels: Record<number, number | null> = {},
  shrink: Record<number, number> = {},
): Uint8Array {
  const m = new Uint8Array(W * H);
  for (const slot of FDI_NUMBERS) {
    const label = slot in labels ? labels[slot]! : slot;
    if (label === null) continue;
    const [x0, y0, x1, y1] = slotRect(slot);
    const s = shrink[slot] ?? 0;
    fill(m, x0 + s, y0, x1 - s, y1, cls(label));
  }
  return m;
}

export function fill(
  m: Uint8Array,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  c: number,
): void {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = c;
}

/** The class index found at a slot's centre. */
export function at(m: Uint8Array, slot: number): number {
  const [x0, y0, x1, y1] = slotRect(slot);
  return m[((y0 + y1) >> 1) * W + ((x0 + x1) >> 1)]!;
}

/** The FDI number found at each slot's centre (0 = background), for whole-chart checks. */
export function readChart(m: Uint8Array): Record<number, number> {
  const out: Record<number, number> = {};
  for (const slot of FDI_NUMBERS) {
    const c = at(m, slot);
    out[slot] = c === 0 ? 0 : SCHEME.fdiOfClass[c]!;
  }
  return out;
}

/** The identity chart (every slot its own number), with `missing` slots 0. */
export function identity(missing: number[] = []): Record<number, number> {
  const out: Record<number, number> = {};
  for (const slot of FDI_NUMBERS) out[slot] = missing.includes(slot) ? 0 : slot;
  return out;
}
