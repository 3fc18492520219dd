// Metrics against hand-computed cases, brute force and identities (IoU = D / (2 − D)).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  addConfusion,
  boundary,
  classHd95,
  confusion,
  dice,
  distanceTransform,
  hd95,
  iou,
  percentile,
  precision,
  recall,
} from '../../src/evaluate/metrics.js';
import { HAS_SHARED_DATA, UFBA } from '../helpers/paths.js';

describe('confusion and derived metrics', () => {
  it('counts a hand-made 3×3 case', () => {
    // pred:  1 1 0    truth: 1 0 0
    //        0 1 0           0 1 1
    //        0 0 0           0 0 0
    const pred = Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0, 0]);
    const truth = Uint8Array.from([255, 0, 0, 0, 255, 255, 0, 0, 0]);
    const c = confusion(pred, truth);
    expect(c).toEqual({ tp: 2, fp: 1, fn: 1, tn: 5 });
    expect(dice(c)).toBeCloseTo(4 / 6, 12);
    expect(iou(c)).toBeCloseTo(2 / 4, 12);
    expect(accuracy(c)).toBeCloseTo(7 / 9, 12);
    expect(precision(c)).toBeCloseTo(2 / 3, 12);
    expect(recall(c)).toBeCloseTo(2 / 3, 12);
  });

  it('scores one class of a multi-class mask', () => {
    const pred = Uint8Array.from([0, 1, 2, 2, 3]);
    const truth = Uint8Array.from([0, 2, 2, 1, 3]);
    expect(confusion(pred, truth, 2)).toEqual({ tp: 1, fp: 1, fn: 1, tn: 2 });
    expect(confusion(pred, truth, 3)).toEqual({ tp: 1, fp: 0, fn: 0, tn: 4 });
  });

  it('defines empty cases and pools', () => {
    const empty = confusion(new Uint8Array(4), new Uint8Array(4));
    expect([dice(empty), iou(empty), precision(empty), recall(empty)]).toEqual([1, 1, 1, 1]);
    const allWrong = confusion(Uint8Array.from([1, 0]), Uint8Array.from([0, 1]));
    expect(dice(allWrong)).toBe(0);
    expect(addConfusion(empty, allWrong)).toEqual({ tp: 0, fp: 1, fn: 1, tn: 4 });
    expect(() => confusion(new Uint8Array(2), new Uint8Array(3))).toThrow(RangeError);
  });

  it('IoU = D / (2 − D) on random masks', () => {
    let s = 7;
    const rnd = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 50; k++) {
      const n = 200;
      const p = new Uint8Array(n).map(() => (rnd() < 0.3 ? 1 : 0));
      const t = new Uint8Array(n).map(() => (rnd() < 0.4 ? 1 : 0));
      const c = confusion(p, t);
      const d = dice(c);
      expect(iou(c)).toBeCloseTo(d / (2 - d), 12);
    }
  });
});

function bruteHd95(pred: Uint8Array, truth: Uint8Array, w: number, h: number): number {
  const pts = (m: Uint8Array): [number, number][] => {
    const b = boundary(m, w, h);
    const out: [number, number][] = [];
    b.forEach((v, i) => v && out.push([i % w, Math.floor(i / w)]));
    return out;
  };
  const a = pts(pred);
  const b = pts(truth);
  const directed = (from: [number, number][], to: [number, number][]): number =>
    percentile(
      Float64Array.from(
        from.map(([x, y]) => Math.min(...to.map(([u, v]) => Math.hypot(x - u, y - v)))),
      ),
      95,
    );
  return Math.max(directed(a, b), directed(b, a));
}

describe('distances', () => {
  it('distance transform is exact on a small grid', () => {
    const seeds = new Uint8Array(5 * 4);
    seeds[0] = 1; // (0,0)
    seeds[4 * 5 - 1] = 1; // (4,3)
    const d = distanceTransform(seeds, 5, 4);
    expect(d[2]).toBeCloseTo(2, 12); // (2,0)
    expect(d[1 * 5 + 1]).toBeCloseTo(Math.SQRT2, 12);
    expect(d[3 * 5 + 2]).toBeCloseTo(2, 12); // (2,3): 2 from (4,3)
  });

  it('hd95 of two offset squares is the offset; matches brute force on random blobs', () => {
    const w = 20;
    const h = 16;
    const square = (x0: number, y0: number, size: number): Uint8Array => {
      const m = new Uint8Array(w * h);
      for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) m[y * w + x] = 1;
      return m;
    };
    expect(hd95(square(2, 2, 6), square(2, 2, 6), w, h)).toBe(0);
    expect(hd95(square(2, 2, 6), square(5, 2, 6), w, h)).toBeCloseTo(3, 12);
    let s = 3;
    const rnd = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 10; k++) {
      const a = square(Math.floor(rnd() * 10), Math.floor(rnd() * 8), 3 + Math.floor(rnd() * 6));
      const b = square(Math.floor(rnd() * 10), Math.floor(rnd() * 8), 3 + Math.floor(rnd() * 6));
      a[Math.floor(rnd() * w * h)] = 1;
      expect(hd95(a, b, w, h)).toBeCloseTo(bruteHd95(a, b, w, h), 9);
    }
  });

  it('classHd95 on the class box equals hd95 on full binary copies, at the edges too', () => {
    const w = 20;
    const h = 16;
    const of = (m: Uint8Array, c: number): Uint8Array => m.map((v) => (v === c ? 1 : 0));
    let s = 5;
    const rnd = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 20; k++) {
      const pred = new Uint8Array(w * h);
      const truth = new Uint8Array(w * h);
      // blobs of classes 1-3, some touching the image edge (the edge is boundary)
      for (const m of [pred, truth])
        for (let b = 0; b < 4; b++) {
          const c = 1 + Math.floor(rnd() * 3);
          const x0 = Math.floor(rnd() * w) - 2;
          const y0 = Math.floor(rnd() * h) - 2;
          const size = 2 + Math.floor(rnd() * 7);
          for (let y = Math.max(0, y0); y < Math.min(h, y0 + size); y++)
            for (let x = Math.max(0, x0); x < Math.min(w, x0 + size); x++) m[y * w + x] = c;
        }
      for (let c = 1; c <= 4; c++)
        expect(classHd95(pred, truth, c, w, h)).toBe(hd95(of(pred, c), of(truth, c), w, h));
    }
  });

  it('classHd95 refuses masks of the wrong size under its own name, with both lengths', () => {
    expect(() => classHd95(new Uint8Array(12), new Uint8Array(16), 1, 4, 4)).toThrow(
      /^classHd95: masks must have 4×4 pixels, got 12 \(pred\) and 16 \(truth\)$/,
    );
  });

  it('hd95 handles empty masks', () => {
    const e = new Uint8Array(16);
    const one = new Uint8Array(16);
    one[5] = 1;
    expect(hd95(e, e, 4, 4)).toBe(0);
    expect(hd95(one, e, 4, 4)).toBe(Infinity);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('on real masks', () => {
  it('IoU = D / (2 − D) for shifted ufba425 masks', async () => {
    const dir = path.join(UFBA, 'masks');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.png'))
      .slice(0, 5);
    for (const f of files) {
      const { data, info } = await sharp(path.join(dir, f))
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const truth = new Uint8Array(data);
      const pred = new Uint8Array(truth.length);
      pred.set(truth.subarray(info.width * 3)); // shift up by 3 rows
      const c = confusion(pred, truth);
      const d = dice(c);
      expect(d).toBeGreaterThan(0.5);
      expect(iou(c)).toBeCloseTo(d / (2 - d), 12);
      expect(hd95(pred, truth, info.width, info.height)).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(!HAS_SHARED_DATA)('classHd95 on real FDI masks', () => {
  it('equals hd95 on full binary copies for every tooth of a shifted mask', async () => {
    const file = readdirSync(path.join(UFBA, 'masks_fdi')).find((f) => f.endsWith('.png'))!;
    const { data, info } = await sharp(path.join(UFBA, 'masks_fdi', file))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const truth = new Uint8Array(data);
    const pred = new Uint8Array(truth.length);
    pred.set(truth.subarray(info.width * 4 + 3)); // up 4 rows, left 3 columns
    const of = (m: Uint8Array, c: number): Uint8Array => m.map((v) => (v === c ? 1 : 0));
    for (let c = 1; c <= 32; c++) {
      const full = hd95(of(pred, c), of(truth, c), info.width, info.height);
      expect(classHd95(pred, truth, c, info.width, info.height)).toBe(full);
    }
  });
});
