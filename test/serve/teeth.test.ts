// Tooth numbering through the HTTP API (app.inject()): an analysis of a model whose classes
// are FDI numbers carries `teeth` and `missing` (stored, listed, returned again after a
// restart) and a chart.png; a binary model's analysis has empty ones and no chart; records
// stored before numbering existed are still served.
import { mkdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { FDI_NUMBERS, toothName } from '../../src/numbering/index.js';
import { buildApp } from '../../src/serve/index.js';
import type { AnalysisJson } from '../../src/serve/wire.js';
import { writeTinyModel as writeTinyFdi } from '../helpers/tiny-model.js';
import { HAS_SAMPLE, SAMPLE_XRAY, multipart, tempDir, writeTinyModel } from './helpers.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(!HAS_SAMPLE)('numbered teeth in the API (inject)', () => {
  let fdi: LoadedModel;
  let binary: LoadedModel;
  let dataDir: string;
  let app: FastifyInstance;
  let xray: Buffer;
  let created: AnalysisJson;

  beforeAll(async () => {
    const fdiDir = tempDir('dentseg-tiny-fdi-');
    await writeTinyFdi(fdiDir, {
      classes: 33,
      seed: 7,
      classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
    });
    const binDir = tempDir('dentseg-tiny-bin-');
    await writeTinyModel(binDir);
    [fdi, binary] = await Promise.all([loadModel(fdiDir), loadModel(binDir)]);
    dataDir = tempDir();
    app = await buildApp({ model: fdi, dataDir, webDir: false });
    // Small enough for the 2-core test machine; the numbering runs at the network's size.
    xray = await sharp(readFileSync(SAMPLE_XRAY)).resize({ width: 600 }).png().toBuffer();
  });
  afterAll(async () => {
    await app.close();
    fdi.dispose();
    binary.dispose();
  });

  it('a numbering model: every FDI number once, in teeth or in missing', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(xray, 'pano.png', 'file', 'image/png'),
    });
    expect(res.statusCode).toBe(201);
    created = res.json<AnalysisJson>();
    expect(created.model.task).toBe('multiclass');
    const found = created.teeth.map((t) => t.fdi);
    expect(found).toEqual([...found].sort((a, b) => a - b));
    expect(created.missing).toEqual([...created.missing].sort((a, b) => a - b));
    expect([...found, ...created.missing].sort((a, b) => a - b)).toEqual([...FDI_NUMBERS]);
    for (const t of created.teeth) {
      expect(t.name).toBe(toothName(t.fdi));
      expect(t.areaPx).toBeGreaterThan(0);
      expect(t.bbox).toHaveLength(4);
      expect(t.centroid).toHaveLength(2);
      expect(t.polygon.length).toBeGreaterThan(0);
      expect(t.score).toBeGreaterThanOrEqual(0);
      expect(t.score).toBeLessThanOrEqual(1);
    }
    expect(created.links.chart).toBe(`${created.links.self}/chart.png`);
  });

  it('GET returns the same teeth and missing; the chart is a PNG at the X-ray size', async () => {
    const one = await app.inject({ url: created.links.self });
    expect(one.statusCode).toBe(200);
    const got = one.json<AnalysisJson>();
    expect(got.teeth).toEqual(created.teeth);
    expect(got.missing).toEqual(created.missing);
    expect(got.links.chart).toBe(created.links.chart);
    const list = await app.inject({ url: '/api/v1/analyses' });
    expect(list.json<{ items: AnalysisJson[] }>().items[0]?.links.chart).toBe(created.links.chart);

    const chart = await app.inject({ url: created.links.chart as string });
    expect(chart.statusCode).toBe(200);
    expect(chart.headers['content-type']).toBe('image/png');
    expect(chart.rawPayload.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const meta = await sharp(chart.rawPayload).metadata();
    expect([meta.width, meta.height]).toEqual([created.image.width, created.image.height]);
    expect(meta.channels).toBe(3);
    // Rendered once on first request, then served from the store: same bytes.
    const again = await app.inject({ url: created.links.chart as string });
    expect(again.rawPayload.equals(chart.rawPayload)).toBe(true);
    expect(readFileSync(path.join(dataDir, 'analyses', created.id, 'chart.png'))).toEqual(
      chart.rawPayload,
    );
  });

  it('documents teeth and missing (always present) and chart.png in OpenAPI', async () => {
    const doc = (await app.inject({ url: '/api/docs' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const post = doc.paths['/api/v1/analyses']?.post as {
      responses: Record<string, { content: Record<string, { schema: Record<string, unknown> }> }>;
    };
    const schema = post.responses['201']?.content['application/json']?.schema as {
      required: string[];
      properties: Record<string, { items: Record<string, unknown> }>;
    };
    expect(schema.required).toEqual(expect.arrayContaining(['teeth', 'missing']));
    expect(schema.properties.teeth?.items).toMatchObject({
      required: ['fdi', 'name', 'areaPx', 'bbox', 'centroid', 'polygon', 'score', 'review'],
    });
    expect(schema.properties.missing?.items).toMatchObject({ type: 'integer' });
    expect(JSON.stringify(doc.paths['/api/v1/analyses/{id}/{file}'])).toContain('chart.png');
  });

  it('keeps teeth and missing across a restart; serves records stored before numbering', async () => {
    await app.close();
    // A row as an older dentseg stored it: no teeth, no missing.
    const oldId = randomUUID();
    const old = {
      id: oldId,
      created: new Date(0).toISOString(),
      filename: 'old.png',
      image: { width: 4, height: 2, format: 'png' },
      model: { name: 'm', version: '1', engine: 'tfjs', task: 'binary' },
      classes: ['teeth'],
      threshold: 0.5,
      findings: [],
      elapsedMs: 1,
      timings: {},
    };
    const db = new Database(path.join(dataDir, 'dentseg.sqlite'));
    db.prepare('INSERT INTO analyses (id, created, record) VALUES (?, ?, ?)').run(
      oldId,
      old.created,
      JSON.stringify(old),
    );
    db.close();
    mkdirSync(path.join(dataDir, 'analyses', oldId));
    app = await buildApp({ model: fdi, dataDir, webDir: false });
    const got = (await app.inject({ url: created.links.self })).json<AnalysisJson>();
    expect([got.teeth, got.missing]).toEqual([created.teeth, created.missing]);
    const res = await app.inject({ url: `/api/v1/analyses/${oldId}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: oldId, teeth: [], missing: [] });
    expect(res.json<AnalysisJson>().links.chart).toBeUndefined();
  });

  it('a binary model: teeth and missing empty, no chart (404)', async () => {
    const binApp = await buildApp({ model: binary, dataDir: tempDir(), webDir: false });
    try {
      const res = await binApp.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(xray, 'pano.png', 'file', 'image/png'),
      });
      expect(res.statusCode).toBe(201);
      const a = res.json<AnalysisJson>();
      expect(a.model.task).toBe('binary');
      expect(a.teeth).toEqual([]);
      expect(a.missing).toEqual([]);
      expect(a.links.chart).toBeUndefined();
      const chart = await binApp.inject({ url: `${a.links.self}/chart.png` });
      expect(chart.statusCode).toBe(404);
      expect(chart.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
      expect(chart.json<{ error: { message: string } }>().error.message).toMatch(
        /does not number teeth/,
      );
    } finally {
      await binApp.close();
    }
  });
});
