// Class colours: cyan for the binary target, and neighbouring class indices (adjacent FDI
// teeth) far apart in colour; finding-type colours, one set for X.findings.png and the page.
import { describe, expect, it } from 'vitest';
import { classColour, findingTypeColour } from '../../src/imaging/palette.js';
import { TOOTH_TYPE_COLOURS } from '../../src/numbering/index.js';

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

describe('findingTypeColour', () => {
  it('colours a type the same way every time, whatever else is found; caries has its own', () => {
    expect(findingTypeColour('caries')).toBe('#e8364f');
    expect(findingTypeColour('impacted')).toBe(findingTypeColour('impacted'));
    expect(findingTypeColour('impacted')).toMatch(/^#[0-9a-f]{6}$/);
    expect(findingTypeColour('impacted')).not.toBe(findingTypeColour('caries'));
  });

  it("keeps every type's colour apart from the chart's tooth colours and the overlay's cyan", () => {
    const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const types = ['caries', 'periapical', 'impacted', 'calculus', 'cyst', 'bone loss'];
    const colours = new Set(types.map((t) => findingTypeColour(t)));
    // These six names reach every colour the rule has (caries' own and each extra).
    expect(colours.size).toBe(4);
    for (const c of colours) {
      for (const other of [...Object.values(TOOTH_TYPE_COLOURS), classColour(1)]) {
        const [r, g, b] = rgb(c);
        expect(Math.hypot(r! - other[0], g! - other[1], b! - other[2])).toBeGreaterThan(80);
      }
    }
  });
});
