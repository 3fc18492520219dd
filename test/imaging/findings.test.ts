// Findings on hand-made masks: 8-connectivity, speck rule, area/bbox/centroid by hand,
// outlines simplified to corners, multi-class naming.
import { describe, expect, it } from 'vitest';
import {
  defaultMinArea,
  findRegions,
  findingsFor,
  simplifyClosed,
} from '../../src/imaging/findings.js';

function maskOf(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const height = rows.length;
  const width = rows[0]!.length;
  const mask = new Uint8Array(width * height);
  rows.forEach((r, y) =>
    [...r].forEach((ch, x) => (mask[y * width + x] = ch === '.' ? 0 : Number(ch))),
  );
  return { mask, width, height };
}

describe('findings', () => {
  it('joins diagonal neighbours (8-connectivity) and keeps classes apart', () => {
    const { mask, width, height } = maskOf(['1....', '.1...', '..1.2', '....2']);
    const f = findRegions(mask, width, height, (c) => `c${c}`, { minAreaPx: 1 });
    expect(f.map((r) => [r.class, r.areaPx])).toEqual([
      ['c1', 3],
      ['c2', 2],
    ]);
  });

  it('measures area, box and centroid of a rectangle and outlines it with its 4 corners', () => {
    const rows = Array.from({ length: 10 }, (_, y) =>
      [...'....................']
        .map((_, x) => (x >= 3 && x < 13 && y >= 2 && y < 7 ? '1' : '.'))
        .join(''),
    );
    const { mask, width, height } = maskOf(rows);
    const [r] = findingsFor(mask, width, height, 'binary', ['teeth'], { minAreaPx: 1 });
    expect(r).toBeDefined();
    expect(r!.class).toBe('teeth');
    expect(r!.classIndex).toBe(1);
    expect(r!.areaPx).toBe(50);
    expect(r!.areaPct).toBe(25);
    expect(r!.bbox).toEqual([3, 2, 10, 5]);
    expect(r!.centroid).toEqual([7.5, 4]);
    expect([...r!.polygon].sort()).toEqual(
      [
        [3, 2],
        [12, 2],
        [12, 6],
        [3, 6],
      ].sort(),
    );
  });

  it('traces an L shape as a closed chain of neighbouring boundary pixels', () => {
    const { mask, width, height } = maskOf(['11..', '11..', '1111', '1111']);
    const [r] = findRegions(mask, width, height, () => 'x', { minAreaPx: 1, simplifyPx: 0 });
    const poly = r!.polygon;
    expect(poly[0]).toEqual([0, 0]);
    expect(new Set(poly.map((p) => p.join())).size).toBe(poly.length);
    for (const [x, y] of poly) expect(mask[y * width + x]).toBe(1);
    poly.forEach(([x, y], i) => {
      const [nx, ny] = poly[(i + 1) % poly.length]!;
      expect(Math.max(Math.abs(nx - x), Math.abs(ny - y))).toBe(1);
    });
    for (const corner of ['0,0', '1,0', '3,2', '3,3', '0,3']) {
      expect(poly.map((p) => p.join())).toContain(corner);
    }
    // Simplified, the L keeps its six corners (give or take the inner diagonal).
    const [s] = findRegions(mask, width, height, () => 'x', { minAreaPx: 1, simplifyPx: 0.5 });
    expect(s!.polygon.length).toBeGreaterThanOrEqual(5);
    expect(s!.polygon.length).toBeLessThanOrEqual(7);
  });

  it('drops specks below the minimum area (default 0.01% of the image, at least 16 px)', () => {
    expect(defaultMinArea(512, 512)).toBe(26);
    expect(defaultMinArea(2900, 1300)).toBe(377);
    expect(defaultMinArea(64, 64)).toBe(16);
    const width = 64;
    const mask = new Uint8Array(width * width);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) mask[y * width + x] = 1; // 9 px
    for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) mask[y * width + x] = 1; // 100 px
    const f = findRegions(mask, width, width, () => 't');
    expect(f.map((r) => r.areaPx)).toEqual([100]);
  });

  it('names multi-class regions by class index (0 is background)', () => {
    const { mask, width, height } = maskOf(['33..', '33.5', '...5']);
    const names = ['background', 'a', 'b', '18', 'd', '21'];
    const f = findingsFor(mask, width, height, 'multiclass', names, { minAreaPx: 1 });
    expect(f.map((r) => r.class)).toEqual(['18', '21']);
  });

  it('a single pixel outlines as itself; a straight run simplifies to its ends', () => {
    const { mask, width, height } = maskOf(['.....', '..1..', '.....']);
    expect(findRegions(mask, width, height, () => 'x', { minAreaPx: 1 })[0]!.polygon).toEqual([
      [2, 1],
    ]);
    const line: [number, number][] = Array.from({ length: 20 }, (_, i) => [i, 0]);
    expect(simplifyClosed([...line, ...line.slice(1, -1).reverse()], 1)).toEqual([
      [0, 0],
      [19, 0],
    ]);
  });
});
