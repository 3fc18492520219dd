// What must survive a crash with a shared queue, on real Redis and PostgreSQL: a worker
// killed with SIGKILL mid-analysis (BullMQ finds the job stalled and another worker runs
// it; it is stored once), Redis restarted while jobs wait (append-only file: none lost),
// and PostgreSQL stopped (the API answers 503 with Retry-After, then recovers).
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/serve/index.js';
import { RedisJobQueue } from '../../src/serve/jobs.js';
import { PgStore } from '../../src/serve/store-pg.js';
import { startWorker } from '../../src/serve/worker.js';
import { requeueUnfinished } from '../../src/serve/sweep.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { initEngine } from '../../src/engine/index.js';
import { spawnWorker, type SpawnedWorker } from '../helpers/paths.js';
import { PostgresService, RedisService, servicesMissing } from '../helpers/services.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { multipart, tempDir } from './helpers.js';
import { until, untilLogged } from './queue-helpers.js';

const missing = servicesMissing();
if (missing) console.warn(`queue reliability tests skipped: ${missing}`);

/** A noisy PNG: slow enough to decode and encode that a kill lands mid-analysis. */
async function noisyPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919 + (i >> 9)) % 251;
  return sharp(raw, { raw: { width, height, channels: 1 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

describe.skipIf(missing !== undefined)('queue reliability (real Redis and PostgreSQL)', () => {
  let redis: RedisService;
  let postgres: PostgresService;
  let modelDir: string;
  let model: LoadedModel;
  let dataDir: string;
  let store: PgStore;
  let jobs: RedisJobQueue;
  let app: FastifyInstance;
  const spawned: ChildProcess[] = [];

  function worker(): SpawnedWorker {
    const w = spawnWorker([
      ...['--queue', redis.url, '--db', postgres.url, '--data-dir', dataDir, '--model', modelDir],
      // Short locks: a dead worker's job is back on the queue within seconds.
      ...['--lock-duration', '1500', '--stalled-interval', '700'],
    ]);
    spawned.push(w.proc);
    return w;
  }

  async function upload(png: Buffer, name: string): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(png, name),
    });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ id: string }>().id;
  }

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([RedisService.start(), PostgresService.start()]);
    await initEngine();
    modelDir = tempDir('dentseg-tiny-');
    await writeTinyModel(modelDir, { seed: 5, size: 256 });
    model = await loadModel(modelDir);
    dataDir = tempDir();
    store = await PgStore.open(postgres.url, dataDir);
    jobs = new RedisJobQueue(redis.url);
    app = await buildApp({ model, dataDir, store, jobs, webDir: false });
  });
  // A test that fails half-way must not leave its worker taking the next test's jobs.
  afterEach(async () => {
    const alive = spawned.filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of alive) p.kill('SIGKILL');
    await Promise.all(alive.map((p) => new Promise((r) => p.once('exit', r))));
  });
  afterAll(async () => {
    for (const p of spawned) if (p.exitCode === null) p.kill('SIGKILL');
    await app?.close();
    await jobs?.close();
    await store?.close();
    model?.dispose();
    await Promise.all([redis?.dispose(), postgres?.dispose()]);
  });

  it('a worker killed with SIGKILL mid-analysis: another worker runs the job, stored once', async () => {
    const a = worker();
    await a.ready;
    const id = await upload(await noisyPng(3000, 1500), 'big.png');
    // Kill it the moment it has started this analysis.
    const end = Date.now() + 30_000;
    while ((await store.status(id))?.status !== 'running') {
      if (Date.now() > end) throw new Error(`never running: ${a.log()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    a.proc.kill('SIGKILL');
    await new Promise((r) => a.proc.once('exit', r));
    expect(await store.get(id)).toBeUndefined(); // it did not get to store it

    const b = worker();
    await b.ready;
    const done = await until(app, `/api/v1/analyses/${id}`, (x) => x.status === 'done', 60_000);
    expect(done).toMatchObject({ id, filename: 'big.png', image: { width: 3000, height: 1500 } });
    await untilLogged(b.log, `${id} done`);
    expect(a.log()).not.toContain(`${id} done`);
    // Exactly once: one row, one folder, and the upload removed.
    const c = new pg.Client({ connectionString: postgres.url });
    await c.connect();
    const rows = await c.query('SELECT id FROM analyses WHERE id = $1', [id]);
    await c.end();
    expect(rows.rowCount).toBe(1);
    expect(readdirSync(path.join(dataDir, 'analyses'))).toEqual([id]);
    expect(readdirSync(path.join(dataDir, 'uploads')).filter((f) => !f.startsWith('.'))).toEqual(
      [],
    );
    b.proc.kill('SIGTERM');
    await new Promise((r) => b.proc.once('exit', r));
  });

  it('Redis restarted while jobs wait: no job lost (append-only file)', async () => {
    const small = await noisyPng(120, 80);
    const ids = [
      await upload(small, '1.png'),
      await upload(small, '2.png'),
      await upload(small, '3.png'),
    ];
    expect((await jobs.counts()).waiting).toBe(3);
    await redis.restart();
    // The API's connection comes back by itself.
    const late = await upload(small, '4.png');
    ids.push(late);
    const w = startWorker({ queueUrl: redis.url, store, model });
    try {
      for (const id of ids) {
        await until(app, `/api/v1/analyses/${id}`, (x) => x.status === 'done');
      }
      expect(await store.count()).toBe(1 + ids.length);
    } finally {
      await w.close();
    }
  });

  it('Redis that lost its data: the sweep puts the unfinished jobs back on the queue', async () => {
    const bare = await RedisService.start({ appendOnly: false });
    const lossy = new RedisJobQueue(bare.url);
    const app2 = await buildApp({ model, dataDir, store, jobs: lossy, webDir: false });
    try {
      const small = await noisyPng(100, 60);
      const ids: string[] = [];
      for (const name of ['l1.png', 'l2.png']) {
        const res = await app2.inject({
          method: 'POST',
          url: '/api/v1/analyses',
          ...multipart(small, name),
        });
        ids.push(res.json<{ id: string }>().id);
      }
      await bare.restart(); // no append-only file: both jobs are gone
      expect((await lossy.counts()).waiting).toBe(0);
      expect(await requeueUnfinished(store, lossy, 0)).toBe(2);
      expect(await requeueUnfinished(store, lossy, 0)).toBe(2); // idempotent: still 2 jobs
      expect((await lossy.counts()).waiting).toBe(2);
      const w = startWorker({ queueUrl: bare.url, store, model });
      try {
        for (const id of ids) {
          await until(app2, `/api/v1/analyses/${id}`, (x) => x.status === 'done');
        }
        expect(await requeueUnfinished(store, lossy, 0)).toBe(0);
      } finally {
        await w.close();
      }
    } finally {
      await app2.close();
      await lossy.close();
      await bare.dispose();
    }
  });

  it('PostgreSQL down: 503 with Retry-After meanwhile, then it recovers', async () => {
    await postgres.stop();
    try {
      const res = await app.inject({ url: '/api/v1/analyses' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json()).toMatchObject({ error: { code: 'E_STORE_UNAVAILABLE' } });
      const post = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(await noisyPng(64, 64), 'down.png'),
      });
      expect(post.statusCode).toBe(503);
    } finally {
      await postgres.restart();
    }
    // The pool drops its dead connections and opens new ones.
    const back = await until(app, '/api/v1/analyses', (x) => !('error' in x), 15_000);
    expect(back).toMatchObject({ total: 7 });
  });
});
