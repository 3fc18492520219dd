// The findings picture's labels: a lone label sits right of its ring; labels of lesions a
// ring apart (27 D beside 28 M) never cover each other, and every label stays in the picture.
import { describe, expect, it } from 'vitest';
import { placeLabels, type PlacedLabel } from '../../src/infer/label-placement.js';

const box = { width: 50, height: 20 };
const overlap = (a: PlacedLabel, b: PlacedLabel): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('placeLabels', () => {
  it('puts a lone label right of its ring, centred on it', () => {
    const [p] = placeLabels([{ cx: 100, cy: 100, r: 10, ...box }], 400, 300);
    expect(p).toEqual({
      x: 112,
      y: 90,
      width: 50,
      height: 20,
      anchor: 'start',
      textX: 112,
      textY: 100,
    });
  });

  it('moves the second of two neighbours off the first (27 D, 28 M)', () => {
    // Rings 35 px apart: the right-hand label of the left ring covers the right ring's.
    const placed = placeLabels(
      [
        { cx: 200, cy: 100, r: 10, ...box },
        { cx: 235, cy: 100, r: 10, ...box },
      ],
      400,
      300,
    );
    expect(placed[0]!.anchor).toBe('start');
    expect(overlap(placed[0]!, placed[1]!)).toBe(false);
  });

  it('keeps a crowd apart and inside the picture; a label at the edge goes left', () => {
    const crowd = Array.from({ length: 6 }, (_, i) => ({ cx: 200, cy: 100 + i * 6, r: 8, ...box }));
    const placed = placeLabels(crowd, 400, 300);
    for (let i = 0; i < placed.length; i++)
      for (let j = 0; j < i; j++) expect(overlap(placed[i]!, placed[j]!), `${i} ${j}`).toBe(false);
    for (const p of placed) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.x + p.width).toBeLessThanOrEqual(400);
    }
    const [edge] = placeLabels([{ cx: 380, cy: 100, r: 10, ...box }], 400, 300);
    expect(edge!.anchor).toBe('end');
    // An end-anchored text is drawn at its box's right edge, beside the ring.
    expect(edge!.textX).toBe(edge!.x + edge!.width);
    expect(edge!.textX).toBe(380 - 10 - 2);
    expect(edge!.x + edge!.width).toBe(368);
  });
});
