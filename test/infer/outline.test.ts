/**
 * Numbers within an outline (src/infer/outline.ts): the numbering model names the teeth,
 * the binary teeth model draws them. Crafted maps whose answer is known pixel by pixel.
 */
import { describe, expect, it } from 'vitest';
import {
  OUTLINE_REACH_PX,
  anyTooth,
  numbersWithinOutline,
  outlinedTeeth,
  spreadLabels,
} from '../../src/infer/outline.js';
import {
  DEFAULT_PREPROCESS,
  computeGeometry,
  restoreMaskToOriginal,
} from '../../src/data/preprocess.js';
import { numberingScheme } from '../../src/numbering/index.js';

// Only the pre-processing (the network's size, stretched) and the class count matter here;
// the maps are far smaller than a dentseg.json allows, so the meta is built, not parsed.
const meta = (w: number, h: number) => ({
  preprocess: { ...DEFAULT_PREPROCESS, size: [h, w] as const, aspect: 'stretch' as const },
  classes: ['background', 'tooth 46', 'tooth 36'],
});

describe('spreadLabels', () => {
  it('spreads each label to its nearest unlabelled pixels, no further than the reach', () => {
    // One row: 1 at x=1, 2 at x=8; the gap between is split by distance.
    const row = Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    expect([...spreadLabels(row, 15, 1, 3)]).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0]);
    // Reach 0 changes nothing; labelled pixels never change.
    expect([...spreadLabels(row, 15, 1, 0)]).toEqual([...row]);
    // Columns do not wrap around the row's end.
    const grid = Uint8Array.from([0, 0, 1, 0, 0, 0]);
    expect([...spreadLabels(grid, 3, 2, 1)]).toEqual([0, 1, 1, 0, 0, 1]);
    // Only through allowed pixels: a gap in the outline stops a number, however near.
    const allowed = Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect([...spreadLabels(row, 15, 1, 3, allowed)]).toEqual([
      1, 1, 1, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0,
    ]);
  });
});

describe('numbersWithinOutline', () => {
  it('draws the numbers within the outline: pixels off the outline go, outline pixels near a number take it', () => {
    const w = 20;
    const h = 4;
    // Numbering map: tooth 46 (class 1) on x 2..5, tooth 36 (class 2) on x 12..15, all rows.
    const numbered = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (x >= 2 && x <= 5) numbered[y * w + x] = 1;
        if (x >= 12 && x <= 15) numbered[y * w + x] = 2;
      }
    // Outline: wider than 46 on both sides (x 0..7), narrower than 36 (x 13..14).
    const outline = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if (x <= 7 || x === 13 || x === 14) outline[y * w + x] = 1;
    const out = numbersWithinOutline(meta(w, h), numbered, outline, w, h, 1);
    const row = [...out.subarray(0, w)];
    expect(row).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0]);
    expect(OUTLINE_REACH_PX).toBeGreaterThanOrEqual(2);
  });

  it('an outline region no number reaches stays background', () => {
    const w = 30;
    const h = 1;
    const numbered = new Uint8Array(w);
    numbered[0] = 1;
    const outline = new Uint8Array(w).fill(1);
    const out = numbersWithinOutline(meta(w, h), numbered, outline, w, h, 1);
    // Pixel 0 and the reach beyond it are tooth 46; the rest of the outline is no tooth.
    expect([...out].filter((c) => c === 1)).toHaveLength(1 + OUTLINE_REACH_PX);
    expect(out[OUTLINE_REACH_PX + 1]).toBe(0);
  });

  it('maps the network-size numbers to the X-ray by nearest neighbour, and drops a number under the presence threshold', () => {
    // Network 4×2, X-ray 8×4: each network pixel covers 2×2 X-ray pixels.
    const numbered = Uint8Array.from([1, 1, 0, 2, 1, 1, 0, 0]);
    const outline = new Uint8Array(8 * 4).fill(1);
    // The model's own map at the X-ray's size, as a nearest-neighbour restore makes it.
    const own = restoreMaskToOriginal(numbered, computeGeometry(8, 4, meta(4, 2).preprocess));
    const all = numbersWithinOutline(meta(4, 2), own, outline, 8, 4, 1);
    expect(all[0]).toBe(1);
    expect(all[7]).toBe(2);
    // 36 holds few pixels in this outline: with a threshold above its count it is dropped.
    const only46 = new Uint8Array(8 * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) only46[y * 8 + x] = 1;
    only46[7] = 1; // one pixel of 36's area
    const out = numbersWithinOutline(meta(4, 2), own, only46, 8, 4, 2);
    expect(out[7]).toBe(0);
    expect([...out].filter((c) => c === 1)).toHaveLength(16);
    expect(() => numbersWithinOutline(meta(4, 2), own, outline, 8, 3, 1)).toThrow(
      /outline and own map have 32 and 32 values, expected 8×3/,
    );
  });

  it("takes the number of the model's own map at the X-ray's size where it has one", () => {
    // Network 2×1 (46 | 36), X-ray 8×1. Nearest neighbour would put the border at x = 4;
    // the own map (restored by probabilities) puts it at x = 5, and the outline follows it.
    // Where the own map says background (x = 7), the nearest number fills the outline.
    const own = Uint8Array.from([1, 1, 1, 1, 1, 2, 2, 0]);
    const outline = new Uint8Array(8).fill(1);
    const out = numbersWithinOutline(meta(2, 1), own, outline, 8, 1, 1);
    expect([...out]).toEqual([1, 1, 1, 1, 1, 2, 2, 2]);
  });
});

describe('anyTooth', () => {
  it("is tooth where either map has a tooth: the gate's teeth with an outline", () => {
    const own = Uint8Array.from([0, 3, 3, 0, 0]);
    const outlined = Uint8Array.from([0, 0, 3, 5, 0]);
    expect([...anyTooth(own, outlined)]).toEqual([0, 1, 1, 1, 0]);
    // The outline itself too: a crown only the binary model still calls tooth.
    const outline = Uint8Array.from([0, 0, 0, 0, 255]);
    expect([...anyTooth(own, outlined, outline)]).toEqual([0, 1, 1, 1, 1]);
  });

  it('is what outlinedTeeth hands the gate: outline pixels no number reaches stay tooth', () => {
    const w = 20;
    // Tooth 46 (class 1) numbered at x 2..5; the outline also holds x 14..17, beyond the reach.
    const numbered = new Uint8Array(w);
    for (let x = 2; x < 6; x++) numbered[x] = 1;
    const outline = new Uint8Array(w);
    for (const x of [2, 3, 4, 5, 14, 15, 16, 17]) outline[x] = 255;
    const scheme = numberingScheme(meta(w, 1).classes)!;
    const config = { scheme, mode: 'unique', minToothPx: 1, size: [1, w] } as const;
    const { mask, gate } = outlinedTeeth(meta(w, 1), config, numbered, outline, w, 1);
    expect([...mask].filter((c) => c !== 0)).toHaveLength(4);
    expect([...gate].map((v, x) => (v ? x : -1)).filter((x) => x >= 0)).toEqual([
      2, 3, 4, 5, 14, 15, 16, 17,
    ]);
  });
});
