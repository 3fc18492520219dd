// The web page's pure pixel logic: client-side re-thresholding, outlines and areas.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/imaging/findings.js';
import {
  classColour,
  groupFindings,
  labelAreas,
  outlineOf,
  paintLabels,
  thresholdLabels,
} from '../../src/web/app/overlay.js';

describe('thresholdLabels', () => {
  const prob = new Uint8Array([0, 100, 127, 128, 200, 255]);

  it('binary: foreground where probability ≥ t', () => {
    expect([...thresholdLabels(prob, undefined, 0.5)]).toEqual([0, 0, 0, 1, 1, 1]);
    expect([...thresholdLabels(prob, undefined, 0.9)]).toEqual([0, 0, 0, 0, 0, 1]);
    expect([...thresholdLabels(prob, undefined, 0.3)]).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('multi-class: keeps the stored class only where its probability ≥ t, never background', () => {
    const cls = new Uint8Array([0, 3, 3, 2, 0, 5]);
    expect([...thresholdLabels(prob, cls, 0.5)]).toEqual([0, 0, 0, 2, 0, 5]);
    expect([...thresholdLabels(prob, cls, 0)]).toEqual([0, 3, 3, 2, 0, 5]);
  });
});

describe('outlineOf', () => {
  // 5×5 with a 3×3 square of label 1 in the middle.
  const w = 5;
  const labels = new Uint8Array(25);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) labels[y * w + x] = 1;

  it('marks the boundary, not the interior', () => {
    const edge = outlineOf(labels, w, 5, 0);
    expect(edge[2 * w + 2]).toBe(0); // centre
    expect(edge[1 * w + 1]).toBe(1);
    expect(edge[2 * w + 3]).toBe(1);
    expect([...edge].filter((v) => v === 1).length).toBe(8);
  });

  it('thickens the boundary by the radius', () => {
    const thick = outlineOf(labels, w, 5, 1);
    expect(thick[0]).toBe(1);
    expect(thick[2 * w + 2]).toBe(1);
  });
});

describe('paintLabels and labelAreas', () => {
  it('colours labelled pixels opaquely and counts areas per label', () => {
    const labels = new Uint8Array([0, 1, 2, 2]);
    const rgba = new Uint8ClampedArray(16);
    paintLabels(labels, rgba);
    expect(rgba[3]).toBe(0);
    expect([...rgba.slice(4, 8)]).toEqual([...classColour(1), 255]);
    expect([...rgba.slice(8, 12)]).toEqual([...classColour(2), 255]);
    expect(classColour(2)).not.toEqual(classColour(3));
    expect([...labelAreas(labels)]).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});

describe('groupFindings', () => {
  const f = (classIndex: number, x: number, areaPx: number): Omit<Finding, 'polygon'> => ({
    class: `tooth ${classIndex}`,
    classIndex,
    areaPx,
    areaPct: areaPx / 100,
    bbox: [x, 10, 10, 10],
    centroid: [x + 5, 15],
  });

  it('binary: one entry per region, largest first', () => {
    const out = groupFindings([f(1, 0, 100), f(1, 50, 300)], false);
    expect(out.map((g) => [g.areaPx, g.regions])).toEqual([
      [300, 1],
      [100, 1],
    ]);
  });

  it('multi-class: one entry per class, regions merged (area, box union, weighted centre)', () => {
    const out = groupFindings([f(3, 100, 100), f(1, 0, 100), f(3, 0, 300)], true);
    expect(out.map((g) => g.classIndex)).toEqual([1, 3]);
    const t3 = out[1];
    expect(t3?.regions).toBe(2);
    expect(t3?.areaPx).toBe(400);
    expect(t3?.areaPct).toBeCloseTo(4);
    expect(t3?.bbox).toEqual([0, 10, 110, 10]);
    expect(t3?.centroid[0]).toBeCloseTo((105 * 100 + 5 * 300) / 400);
  });
});
