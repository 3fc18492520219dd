/**
 * COCO: category rules, overlap order, RLE (compressed and uncompressed, column-major
 * as pycocotools) and rasterised polygons against ufba425's own masks.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeImage,
  fillPolygons,
  fillSegmentation,
  maskToRleCounts,
  parseCoco,
  rleCountsToString,
  rleStringToCounts,
} from '../../src/data/index.node.js';
import { HAS_SHARED_DATA, UFBA } from '../helpers/paths.js';

const coco = {
  categories: [
    { id: 0, name: 'my-dataset', supercategory: 'none' },
    { id: 1, name: 'tooth 11', supercategory: 'my-dataset' },
    { id: 2, name: 'caries', supercategory: 'my-dataset' },
  ],
  images: [{ id: 7, file_name: 'a.jpg', width: 10, height: 6 }],
  annotations: [
    { id: 1, image_id: 7, category_id: 1, segmentation: [[1, 1, 8, 1, 8, 5, 1, 5]] },
    { id: 2, image_id: 7, category_id: 2, segmentation: [[4, 0, 10, 0, 10, 6, 4, 6]] },
  ],
};

describe('COCO', () => {
  it('skips the data set category (supercategory none, unused) and keeps file order', () => {
    const p = parseCoco(coco, 'x.json');
    expect(p.categories).toEqual(['tooth 11', 'caries']);
    expect(p.images[0]!.shapes.map((s) => s.cls)).toEqual([1, 2]);
  });

  it('rejects malformed files naming the field', () => {
    expect(() => parseCoco({ ...coco, images: 3 }, 'x.json')).toThrow(/x\.json: images/);
    const badAnn = { ...coco, annotations: [{ image_id: 99, category_id: 1, segmentation: [] }] };
    expect(() => parseCoco(badAnn, 'x.json')).toThrow(/annotations\[0\]\.image_id/);
    const badCat = { ...coco, annotations: [{ image_id: 7, category_id: 5, segmentation: [] }] };
    expect(() => parseCoco(badCat, 'x.json')).toThrow(/annotations\[0\]\.category_id/);
    const badSeg = { ...coco, annotations: [{ image_id: 7, category_id: 1, segmentation: 'x' }] };
    expect(() => parseCoco(badSeg, 'x.json')).toThrow(/segmentation/);
  });

  it('pixel centres decide: a square from 1 to 8 covers pixels 1…7; later annotations win', () => {
    const { images } = parseCoco(coco, 'x.json');
    const m = new Uint8Array(60);
    for (const s of images[0]!.shapes) fillSegmentation(m, 10, 6, s.segmentation, s.cls);
    const row = (y: number): string => Array.from(m.slice(y * 10, y * 10 + 10)).join('');
    expect(row(0)).toBe('0000222222');
    expect(row(1)).toBe('0111222222');
    expect(row(5)).toBe('0000222222');
  });

  it('RLE: compressed string and counts round-trip, column-major', () => {
    const w = 13;
    const h = 9;
    const mask = Uint8Array.from({ length: w * h }, (_, i) => ((i * 31) % 7 < 3 ? 1 : 0));
    const counts = maskToRleCounts(mask, w, h);
    expect(rleStringToCounts(rleCountsToString(counts))).toEqual(counts);
    for (const seg of [
      { size: [h, w] as [number, number], counts },
      { size: [h, w] as [number, number], counts: rleCountsToString(counts) },
    ]) {
      const out = new Uint8Array(w * h);
      fillSegmentation(out, w, h, seg, 1);
      expect(Array.from(out)).toEqual(Array.from(mask));
    }
    // Column-major: a run of 3 after 0 background covers x=0, y=0..2.
    const col = new Uint8Array(4 * 5);
    fillSegmentation(col, 4, 5, { size: [5, 4], counts: [0, 3, 17] }, 1);
    expect([col[0], col[4], col[8], col[12], col[1]]).toEqual([1, 1, 1, 0, 0]);
    // pycocotools' encoding of that mask:
    expect(rleStringToCounts('03a0')).toEqual([0, 3, 17]);
  });

  it.skipIf(!HAS_SHARED_DATA)(
    'rasterised polygons reproduce ufba425/masks (mean IoU ≥ 0.97)',
    async () => {
      const file = path.join(UFBA, 'coco/valid_annotations.coco.json');
      const parsed = parseCoco(JSON.parse(readFileSync(file, 'utf8')), file);
      const ious: number[] = [];
      for (const im of parsed.images.slice(0, 8)) {
        const truth = await decodeImage(
          path.join(UFBA, 'masks', im.fileName.replace(/\.jpg$/, '.png')),
        );
        const out = new Uint8Array(im.width * im.height);
        for (const s of im.shapes)
          fillPolygons(out, im.width, im.height, s.segmentation as number[][], 1);
        let inter = 0;
        let union = 0;
        for (let i = 0; i < out.length; i++) {
          const t = truth.data[i]! > 127;
          const p = out[i] === 1;
          if (t && p) inter++;
          if (t || p) union++;
        }
        ious.push(inter / union);
      }
      const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
      expect(mean).toBeGreaterThanOrEqual(0.97);
    },
  );
});
