/**
 * `dentseg data masks`: a crafted COCO file with good and bad entries (every bad one named,
 * the good ones written, exit 1), multi-class values with classes.json, and ufba425's
 * valid split rasterised against its own masks/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, readCoco, writeCocoMasks } from '../../src/data/index.node.js';
import { HAS_SHARED_DATA, runCliSync, UFBA } from '../helpers/paths.js';

const dir = path.join(os.tmpdir(), `dentseg-masks-${process.pid}`);
const images = path.join(dir, 'images');
const json = path.join(dir, 'ann.coco.json');

// a.png 10×6: tooth square (1…8 × 1…5) under a caries strip (x 4…10, the later annotation).
// b.jpg 4×5: one RLE run down column 0 (caries, then tooth as a compressed string). c.png: listed at 9×9 but is 10×6. gone.png: absent.
const fixture = {
  categories: [
    { id: 0, name: 'my-dataset', supercategory: 'none' },
    { id: 1, name: 'tooth', supercategory: 'my-dataset' },
    { id: 2, name: 'caries', supercategory: 'my-dataset' },
  ],
  images: [
    { id: 1, file_name: 'a.png', width: 10, height: 6 },
    { id: 2, file_name: 'sub/b.jpg', width: 4, height: 5 },
    { id: 3, file_name: 'c.png', width: 9, height: 9 },
    { id: 4, file_name: 'gone.png', width: 10, height: 6 },
    { id: 5, width: 10, height: 6 },
  ],
  annotations: [
    { id: 10, image_id: 1, category_id: 1, segmentation: [[1, 1, 8, 1, 8, 5, 1, 5]] },
    { id: 11, image_id: 1, category_id: 2, segmentation: [[4, 0, 10, 0, 10, 6, 4, 6]] },
    { id: 12, image_id: 1, category_id: 1, segmentation: [[0, 0, 3, 3]] },
    { id: 13, image_id: 1, category_id: 9, segmentation: [[0, 0, 3, 0, 3, 3]] },
    { id: 14, image_id: 77, category_id: 1, segmentation: [[0, 0, 3, 0, 3, 3]] },
    { id: 20, image_id: 2, category_id: 2, segmentation: { size: [5, 4], counts: [0, 3, 17] } },
    { id: 21, image_id: 2, category_id: 1, segmentation: { size: [6, 4], counts: [0, 24] } },
    { id: 22, image_id: 2, category_id: 1, segmentation: 'nope' },
    // The same run as id 20, as pycocotools' compressed string: repaints it as class 1.
    { id: 23, image_id: 2, category_id: 1, segmentation: { size: [5, 4], counts: '03a0' } },
  ],
};

beforeAll(async () => {
  mkdirSync(path.join(images, 'sub'), { recursive: true });
  const grey = (w: number, h: number): ReturnType<typeof sharp> =>
    sharp(Buffer.alloc(w * h, 90), { raw: { width: w, height: h, channels: 1 } });
  await grey(10, 6).png().toFile(path.join(images, 'a.png'));
  await grey(4, 5).jpeg().toFile(path.join(images, 'sub/b.jpg'));
  await grey(10, 6).png().toFile(path.join(images, 'c.png'));
  writeFileSync(json, JSON.stringify(fixture));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (m: Uint8Array | Uint16Array, w: number): string[] =>
  Array.from({ length: m.length / w }, (_, y) =>
    Array.from(m.slice(y * w, y * w + w), (v) => (v === 255 ? 'F' : String(v))).join(''),
  );

describe('dentseg data masks', () => {
  it('names every bad entry (file, annotation id, what is wrong), writes the good masks, exit 1', async () => {
    const out = path.join(dir, 'bin');
    const r = runCliSync(['data', 'masks', '--coco', json, '--images', images, '--out', out]);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(r.status).toBe(1);
    const err = r.stderr;
    const line = (re: RegExp): void => expect(err).toMatch(re);
    const j = json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    line(
      new RegExp(
        `E_COCO_INVALID +${j}: annotation id 12 \\(annotations\\[2\\]\\.segmentation\\): every polygon has fewer than 3 points.*a\\.png written without it`,
      ),
    );
    line(
      new RegExp(
        `${j}: annotation id 13 \\(annotations\\[3\\]\\.category_id\\): no category with id 9`,
      ),
    );
    line(
      new RegExp(`${j}: annotation id 14 \\(annotations\\[4\\]\\.image_id\\): no image with id 77`),
    );
    line(
      new RegExp(
        `${j}: annotation id 21 \\(annotations\\[6\\]\\.segmentation\\): RLE size \\[6, 4\\] is not the image's`,
      ),
    );
    line(
      new RegExp(
        `${j}: annotation id 22 \\(annotations\\[7\\]\\.segmentation\\): must be polygons`,
      ),
    );
    line(new RegExp(`${j}: image id 5 \\(images\\[4\\]\\.file_name\\): missing; no mask written`));
    line(/E_MASK_MISMATCH +\S*c\.png: image is 10×6 but \S+ says 9×9/);
    line(/E_FILE_NOT_FOUND +\S*gone\.png: image listed in/);
    expect(err).toContain('8 problems');
    expect(r.stdout).toContain('wrote 2 masks (binary 0/255)');
    // Named {stem}.png (sub/b.jpg → b.png), nothing half-written left behind.
    expect(readdirSync(out).sort()).toEqual(['a.png', 'b.png']);
    const a = await decodeImage(path.join(out, 'a.png'));
    expect([a.width, a.height]).toEqual([10, 6]);
    expect(rows(a.data, 10)).toEqual([
      '0000FFFFFF',
      '0FFFFFFFFF',
      '0FFFFFFFFF',
      '0FFFFFFFFF',
      '0FFFFFFFFF',
      '0000FFFFFF',
    ]);
    const b = await decodeImage(path.join(out, 'b.png'));
    expect(rows(b.data, 4)).toEqual(['F000', 'F000', 'F000', '0000', '0000']);
  });

  it('--multiclass: class indices in category order (later annotation wins) and classes.json', async () => {
    const out = path.join(dir, 'multi');
    const report = await writeCocoMasks({ coco: json, images, out, multiclass: true });
    expect(report.issues).toHaveLength(8);
    expect(report.classes).toEqual(['background', 'tooth', 'caries']);
    expect(JSON.parse(readFileSync(path.join(out, 'classes.json'), 'utf8'))).toEqual([
      'background',
      'tooth',
      'caries',
    ]);
    const a = await decodeImage(path.join(out, 'a.png'));
    expect(rows(a.data, 10)).toEqual([
      '0000222222',
      '0111222222',
      '0111222222',
      '0111222222',
      '0111222222',
      '0000222222',
    ]);
    const b = await decodeImage(path.join(out, 'b.png'));
    expect(rows(b.data, 4)).toEqual(['1000', '1000', '1000', '0000', '0000']);
    expect(readdirSync(out).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('never writes a mask over a PNG image of the same name', async () => {
    const before = readFileSync(path.join(images, 'a.png'));
    const report = await writeCocoMasks({ coco: json, images, out: images });
    expect(report.issues.map((i) => i.message)).toContain(
      'the mask a.png would overwrite the image itself; give --out another folder',
    );
    expect(readFileSync(path.join(images, 'a.png')).equals(before)).toBe(true);
    rmSync(path.join(images, 'b.png'));
  });

  it('a clean file exits 0; a broken JSON is refused naming the file', () => {
    const good = path.join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        ...fixture,
        images: fixture.images.slice(0, 1),
        annotations: fixture.annotations.slice(0, 2),
      }),
    );
    const out = path.join(dir, 'good');
    const r = runCliSync(['data', 'masks', '--coco', good, '--images', images, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('wrote 1 masks');
    expect(existsSync(path.join(out, 'a.png'))).toBe(true);
    expect(existsSync(path.join(out, 'classes.json'))).toBe(false);
    writeFileSync(path.join(dir, 'broken.json'), '{"images": [');
    const bad = runCliSync([
      'data',
      'masks',
      '--coco',
      path.join(dir, 'broken.json'),
      '--out',
      path.join(dir, 'broken'),
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/E_COCO_INVALID: \S*broken\.json: not valid JSON/);
  });

  it('readCoco lists what parseCoco refuses, in file order', () => {
    const r = readCoco(fixture, 'x.json');
    expect(r.problems.map((p) => `${p.kind} ${String(p.id)} ${p.field}`)).toEqual([
      'image 5 images[4].file_name',
      'annotation 12 annotations[2].segmentation',
      'annotation 13 annotations[3].category_id',
      'annotation 14 annotations[4].image_id',
      'annotation 21 annotations[6].segmentation',
      'annotation 22 annotations[7].segmentation',
    ]);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('dentseg data masks on ufba425', () => {
  it('valid split: 43 masks matching masks/ at IoU ≈ 0.986; --multiclass matches masks_fdi', async () => {
    const coco = path.join(UFBA, 'coco/valid_annotations.coco.json');
    const out = path.join(dir, 'ufba');
    const r = runCliSync([
      'data',
      'masks',
      '--coco',
      coco,
      '--images',
      path.join(UFBA, 'images'),
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('wrote 43 masks (binary 0/255)');
    const files = readdirSync(out);
    expect(files).toHaveLength(43);
    const multi = path.join(dir, 'ufba-fdi');
    const report = await writeCocoMasks({
      coco,
      images: path.join(UFBA, 'images'),
      out: multi,
      multiclass: true,
    });
    expect(report.issues).toEqual([]);
    expect(report.classes).toHaveLength(33);
    expect(report.classes.slice(0, 2)).toEqual(['background', 'tooth 11']);
    const ious: number[] = [];
    let agree = 0;
    let fg = 0;
    let notBinary = 0;
    for (const f of files) {
      const mine = await decodeImage(path.join(out, f));
      const truth = await decodeImage(path.join(UFBA, 'masks', f));
      const fdiMine = await decodeImage(path.join(multi, f));
      const fdiTruth = await decodeImage(path.join(UFBA, 'masks_fdi', f));
      let inter = 0;
      let union = 0;
      for (let i = 0; i < mine.data.length; i++) {
        const p = mine.data[i] === 255;
        const t = truth.data[i]! > 127;
        if (!p && mine.data[i] !== 0) notBinary++;
        if (p && t) inter++;
        if (p || t) union++;
        if (fdiTruth.data[i]! > 0) {
          fg++;
          if (fdiMine.data[i] === fdiTruth.data[i]) agree++;
        }
      }
      ious.push(inter / union);
    }
    expect(notBinary).toBe(0);
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    expect(mean).toBeGreaterThan(0.98);
    expect(Math.min(...ious)).toBeGreaterThan(0.97);
    expect(agree / fg).toBeGreaterThan(0.97);
  });
});
