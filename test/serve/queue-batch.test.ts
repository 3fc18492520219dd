// `dentseg batch` on the shared queue (real Redis and PostgreSQL, a worker in this
// process, a tiny model): a folder of small X-rays all done, none twice, the same output
// files as `predict`; a second run enqueues nothing.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisJobQueue } from '../../src/serve/jobs.js';
import { PgStore } from '../../src/serve/store-pg.js';
import { batchId, modelSetKey, runBatch } from '../../src/serve/batch.js';
import { startWorker, type RunningWorker } from '../../src/serve/worker.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { initEngine } from '../../src/engine/index.js';
import { PostgresService, RedisService, servicesMissing } from '../helpers/services.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { tempDir } from './helpers.js';

const missing = servicesMissing();
if (missing) console.warn(`batch queue tests skipped: ${missing}`);
/** Jobs in the big run (the 1,000 with DENTSEG_BATCH_JOBS=1000). */
const N = Number(process.env.DENTSEG_BATCH_JOBS ?? 100);

describe.skipIf(missing !== undefined)('dentseg batch on the queue', () => {
  let redis: RedisService;
  let postgres: PostgresService;
  let modelDir: string;
  let model: LoadedModel;
  let store: PgStore;
  let jobs: RedisJobQueue;
  let worker: RunningWorker;
  const processed: string[] = [];

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([RedisService.start(), PostgresService.start()]);
    await initEngine();
    modelDir = tempDir('dentseg-tiny-');
    await writeTinyModel(modelDir, { seed: 5 });
    model = await loadModel(modelDir);
    store = await PgStore.open(postgres.url, tempDir());
    jobs = new RedisJobQueue(redis.url);
    worker = startWorker({
      queueUrl: redis.url,
      store,
      model,
      onEvent: (e) => processed.push(e.id),
    });
  });
  afterAll(async () => {
    await worker?.close();
    await jobs?.close();
    await store?.close();
    model?.dispose();
    await Promise.all([redis?.dispose(), postgres?.dispose()]);
  });

  it(`${N} small X-rays: all done once, predict's outputs; a second run enqueues nothing`, async () => {
    const input = tempDir('dentseg-batch-in-');
    for (let i = 0; i < N; i++) {
      const png = await sharp({
        create: {
          width: 48,
          height: 32,
          channels: 3,
          background: { r: i % 256, g: (i >> 8) % 256, b: 40 },
        },
      })
        .png()
        .toBuffer();
      writeFileSync(path.join(input, `x${String(i).padStart(4, '0')}.png`), png);
    }
    // Same content under another name: one analysis, two outputs.
    writeFileSync(path.join(input, 'copy.png'), readFileSync(path.join(input, 'x0000.png')));
    mkdirSync(path.join(input, 'sub')); // folders are not recursed
    const out = tempDir('dentseg-batch-out-');
    const first = await runBatch({
      inputs: [input],
      outputDir: out,
      store,
      jobs,
      modelDir,
      pollMs: 100,
    });
    expect(first.failed).toBe(0);
    expect(first.items).toHaveLength(N + 1);
    expect(first.enqueued).toBe(N);
    expect(await store.count()).toBe(N);
    // None twice: every id processed exactly once by the worker.
    expect(processed).toHaveLength(N);
    expect(new Set(processed).size).toBe(N);
    const c = new pg.Client({ connectionString: postgres.url });
    await c.connect();
    const dup = await c.query('SELECT id FROM analyses GROUP BY id HAVING count(*) > 1');
    await c.end();
    expect(dup.rowCount).toBe(0);
    const names = readdirSync(out);
    for (const stem of ['x0000', 'copy', `x${String(N - 1).padStart(4, '0')}`]) {
      for (const ext of ['.mask.png', '.overlay.png', '.json']) expect(names).toContain(stem + ext);
    }
    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(N + 2);
    expect(csv[0]).toMatch(/^input,status,mask,overlay,json/);

    const second = await runBatch({
      inputs: [input],
      outputDir: tempDir(),
      store,
      jobs,
      modelDir,
      pollMs: 100,
    });
    expect(second).toMatchObject({ enqueued: 0, alreadyDone: N + 1, failed: 0 });
    expect(processed).toHaveLength(N);
  });

  it('keys the work by content and model set', async () => {
    const key = await modelSetKey(modelDir);
    const other = tempDir('dentseg-tiny-');
    await writeTinyModel(other, { seed: 6 });
    expect(await modelSetKey(other)).not.toBe(key);
    const a = batchId(Buffer.from('a'), key);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(batchId(Buffer.from('a'), key)).toBe(a);
    expect(batchId(Buffer.from('b'), key)).not.toBe(a);
    expect(batchId(Buffer.from('a'), await modelSetKey(other))).not.toBe(a);
  });
});
