// Corrections back into training, end to end: analyses uploaded to a tiny-model server, one
// mask corrected through the API, findings drawn and rejected, `dentseg data export` run on
// the data dir, the corrected mask found in the export, the rejected finding marked
// rejected and left out of masks_caries, and `dentseg train --init` run one tiny epoch on
// the export (cpu backend, 64², a few steps).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { AnalysisStore, buildApp, type AnalysisRecord } from '../../src/serve/index.js';
import { toothName } from '../../src/numbering/index.js';
import { exportDataset } from '../../src/serve/export-dataset.js';
import { runCliSync } from '../helpers/paths.js';
import { solidGreyJpeg } from '../helpers/solid-jpeg.js';
import { multipart, tempDir, writeTinyModel } from './helpers.js';

const W = 96;
const H = 64;

interface CocoJson {
  images: { id: number; file_name: string; analysis: string }[];
  categories: { id: number; name: string }[];
  annotations: { image_id: number; attributes: { review: string; finding?: string } }[];
  rejected: { image_id: number; attributes: { review: string; finding: string } }[];
}

describe('data export of reviewed analyses, then training on it', () => {
  let modelDir: string;
  let model: LoadedModel;
  let dataDir: string;
  const ids: string[] = [];
  let corrected: Buffer;

  beforeAll(async () => {
    modelDir = tempDir('dentseg-export-model-');
    await writeTinyModel(modelDir);
    model = await loadModel(modelDir);
    dataDir = tempDir('dentseg-export-data-');
    const app = await buildApp({ model, dataDir, webDir: false });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/analyses',
          ...multipart(solidGreyJpeg(W, H), `x${i}.jpg`),
        });
        expect(res.statusCode).toBe(201);
        ids.push(res.json<{ id: string }>().id);
      }
      const [first] = ids as [string];
      // Left half tooth, right half background.
      const px = Buffer.alloc(W * H);
      for (let y = 0; y < H; y++) px.fill(255, y * W, y * W + W / 2);
      corrected = await sharp(px, { raw: { width: W, height: H, channels: 1 } })
        .png()
        .toBuffer();
      const form = multipart(corrected, 'mask.png', 'file', 'image/png');
      const put = await app.inject({
        method: 'PUT',
        url: `/api/v1/analyses/${first}/masks/${model.meta.name}`,
        ...form,
      });
      expect(put.statusCode).toBe(200);
      const draw = (outline: number[][]) =>
        app.inject({
          method: 'POST',
          url: `/api/v1/analyses/${first}/findings`,
          payload: { outline, type: 'caries', tooth: 36 },
        });
      const square = (x: number) => [
        [x, 10],
        [x + 10, 10],
        [x + 10, 20],
        [x, 20],
      ];
      expect((await draw(square(10))).statusCode).toBe(201);
      const second = await draw(square(60));
      const drawn = second.json<AnalysisRecord>().findings.at(-1)?.id as string;
      const reject = await app.inject({
        method: 'PATCH',
        url: `/api/v1/analyses/${first}/findings/${drawn}`,
        payload: { review: 'rejected' },
      });
      expect(reject.statusCode).toBe(200);
      const review = await app.inject({
        method: 'POST',
        url: `/api/v1/analyses/${first}/review`,
        payload: { note: 'ok' },
      });
      expect(review.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
  afterAll(() => model.dispose());

  it('exports the corrected mask, the confirmed caries, and marks the rejected finding', async () => {
    const out = tempDir('dentseg-export-out-');
    const r = runCliSync(['data', 'export', '--data-dir', dataDir, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/exported 3 analyses .*1 with a corrected mask.*1 rejected/);
    const [first] = ids as [string];
    for (const dir of ['images', 'masks_teeth', 'masks_caries']) {
      expect(readdirSync(path.join(out, dir)).sort(), dir).toEqual(
        ids.map((id) => `${id}.png`).sort(),
      );
    }
    const exported = await sharp(path.join(out, 'masks_teeth', `${first}.png`))
      .extractChannel(0)
      .raw()
      .toBuffer();
    const want = await sharp(corrected).extractChannel(0).raw().toBuffer();
    expect(exported.equals(want)).toBe(true);
    // The stored model mask is untouched beside it.
    expect(existsSync(path.join(dataDir, 'analyses', first, 'mask.png'))).toBe(true);
    const caries = await sharp(path.join(out, 'masks_caries', `${first}.png`))
      .extractChannel(0)
      .raw()
      .toBuffer();
    const at = (x: number, y: number): number => caries[y * W + x] as number;
    expect([at(15, 15), at(65, 15), at(40, 40)]).toEqual([255, 0, 0]);
    expect(caries.filter((v) => v === 255).length).toBe(100);
    const coco = JSON.parse(readFileSync(path.join(out, 'coco.json'), 'utf8')) as CocoJson;
    expect(coco.images).toHaveLength(3);
    const img = coco.images.find((i) => i.analysis === first);
    expect(coco.rejected).toEqual([
      expect.objectContaining({
        image_id: img?.id,
        attributes: expect.objectContaining({ review: 'rejected', finding: 'a2' }),
      }),
    ]);
    expect(
      coco.annotations.filter((a) => a.image_id === img?.id).map((a) => a.attributes.review),
    ).toContain('added');
    expect(coco.annotations.every((a) => a.attributes.review !== 'rejected')).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'classes.json'), 'utf8'))).toEqual([
      'background',
      'teeth',
    ]);

    // Fine-tune the tiny model on the export: one epoch, a few steps.
    const run = path.join(tempDir('dentseg-export-run-'), 'run');
    const train = runCliSync([
      '--backend',
      'cpu',
      'train',
      ...['--images', path.join(out, 'images'), '--masks', path.join(out, 'masks_teeth')],
      ...['--classes', path.join(out, 'classes.json'), '--init', modelDir, '--out', run],
      ...['--size', '64', '--epochs', '1', '--batch', '1', '--val-fraction', '0.34'],
      ...['--no-augment', '--workers', '0'],
    ]);
    expect(train.status, train.stderr).toBe(0);
    expect(existsSync(path.join(run, 'last', 'dentseg.json'))).toBe(true);
  }, 240_000);

  it('filters reviewed-only and --since; refuses a data dir without a store', async () => {
    const reviewed = await exportDataset({
      dataDir,
      out: tempDir('dentseg-export-out-'),
      reviewedOnly: true,
    });
    expect(reviewed.ids).toEqual([ids[0]]);
    const future = await exportDataset({ dataDir, out: tempDir(), since: '2999-01-01' });
    expect(future.ids).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await exportDataset({ dataDir, out: tempDir(), since: today })).ids).toHaveLength(3);
    await expect(
      exportDataset({ dataDir, out: tempDir(), since: '1.1.2020' }),
    ).rejects.toMatchObject({
      code: 'E_USAGE',
    });
    const missing = runCliSync([
      'data',
      'export',
      '--data-dir',
      path.join(dataDir, 'nope'),
      '--out',
      tempDir(),
    ]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/E_DATA_DIR_INVALID/);
    await expect(exportDataset({ dataDir: tempDir(), out: tempDir() })).rejects.toMatchObject({
      code: 'E_DATA_DIR_INVALID',
    });
  });
});

describe('data export of a numbering model', () => {
  it('writes FDI class indices with the renumbering applied; missing teeth as background', async () => {
    const dataDir = tempDir('dentseg-export-fdi-');
    const store = AnalysisStore.open(dataDir);
    const w = 30;
    const h = 10;
    // Model classes 1, 2, 3 = teeth 11, 12, 21, in three vertical bands.
    const px = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++) {
      px.fill(1, y * w, y * w + 10);
      px.fill(2, y * w + 10, y * w + 20);
      px.fill(3, y * w + 20, y * w + 30);
    }
    const png = (data: Buffer) =>
      sharp(data, { raw: { width: w, height: h, channels: 1 } })
        .png()
        .toBuffer();
    const tooth = (fdi: number, original?: number) => ({
      fdi,
      name: toothName(fdi),
      areaPx: 100,
      bbox: [0, 0, 10, 10] as [number, number, number, number],
      centroid: [5, 5] as [number, number],
      polygon: [] as [number, number][],
      score: 1,
      review: original === undefined ? ('suggested' as const) : ('edited' as const),
      ...(original === undefined ? {} : { original: { fdi: original } }),
    });
    const record: AnalysisRecord = {
      id: '00000000-0000-4000-8000-000000000001',
      created: new Date().toISOString(),
      filename: 'p.png',
      user: null,
      image: { width: w, height: h, format: 'png' },
      model: { name: 'fdi', version: '1', engine: 'tfjs', task: 'multiclass' },
      classes: ['background', 'tooth 11', 'tooth 12', 'tooth 21'],
      threshold: 0,
      findings: [],
      // The dentist swapped 11 and 12 and marked 21 missing.
      teeth: [tooth(11, 12), tooth(12, 11)],
      missing: [21],
      elapsedMs: 1,
      timings: {},
      reviewed: null,
      corrections: { masks: [] },
    };
    await store.save(record, {
      'original.png': await png(Buffer.alloc(w * h, 99)),
      'mask.png': await png(px),
      'probability.png': await png(Buffer.alloc(w * h)),
    });
    await store.close();
    const out = tempDir();
    const report = await exportDataset({ dataDir, out });
    expect(report.teethMasks).toBe('fdi');
    expect(report.classes).toHaveLength(33);
    expect(report.classes.slice(0, 3)).toEqual(['background', 'tooth 11', 'tooth 12']);
    const mask = await sharp(path.join(out, 'masks_teeth', `${record.id}.png`))
      .extractChannel(0)
      .raw()
      .toBuffer();
    // Export classes: tooth 11 → 1, tooth 12 → 2; the model's 11 band is now 12 and back.
    expect([mask[5], mask[15], mask[25]]).toEqual([2, 1, 0]);
  });
});
