// Error maps: each pixel kind gets its colour and is counted once, multi-class wrong-class
// pixels are false positives, and mismatched sizes are refused.
import { describe, expect, it } from 'vitest';
import { ERROR_MAP_COLOURS, errorMapRgb } from '../../src/evaluate/index.js';

function pixel(rgb: Uint8Array, i: number): number[] {
  return [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
}

describe('errorMapRgb', () => {
  it('colours true positives, false positives, false negatives and background apart', () => {
    const grey = Uint8Array.from([100, 100, 100, 100]);
    const prediction = Uint8Array.from([1, 1, 0, 0]);
    const truth = Uint8Array.from([1, 0, 1, 0]);
    const { rgb, counts } = errorMapRgb(grey, prediction, truth, 2, 2);
    expect(counts).toEqual({ tp: 1, fp: 1, fn: 1 });
    expect(pixel(rgb, 1)).toEqual([...ERROR_MAP_COLOURS.falsePositive]);
    expect(pixel(rgb, 2)).toEqual([...ERROR_MAP_COLOURS.falseNegative]);
    expect(pixel(rgb, 3)).toEqual([60, 60, 60]); // dimmed X-ray
    const tp = pixel(rgb, 0);
    expect(tp[1]).toBeGreaterThan(tp[0]!); // green tint over the X-ray
    expect(tp[1]).toBeGreaterThan(tp[2]!);
  });

  it('multi-class: the wrong class is a false positive, not a true positive', () => {
    const grey = new Uint8Array(3);
    const { counts } = errorMapRgb(
      grey,
      Uint8Array.from([2, 3, 0]),
      Uint8Array.from([2, 4, 5]),
      3,
      1,
    );
    expect(counts).toEqual({ tp: 1, fp: 1, fn: 1 });
  });

  it('refuses inputs of different sizes, naming the counts', () => {
    expect(() =>
      errorMapRgb(new Uint8Array(4), new Uint8Array(4), new Uint8Array(3), 2, 2),
    ).toThrow(/expected 4 pixels.*4, 4, 3/);
  });
});
