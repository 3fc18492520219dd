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
import { buildApp, type AnalysisRecord } from '../../src/serve/index.js';
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
