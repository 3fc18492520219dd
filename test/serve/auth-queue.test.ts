// Bearer-token protection and the bounded inference queue: 20 simultaneous uploads all
// complete; only beyond the queue limit is an upload refused with 503.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { HAS_SAMPLE, SAMPLE_XRAY, multipart, tempDir, testModel } from './helpers.js';

describe.skipIf(!HAS_SAMPLE)('token and queue', () => {
  let model: LoadedModel;
  let small: Buffer;

  beforeAll(async () => {
    ({ model } = await testModel());
    // The real sample at a quarter of its size keeps 20 analyses quick on 2 cores.
    small = await sharp(SAMPLE_XRAY).resize({ width: 775 }).png().toBuffer();
  });
  afterAll(() => model.dispose());

  it('with --token: 401 without or with a wrong token, 200 with it; health stays open', async () => {
    const app = await buildApp({ model, dataDir: tempDir(), webDir: false, token: 's3cret' });
    try {
      const missing = await app.inject({ url: '/api/v1/analyses' });
      expect(missing.statusCode).toBe(401);
      expect(missing.json()).toMatchObject({ error: { code: 'E_UNAUTHORIZED' } });
      const upload = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(small, 'a.png'),
      });
      expect(upload.statusCode).toBe(401);
      const wrong = await app.inject({
        url: '/api/v1/model',
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json<{ error: { message: string } }>().error.message).toMatch(/wrong token/);
      const right = await app.inject({
        url: '/api/v1/analyses',
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(right.statusCode).toBe(200);
      expect((await app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('20 simultaneous uploads all complete (201), one at a time through the queue', async () => {
    const app = await buildApp({ model, dataDir: tempDir(), webDir: false });
    try {
      const all = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/analyses',
            ...multipart(small, `xray-${i}.png`, 'file', 'image/png'),
          }),
        ),
      );
      expect(all.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
      const ids = new Set(all.map((r) => r.json<{ id: string }>().id));
      expect(ids.size).toBe(20);
      const list = await app.inject({ url: '/api/v1/analyses?limit=100' });
      expect(list.json<{ total: number }>().total).toBe(20);
    } finally {
      await app.close();
    }
  });

  it('an analysis over the time limit: 503 E_TIMEOUT, and nothing half-stored', async () => {
    const app = await buildApp({ model, dataDir: tempDir(), webDir: false, analysisTimeoutMs: 5 });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(small, 'slow.png', 'file', 'image/png'),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: { code: 'E_TIMEOUT' } });
      // The abandoned job finishes in the background and stores nothing.
      await expect
        .poll(
          async () =>
            (await app.inject({ url: '/api/v1/health' })).json<{ queue: { running: number } }>()
              .queue.running,
          { timeout: 30_000 },
        )
        .toBe(0);
      expect((await app.inject({ url: '/api/v1/analyses' })).json()).toMatchObject({ total: 0 });
    } finally {
      await app.close();
    }
  });

  it('beyond the queue limit: 503 E_QUEUE_FULL, the others complete', async () => {
    const app = await buildApp({ model, dataDir: tempDir(), webDir: false, queueLimit: 2 });
    try {
      const all = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/analyses',
            ...multipart(small, `q-${i}.png`, 'file', 'image/png'),
          }),
        ),
      );
      const codes = all.map((r) => r.statusCode).sort();
      expect(codes).toEqual([201, 201, 503, 503, 503]);
      const refused = all.find((r) => r.statusCode === 503);
      expect(refused?.json()).toMatchObject({ error: { code: 'E_QUEUE_FULL' } });
    } finally {
      await app.close();
    }
  });
});
