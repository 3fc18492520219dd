// The HTTP API through app.inject(): a real full-size X-ray in, the analysis and its images
// out; bad uploads get the documented codes; analyses survive a restart.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import type { AnalysisJson } from '../../src/serve/wire.js';
import { dicomFromImage } from '../infer/helpers.js';
import {
  HAS_SAMPLE,
  SAMPLE_XRAY,
  multipart,
  tempDir,
  testModel,
  writeTinyModel,
} from './helpers.js';

describe.skipIf(!HAS_SAMPLE)('HTTP API (inject)', () => {
  let model: LoadedModel;
  let real = false;
  let dataDir: string;
  let app: FastifyInstance;
  let xray: Buffer;
  let created: AnalysisJson;

  beforeAll(async () => {
    ({ model, real } = await testModel());
    dataDir = tempDir();
    app = await buildApp({ model, dataDir, webDir: false });
    xray = readFileSync(SAMPLE_XRAY);
  });
  afterAll(async () => {
    await app.close();
    model.dispose();
  });

  it('analyses a real full-size X-ray: 201 with findings and links', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(xray, 'abdi-1.png', 'file', 'image/png'),
    });
    expect(res.statusCode).toBe(201);
    created = res.json<AnalysisJson>();
    const meta = await sharp(xray).metadata();
    expect(created.image).toEqual({ width: meta.width, height: meta.height, format: 'png' });
    expect(created.filename).toBe('abdi-1.png');
    expect(created.model.task).toBe('binary');
    expect(res.headers.location).toBe(created.links.self);
    expect(Array.isArray(created.findings)).toBe(true);
    for (const f of created.findings) {
      expect(f.areaPx).toBeGreaterThan(0);
      expect(f.bbox).toHaveLength(4);
      expect(f.polygon.length).toBeGreaterThanOrEqual(3);
    }
    if (real) {
      // The trained model finds teeth on this X-ray: a few % of the image, several regions.
      const total = created.findings.reduce((s, f) => s + f.areaPct, 0);
      expect(created.findings.length).toBeGreaterThan(0);
      expect(total).toBeGreaterThan(2);
      expect(total).toBeLessThan(40);
    }
  });

  it('serves the analysis, its four images at the original size, and lists it', async () => {
    const one = await app.inject({ url: created.links.self });
    expect(one.statusCode).toBe(200);
    expect(one.json<AnalysisJson>().findings).toEqual(created.findings);
    for (const key of ['original', 'mask', 'overlay', 'probability'] as const) {
      const img = await app.inject({ url: created.links[key] });
      expect(img.statusCode, key).toBe(200);
      expect(img.headers['content-type']).toBe('image/png');
      const meta = await sharp(img.rawPayload).metadata();
      expect([meta.width, meta.height], key).toEqual([created.image.width, created.image.height]);
    }
    // The overlay is rendered on first request, then served from disk: same bytes, RGB.
    const overlay1 = (await app.inject({ url: created.links.overlay })).rawPayload;
    const overlay2 = (await app.inject({ url: created.links.overlay })).rawPayload;
    expect(overlay2.equals(overlay1)).toBe(true);
    expect((await sharp(overlay1).metadata()).channels).toBe(3);
    const mask = await sharp((await app.inject({ url: created.links.mask })).rawPayload)
      .raw()
      .toBuffer();
    expect(new Set(mask).size).toBeLessThanOrEqual(2); // 0/255 only
    const list = await app.inject({ url: '/api/v1/analyses?limit=5' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({
      total: 1,
      limit: 5,
      offset: 0,
      items: [{ id: created.id, findingsCount: created.findings.length }],
    });
  });

  it('reports health, the model card and the OpenAPI document', async () => {
    const health = await app.inject({ url: '/api/v1/health' });
    expect(health.json()).toMatchObject({ status: 'ok', analyses: 1, queue: { running: 0 } });
    const card = await app.inject({ url: '/api/v1/model' });
    expect(card.json()).toMatchObject({ name: model.meta.name, task: 'binary' });
    expect(typeof card.json<{ licence: string }>().licence).toBe('string');
    const docs = await app.inject({ url: '/api/docs' });
    const doc = docs.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/analyses', '/api/v1/analyses/{id}', '/api/v1/model']),
    );
    expect(JSON.stringify(doc.paths['/api/v1/analyses']?.post)).toContain('multipart/form-data');
    expect(Object.keys(doc.paths['/api/v1/analyses/{id}'] ?? {})).toEqual(
      expect.arrayContaining(['get', 'delete']),
    );
  });

  it('refuses bad uploads with the documented status and code', async () => {
    const post = (body: { payload: Buffer; headers: Record<string, string> }) =>
      app.inject({ method: 'POST', url: '/api/v1/analyses', ...body });
    const text = await post(multipart(Buffer.from('patient notes, not an image\n'), 'x.png'));
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ error: { code: 'E_IMAGE_FORMAT' } });
    expect(text.json<{ error: { message: string } }>().error.message).toMatch(/X-ray format/);

    const truncated = await post(multipart(xray.subarray(0, 4000), 'cut.png', 'file', 'image/png'));
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json()).toMatchObject({ error: { code: 'E_IMAGE_DECODE' } });

    const empty = await post(multipart(Buffer.alloc(0), 'empty.png'));
    expect(empty.statusCode).toBe(400);

    const noFile = await post(multipart(xray, 'abdi-1.png', 'image'));
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json()).toMatchObject({ error: { code: 'E_USAGE' } });

    const notMultipart = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      payload: { file: 'x' },
    });
    expect(notMultipart.statusCode).toBe(415);
    expect(notMultipart.json()).toMatchObject({ error: { code: 'E_IMAGE_FORMAT' } });

    const unknown = await app.inject({
      url: '/api/v1/analyses/00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
    const badId = await app.inject({ url: '/api/v1/analyses/../../etc/passwd' });
    expect([400, 404]).toContain(badId.statusCode);
    const badPage = await app.inject({ url: '/api/v1/analyses?limit=1000' });
    expect(badPage.statusCode).toBe(400);
    expect(badPage.json()).toMatchObject({ error: { code: 'E_USAGE' } });
  });

  it('refuses oversize uploads (413) and decompression bombs by pixel count (413)', async () => {
    const small = await buildApp({
      model,
      dataDir: tempDir(),
      webDir: false,
      maxUploadBytes: 100_000,
      maxPixels: 1_000_000,
    });
    try {
      const big = await small.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(xray, 'abdi-1.png', 'file', 'image/png'),
      });
      expect(big.statusCode).toBe(413);
      expect(big.json()).toMatchObject({ error: { code: 'E_TOO_LARGE' } });
      // 4000 × 4000 pixels of black compress to a few kB: refused from the header alone.
      const bomb = await sharp({
        create: { width: 4000, height: 4000, channels: 3, background: '#000' },
      })
        .greyscale()
        .png({ compressionLevel: 9 })
        .toBuffer();
      expect(bomb.length).toBeLessThan(100_000);
      const res = await small.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(bomb, 'bomb.png', 'file', 'image/png'),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(/16\.0 MP/);
    } finally {
      await small.close();
    }
  });

  it('accepts JPEG and DICOM by content (any name), and stores no DICOM patient tags', async () => {
    const small = await sharp(xray).resize({ width: 640 }).png().toBuffer();
    const jpeg = await sharp(small).jpeg({ quality: 90 }).toBuffer();
    const j = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(jpeg, 'scan.bin'),
    });
    expect(j.statusCode).toBe(201);
    expect(j.json<AnalysisJson>().image).toMatchObject({ format: 'jpeg', width: 640 });
    const file = path.join(tempDir(), 'small.png');
    writeFileSync(file, small);
    const { dicom, width, height } = await dicomFromImage(file);
    const d = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(dicom, 'Doe_Jane.dcm', 'file', 'application/dicom'),
    });
    expect(d.statusCode).toBe(201);
    const analysis = d.json<AnalysisJson>();
    expect(analysis.image).toEqual({ width, height, format: 'dicom' });
    expect(d.body).not.toContain('Doe^Jane');
    expect(d.body).not.toContain('PID-12345');
    for (const id of [j.json<AnalysisJson>().id, analysis.id]) {
      expect(
        (await app.inject({ method: 'DELETE', url: `/api/v1/analyses/${id}` })).statusCode,
      ).toBe(204);
    }
  });

  it('multi-class model: class-index mask and winning-class probability image', async () => {
    const dir = tempDir('dentseg-tiny-mc-');
    await writeTinyModel(dir, 4);
    const mc = await loadModel(dir);
    const mcApp = await buildApp({ model: mc, dataDir: tempDir(), webDir: false });
    try {
      const small = await sharp(xray).resize({ width: 400 }).png().toBuffer();
      const res = await mcApp.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(small, 'mc.png', 'file', 'image/png'),
      });
      expect(res.statusCode).toBe(201);
      const a = res.json<AnalysisJson & { classes: string[] }>();
      expect(a.model.task).toBe('multiclass');
      expect(a.classes).toHaveLength(4);
      expect(a.threshold).toBe(0);
      const mask = await sharp((await mcApp.inject({ url: a.links.mask })).rawPayload)
        .raw()
        .toBuffer();
      const prob = await sharp((await mcApp.inject({ url: a.links.probability })).rawPayload)
        .raw()
        .toBuffer();
      expect(mask.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(3);
      // The arg-max class of 4 has probability ≥ 1/4 everywhere.
      expect(prob.reduce((m, v) => Math.min(m, v), 255)).toBeGreaterThanOrEqual(
        Math.floor(255 / 4),
      );
      for (const f of a.findings) expect(f.class).toMatch(/^tooth \d$/);
    } finally {
      await mcApp.close();
      mc.dispose();
    }
  });

  it('deletes an analysis (204, then 404)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(xray, 'second.png', 'file', 'image/png'),
    });
    const { id, links } = res.json<AnalysisJson>();
    expect((await app.inject({ method: 'DELETE', url: links.self })).statusCode).toBe(204);
    expect((await app.inject({ url: links.self })).statusCode).toBe(404);
    expect((await app.inject({ url: links.mask })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/analyses/${id}` })).statusCode).toBe(
      404,
    );
  });

  it('keeps analyses across a restart on the same data dir', async () => {
    await app.close();
    app = await buildApp({ model, dataDir, webDir: false });
    const list = await app.inject({ url: '/api/v1/analyses' });
    expect(list.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([created.id]);
    const overlay = await app.inject({ url: created.links.overlay });
    expect(overlay.statusCode).toBe(200);
    expect((await app.inject({ url: created.links.self })).json<AnalysisJson>().findings).toEqual(
      created.findings,
    );
  });
});
