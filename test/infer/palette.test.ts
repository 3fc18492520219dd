// Class colours: cyan for the binary target, and neighbouring class indices (adjacent FDI
// teeth) far apart in colour.
import { describe, expect, it } from 'vitest';
import { classColour } from '../../src/imaging/palette.js';

describe('classColour', () => {
  it('gives the binary target cyan and adjacent classes distinct colours', () => {
    expect(classColour(1)).toEqual([0, 200, 255]);
    for (let c = 2; c <= 33; c++) {
      const [r, g, b] = classColour(c);
      const [r0, g0, b0] = classColour(c - 1);
      for (const v of [r, g, b]) expect(v >= 0 && v <= 255).toBe(true);
      expect(Math.abs(r - r0) + Math.abs(g - g0) + Math.abs(b - b0)).toBeGreaterThan(120);
    }
  });
});
