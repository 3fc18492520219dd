// `serve --queue`: an analysis deleted while a worker runs it is not stored afterwards. The
// DELETE is made to land inside the analysis deterministically: the worker's store deletes
// the job just before it saves (a real BullMQ queue on Redis, records in SQLite).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { AnalysisStore, buildApp, type AnalysisRecord } from '../../src/serve/index.js';
import { RedisJobQueue } from '../../src/serve/jobs.js';
import type { Store } from '../../src/serve/store-api.js';
import { startWorker, type RunningWorker } from '../../src/serve/worker.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { RedisService, servicesMissing } from '../helpers/services.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { solidGreyJpeg } from '../helpers/solid-jpeg.js';
import { multipart, tempDir } from './helpers.js';

const missing = servicesMissing();
if (missing) console.warn(`queue delete test skipped: ${missing}`);

describe.skipIf(missing !== undefined)('serve --queue: DELETE while a worker runs it', () => {
  let redis: RedisService;
  let model: LoadedModel;
  let store: AnalysisStore;
  let jobs: RedisJobQueue;
  let app: FastifyInstance;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    redis = await RedisService.start();
    const dir = tempDir('dentseg-tiny-');
    await writeTinyModel(dir, { seed: 5 });
    model = await loadModel(dir);
    const dataDir = tempDir();
    store = AnalysisStore.open(dataDir);
    jobs = new RedisJobQueue(redis.url);
    app = await buildApp({ model, dataDir, store, jobs, webDir: false });
  });
  afterAll(async () => {
    await worker?.close();
    await app?.close();
    await jobs?.close();
    await store?.close();
    model?.dispose();
    await redis?.dispose();
  });

  it('drops the analysis it finishes after the job was deleted', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(solidGreyJpeg(96, 64), 'a.jpg'),
    });
    expect(res.statusCode).toBe(202);
    const id = res.json<{ id: string }>().id;
    // The worker's store: a DELETE of the running job lands just before the save.
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'save') {
          return async (record: AnalysisRecord, files: Parameters<Store['save']>[1]) => {
            expect(await target.delete(record.id)).toBe(true);
            return target.save(record, files);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const done = new Promise<string>((resolve) => {
      worker = startWorker({
        queueUrl: redis.url,
        store: racing,
        model,
        onEvent: (e) => resolve(e.status),
      });
    });
    expect(await done).toBe('done');
    expect(await store.get(id)).toBeUndefined();
    expect(existsSync(path.join(store.dataDir, 'analyses', id))).toBe(false);
    expect((await app.inject({ url: `/api/v1/analyses/${id}` })).statusCode).toBe(404);
  });
});
