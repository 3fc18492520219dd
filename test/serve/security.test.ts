// Cross-site requests and security headers: a page on another site cannot upload or delete
// (403 E_CROSS_ORIGIN, nothing stored or deleted), the server's own page and clients that
// send no Origin (curl, scripts) keep working, and every response carries the CSP, framing
// and referrer headers; every 503 says when to retry.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import type { LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import {
  CONTENT_SECURITY_POLICY,
  crossOriginReason,
  ownOrigins,
} from '../../src/serve/security.js';
import { HAS_SAMPLE, SAMPLE_XRAY, multipart, tempDir, testModel } from './helpers.js';

const HOST = '127.0.0.1:8080';
const OWN = `http://${HOST}`;

describe('crossOriginReason', () => {
  const check = (headers: Record<string, string>): string | undefined =>
    crossOriginReason({ host: HOST, ...headers }, 'http');

  it('lets through requests without Origin, Referer or Sec-Fetch-Site (non-browser clients)', () => {
    expect(check({})).toBeUndefined();
  });

  it('lets through the own origin, by Origin, Referer or Sec-Fetch-Site', () => {
    expect(check({ origin: OWN })).toBeUndefined();
    expect(check({ origin: `${OWN}/` })).toBeUndefined();
    expect(check({ referer: `${OWN}/some/page?x=1` })).toBeUndefined();
    expect(check({ 'sec-fetch-site': 'same-origin', origin: OWN })).toBeUndefined();
    // The page's own request under Referrer-Policy: no-referrer carries Origin: null.
    expect(check({ 'sec-fetch-site': 'same-origin', origin: 'null' })).toBeUndefined();
    // Default ports and letter case do not matter.
    expect(
      crossOriginReason({ host: 'Clinic.Example', origin: 'http://clinic.example:80' }, 'http'),
    ).toBeUndefined();
  });

  it('refuses another origin, Origin: null, a foreign Referer and cross-site/same-site fetches', () => {
    expect(check({ origin: 'http://evil.example' })).toMatch(/Origin http:\/\/evil\.example/);
    expect(check({ origin: 'null' })).toMatch(/Origin null/);
    expect(check({ origin: 'http://127.0.0.1:8081' })).toBeDefined();
    expect(check({ origin: 'http://localhost:8080' })).toBeDefined();
    expect(check({ origin: 'not a url' })).toBeDefined();
    expect(check({ referer: 'http://evil.example/x' })).toMatch(/Referer/);
    expect(check({ referer: 'garbage' })).toBeDefined();
    expect(check({ 'sec-fetch-site': 'cross-site' })).toMatch(/cross-site/);
    expect(check({ 'sec-fetch-site': 'same-site' })).toMatch(/same-site/);
    // A browser's verdict is not overridden by a matching Origin.
    expect(check({ 'sec-fetch-site': 'cross-site', origin: OWN })).toBeDefined();
    // "none" (a user's own navigation) decides nothing: the Origin still counts.
    expect(check({ 'sec-fetch-site': 'none', origin: 'http://evil.example' })).toBeDefined();
  });

  it('knows its origin behind a proxy (X-Forwarded-*, Forwarded, TLS terminated before it)', () => {
    expect(
      crossOriginReason(
        {
          host: HOST,
          origin: 'https://clinic.example',
          'x-forwarded-host': 'clinic.example',
          'x-forwarded-proto': 'https',
        },
        'http',
      ),
    ).toBeUndefined();
    expect(
      crossOriginReason(
        {
          host: HOST,
          origin: 'https://clinic.example:8443',
          forwarded: 'for=1.2.3.4;host=clinic.example:8443;proto=https',
        },
        'http',
      ),
    ).toBeUndefined();
    expect(
      crossOriginReason({ host: 'clinic.example', origin: 'https://clinic.example' }, 'http'),
    ).toBeUndefined();
    expect(ownOrigins({ host: HOST }, 'http')).toEqual(new Set([OWN, `https://${HOST}`]));
    // Without a Host there is no own origin: any Origin is foreign.
    expect(crossOriginReason({ origin: OWN }, 'http')).toBeDefined();
  });
});

describe.skipIf(!HAS_SAMPLE)('cross-site requests and headers (inject)', () => {
  let model: LoadedModel;
  let app: FastifyInstance;
  let small: Buffer;
  const total = async (): Promise<number> =>
    (await app.inject({ url: '/api/v1/analyses', headers: { host: HOST } })).json<{
      total: number;
    }>().total;
  const upload = (headers: Record<string, string>) => {
    const body = multipart(small, 'x.png', 'file', 'image/png');
    return app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      payload: body.payload,
      headers: { host: HOST, ...body.headers, ...headers },
    });
  };

  beforeAll(async () => {
    ({ model } = await testModel());
    small = await sharp(SAMPLE_XRAY).resize({ width: 400 }).png().toBuffer();
    // A page of its own: the real one is rebuilt by the browser tests meanwhile.
    const webDir = tempDir();
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>page</title>');
    app = await buildApp({ model, dataDir: tempDir(), webDir });
  });
  afterAll(async () => {
    await app.close();
    model.dispose();
  });

  it('refuses a no-cors multipart POST and a DELETE from another site: 403, nothing stored or deleted', async () => {
    const curl = await upload({});
    expect(curl.statusCode).toBe(201);
    const id = curl.json<{ id: string }>().id;
    expect(await total()).toBe(1);

    const foreign = [
      {
        origin: 'http://evil.example',
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'no-cors',
      },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { referer: 'http://evil.example/page' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of foreign) {
      const res = await upload(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'E_CROSS_ORIGIN' } });
    }
    expect(await total()).toBe(1);

    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/analyses/${id}`,
      headers: { host: HOST, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(del.statusCode).toBe(403);
    expect(del.json()).toMatchObject({ error: { code: 'E_CROSS_ORIGIN' } });
    expect(
      (await app.inject({ url: `/api/v1/analyses/${id}`, headers: { host: HOST } })).statusCode,
    ).toBe(200);
    // Reading stays open (the page's own GETs; CORS keeps foreign pages from reading them).
    expect(
      (
        await app.inject({
          url: '/api/v1/health',
          headers: { host: HOST, origin: 'http://evil.example' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('the own page (same origin) and header-less clients upload and delete', async () => {
    const page = await upload({ origin: OWN, 'sec-fetch-site': 'same-origin' });
    expect(page.statusCode).toBe(201);
    const noReferrer = await upload({ origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(noReferrer.statusCode).toBe(201);
    const ids = [page, noReferrer].map((r) => r.json<{ id: string }>().id);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/analyses/${ids[0]}`,
      headers: { host: HOST, origin: OWN, 'sec-fetch-site': 'same-origin' },
    });
    expect(del.statusCode).toBe(204);
    const plain = await app.inject({ method: 'DELETE', url: `/api/v1/analyses/${ids[1]}` });
    expect(plain.statusCode).toBe(204);
  });

  it('sends CSP, X-Frame-Options and Referrer-Policy on the page, the API and errors', async () => {
    const responses = await Promise.all([
      app.inject({ url: '/' }),
      app.inject({ url: '/api/v1/health' }),
      app.inject({ url: '/api/v1/nothing-here' }),
      app.inject({ method: 'PUT', url: '/api/v1/analyses' }),
      upload({ origin: 'http://evil.example' }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 404, 405, 403]);
    for (const res of responses) {
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("'wasm-unsafe-eval'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-inline'");
  });

  it('every 503 carries Retry-After (queue full, analysis timeout)', async () => {
    const busy = await buildApp({ model, dataDir: tempDir(), webDir: false, queueLimit: 1 });
    const slow = await buildApp({ model, dataDir: tempDir(), webDir: false, analysisTimeoutMs: 1 });
    try {
      const post = (a: FastifyInstance) =>
        a.inject({ method: 'POST', url: '/api/v1/analyses', ...multipart(small, 'q.png') });
      const both = await Promise.all([post(busy), post(busy)]);
      const full = both.find((r) => r.statusCode === 503);
      expect(full?.json()).toMatchObject({ error: { code: 'E_QUEUE_FULL' } });
      expect(Number(full?.headers['retry-after'])).toBeGreaterThan(0);
      const timedOut = await post(slow);
      expect(timedOut.json()).toMatchObject({ error: { code: 'E_TIMEOUT' } });
      expect(timedOut.statusCode).toBe(503);
      expect(Number(timedOut.headers['retry-after'])).toBeGreaterThan(0);
      // The abandoned analysis finishes in the background before the app closes.
      await expect
        .poll(
          async () =>
            (await slow.inject({ url: '/api/v1/health' })).json<{ queue: { running: number } }>()
              .queue.running,
          { timeout: 30_000 },
        )
        .toBe(0);
    } finally {
      await busy.close();
      await slow.close();
    }
  });
});
