// `serve --queue`: an upload is stored, put on a real BullMQ queue (Redis) and answered 202
// with its Location; a worker (in this process here) analyses it and GET reports queued →
// running → done, or failed with the error. Records in a real PostgreSQL.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/serve/index.js';
import { RedisJobQueue } from '../../src/serve/jobs.js';
import { PgStore } from '../../src/serve/store-pg.js';
import { startWorker, type RunningWorker } from '../../src/serve/worker.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { initEngine } from '../../src/engine/index.js';
import { PostgresService, RedisService, servicesMissing } from '../helpers/services.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { solidGreyJpeg } from '../helpers/solid-jpeg.js';
import { multipart, tempDir } from './helpers.js';
import { until } from './queue-helpers.js';
import {
  H,
  W,
  fixedModel,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from '../infer/set-fixtures.js';

const missing = servicesMissing();
if (missing) console.warn(`queue tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)('serve --queue (BullMQ on Redis, PostgreSQL)', () => {
  let redis: RedisService;
  let postgres: PostgresService;
  let model: LoadedModel;
  let store: PgStore;
  let jobs: RedisJobQueue;
  let app: FastifyInstance;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([RedisService.start(), PostgresService.start()]);
    await initEngine();
    const dir = tempDir('dentseg-tiny-');
    await writeTinyModel(dir, { seed: 5 });
    model = await loadModel(dir);
    const dataDir = tempDir();
    store = await PgStore.open(postgres.url, dataDir);
    jobs = new RedisJobQueue(redis.url);
    app = await buildApp({ model, dataDir, store, jobs, webDir: false });
  });
  afterAll(async () => {
    await worker?.close();
    await app?.close();
    await jobs?.close();
    await store?.close();
    model?.dispose();
    await Promise.all([redis?.dispose(), postgres?.dispose()]);
  });

  it('answers 202 with a Location, then queued → done once a worker runs', async () => {
    const jpeg = solidGreyJpeg(96, 64);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(jpeg, 'a.jpg'),
    });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ id: string; status: string }>();
    expect(body).toMatchObject({ status: 'queued', filename: 'a.jpg', error: null });
    expect(res.headers.location).toBe(`/api/v1/analyses/${body.id}`);
    // No worker yet: it waits.
    expect((await app.inject({ url: res.headers.location as string })).json()).toMatchObject({
      id: body.id,
      status: 'queued',
    });
    expect((await jobs.counts()).waiting).toBe(1);
    const health = await app.inject({ url: '/api/v1/health' });
    expect(health.json()).toMatchObject({ queue: { running: 0, waiting: 1 } });
    // Adding the same id again is a no-op (the job id is the analysis id).
    await jobs.add(body.id);
    expect((await jobs.counts()).waiting).toBe(1);

    worker = startWorker({ queueUrl: redis.url, store, model });
    const done = await until(app, res.headers.location as string, (b) => b.status === 'done');
    expect(done).toMatchObject({
      id: body.id,
      status: 'done',
      filename: 'a.jpg',
      image: { width: 96, height: 64, format: 'jpeg' },
      model: { name: 'tiny-teeth' },
      // A worker's record carries the review fields as an in-process one does.
      reviewed: null,
      corrections: { masks: [] },
    });
    (done.findings as { id: string; review: string }[]).forEach((f, i) => {
      expect(f).toMatchObject({ id: `f${i + 1}`, review: 'suggested' });
    });
    const mask = await app.inject({ url: `/api/v1/analyses/${body.id}/mask.png` });
    expect(mask.statusCode).toBe(200);
    const list = await app.inject({ url: '/api/v1/analyses' });
    expect(list.json()).toMatchObject({ total: 1, items: [{ id: body.id }] });
  });

  it('reports failed with the error when the worker cannot decode the upload', async () => {
    // A PNG whose header is fine (it passes the API's checks) and whose pixels are cut off.
    const raw = Buffer.alloc(256 * 256 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
    const whole = await sharp(raw, { raw: { width: 256, height: 256, channels: 3 } })
      .png()
      .toBuffer();
    const png = whole.subarray(0, Math.floor(whole.length / 2));
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(png, 'cut.png'),
    });
    expect(res.statusCode).toBe(202);
    const failed = await until(app, res.headers.location as string, (b) => b.status === 'failed');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'E_IMAGE_DECODE' } });
  });

  it('refuses what the API can tell at once: not an image (415), nothing queued', async () => {
    const before = await jobs.counts();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(Buffer.from('not an image at all'), 'x.txt'),
    });
    expect(res.statusCode).toBe(415);
    expect(await jobs.counts()).toEqual(before);
  });

  it("limits libvips to the worker's threads (DENTSEG_THREADS), as ORT is", async () => {
    // Two one-thread workers on two cores oversubscribe them when sharp keeps its default
    // of one libvips thread per core (its default except on glibc without jemalloc, where
    // it is 1 already: set a multi-thread start here so that the test means something).
    const before = sharp.concurrency();
    sharp.concurrency(4);
    const env = process.env.DENTSEG_THREADS;
    process.env.DENTSEG_THREADS = '1';
    const w = startWorker({ queueUrl: redis.url, store, model });
    try {
      expect(sharp.concurrency()).toBe(1);
    } finally {
      await w.close();
      if (env === undefined) delete process.env.DENTSEG_THREADS;
      else process.env.DENTSEG_THREADS = env;
      sharp.concurrency(before);
    }
  });

  it("a worker with a model set stores each model's mask and lists the set", async () => {
    // The first worker stops taking jobs: this one, with a set, runs the next upload.
    await worker?.close();
    worker = startWorker({
      queueUrl: redis.url,
      store,
      model: [
        fixedModel(lesionMeta(), lesionProbs(), '/fixed-caries'),
        fixedModel(numberingMeta(), numberingProbs(), '/fixed-fdi'),
      ],
    });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(solidGreyJpeg(W, H), 'set.jpg'),
    });
    expect(res.statusCode).toBe(202);
    const done = await until(app, res.headers.location as string, (b) => b.status === 'done');
    expect((done.models as { name: string; mask: string }[]).map((m) => [m.name, m.mask])).toEqual([
      ['fixed-fdi', 'mask.png'],
      ['fixed-caries', 'caries.png'],
    ]);
    const caries = await app.inject({ url: `/api/v1/analyses/${done.id as string}/caries.png` });
    expect(caries.statusCode).toBe(200);
    const px = await sharp(caries.rawPayload).extractChannel(0).raw().toBuffer();
    // Four 6×6 lesion squares, 0/255 (stored whatever the input check said of a grey JPEG).
    expect(px.filter((v) => v === 255).length).toBe(4 * 36);
  });
});
