// The token check against URL tricks: every route, reached through percent-encoded letters,
// encoded or doubled slashes, dot segments, other letter case and trailing slashes, without
// a token or with a wrong one, must answer 401 or 404 (405 where the spelling reaches a route
// without the method) and never serve, store, change or delete.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { multipart, tempDir, writeTinyModel } from './helpers.js';

const TOKEN = 's3cret-token';

type Method = 'GET' | 'HEAD' | 'POST' | 'DELETE' | 'PATCH' | 'PUT';

/** Percent-encode one character (upper- or lower-case hex). */
function enc(ch: string, lower = false): string {
  const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${lower ? hex : hex.toUpperCase()}`;
}

/**
 * Spellings of `canonical` (a path like /api/v1/analyses/ID) that a server normalising
 * URLs differently from its auth check might route to the same handler.
 */
export function variants(canonical: string): string[] {
  const segs = canonical.split('/').slice(1); // ['api', 'v1', ...]
  const join = (parts: readonly string[], sep = '/'): string => `/${parts.join(sep)}`;
  const out = new Set<string>();
  // One character percent-encoded, in every segment, lower- and upper-case hex.
  segs.forEach((seg, i) => {
    for (let c = 0; c < seg.length; c++) {
      for (const lower of [true, false]) {
        const copy = [...segs];
        copy[i] = seg.slice(0, c) + enc(seg[c] as string, lower) + seg.slice(c + 1);
        out.add(join(copy));
      }
    }
  });
  // Every character of the prefix encoded; the whole path encoded.
  out.add(join([[...'api'].map((ch) => enc(ch)).join(''), ...segs.slice(1)]));
  out.add(`/${[...canonical.slice(1)].map((ch) => (ch === '/' ? '/' : enc(ch))).join('')}`);
  // Slashes: encoded, doubled, backslashes.
  for (let i = 1; i < segs.length; i++) {
    const left = segs.slice(0, i).join('/');
    const right = segs.slice(i).join('/');
    out.add(`/${left}%2F${right}`);
    out.add(`/${left}%2f${right}`);
    out.add(`/${left}//${right}`);
    out.add(`/${left}\\${right}`);
    out.add(`/${left}/./${right}`);
    out.add(`/${left}/%2e/${right}`);
    out.add(`/${left}/x/../${right}`);
    out.add(`/${left}/x/%2e%2e/${right}`);
    out.add(`/${left}/x%2F..%2F${right}`);
  }
  out.add(`/${canonical}`);
  out.add(`/.${canonical}`);
  out.add(`/x/..${canonical}`);
  out.add(`/%2e${canonical}`);
  out.add(`/api/v1/health/..${canonical.slice('/api/v1'.length)}`);
  out.add(`/api/v1/health/%2e%2e${canonical.slice('/api/v1'.length)}`);
  out.add(`/api/v1/health%2F..%2F${canonical.slice('/api/v1/'.length)}`);
  // Letter case.
  out.add(canonical.toUpperCase());
  out.add(join(segs.map((s) => s.charAt(0).toUpperCase() + s.slice(1))));
  out.add(`/API${canonical.slice(4)}`);
  out.add(`/api/V1${canonical.slice(7)}`);
  // Trailing and other suffixes.
  out.add(`${canonical}/`);
  out.add(`${canonical}//`);
  out.add(`${canonical}/.`);
  out.add(`${canonical}%2F`);
  out.add(`${canonical};x`);
  out.add(`${canonical}?`);
  out.add(`${canonical}#x`);
  out.delete(canonical);
  return [...out];
}

describe('token check against URL variants', () => {
  let model: LoadedModel;
  let upload: { payload: Buffer; headers: Record<string, string> };

  beforeAll(async () => {
    await initEngine();
    const dir = tempDir('dentseg-bypass-model-');
    await writeTinyModel(dir);
    model = await loadModel(dir);
    const png = await sharp({
      create: { width: 96, height: 64, channels: 3, background: '#777' },
    })
      .png()
      .toBuffer();
    upload = multipart(png, 'x.png', 'file', 'image/png');
  });
  afterAll(() => model.dispose());

  // With and without the web page: its static files answer a wildcard route.
  for (const withPage of [false, true]) {
    it(`never answers 2xx without the right token (web page ${withPage ? 'on' : 'off'})`, async () => {
      let webDir: string | false = false;
      if (withPage) {
        webDir = tempDir('dentseg-bypass-web-');
        writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>t</title>');
      }
      const app: FastifyInstance = await buildApp({
        model,
        dataDir: tempDir(),
        webDir,
        token: TOKEN,
      });
      try {
        const auth = { authorization: `Bearer ${TOKEN}` };
        const created = await app.inject({
          method: 'POST',
          url: '/api/v1/analyses',
          payload: upload.payload,
          headers: { ...upload.headers, ...auth },
        });
        expect(created.statusCode).toBe(201);
        const id = created.json<{ id: string }>().id;

        const routes: [Method, string][] = [
          ['GET', '/api/v1/analyses'],
          ['GET', `/api/v1/analyses/${id}`],
          ['GET', `/api/v1/analyses/${id}/original.png`],
          ['GET', `/api/v1/analyses/${id}/mask.png`],
          ['GET', `/api/v1/analyses/${id}/overlay.png`],
          ['GET', `/api/v1/analyses/${id}/probability.png`],
          ['GET', `/api/v1/analyses/${id}/report.pdf`],
          ['GET', `/api/v1/analyses/${id}/export/sc.dcm`],
          ['GET', `/api/v1/analyses/${id}/export/seg.dcm`],
          ['GET', '/api/v1/model'],
          ['GET', '/api/v1/model/onnx'],
          ['POST', '/api/v1/analyses'],
          ['DELETE', `/api/v1/analyses/${id}`],
          // The review routes: each change must be refused as well.
          ['PATCH', `/api/v1/analyses/${id}/findings/f1`],
          ['POST', `/api/v1/analyses/${id}/findings`],
          ['PATCH', `/api/v1/analyses/${id}/teeth/11`],
          ['PUT', `/api/v1/analyses/${id}/masks/tiny-random`],
          ['POST', `/api/v1/analyses/${id}/review`],
          ['GET', `/api/v1/analyses/${id}/audit`],
        ];
        // A valid body for each route, so that only the token decides.
        const json = (payload: object, headers: Record<string, string>) => ({
          payload: JSON.stringify(payload),
          headers: { ...headers, 'content-type': 'application/json' },
        });
        const bodyFor = (m: Method, canonical: string, headers: Record<string, string>) => {
          if (canonical.endsWith('/findings/f1')) return json({ review: 'rejected' }, headers);
          if (canonical.endsWith('/findings')) {
            const outline = [
              [1, 1],
              [5, 1],
              [5, 5],
            ];
            return json({ outline, type: 'caries', tooth: null }, headers);
          }
          if (canonical.endsWith('/teeth/11')) return json({ present: false }, headers);
          if (canonical.endsWith('/review')) return json({ note: 'x' }, headers);
          if (m === 'POST' || m === 'PUT') {
            return { payload: upload.payload, headers: { ...upload.headers, ...headers } };
          }
          return { headers };
        };
        const headerSets: Record<string, string>[] = [
          {},
          { authorization: 'Bearer wrong' },
          { authorization: `Bearer ${TOKEN}x` },
          { authorization: TOKEN },
        ];
        const leaks: string[] = [];
        let tried = 0;
        for (const [method, canonical] of routes) {
          const methods: Method[] = method === 'GET' ? ['GET', 'HEAD'] : [method];
          for (const m of methods) {
            for (const url of [canonical, ...variants(canonical)]) {
              for (const headers of headerSets) {
                const res = await app.inject({ method: m, url, ...bodyFor(m, canonical, headers) });
                tried += 1;
                // 405: the spelling routes to another pattern (`/:id/:file`) that lacks the
                // method: refused by the router before any handler runs.
                const wrongMethod =
                  res.statusCode === 405 &&
                  res.json<{ error: { code: string } }>().error.code === 'E_METHOD_NOT_ALLOWED';
                if (res.statusCode !== 401 && res.statusCode !== 404 && !wrongMethod) {
                  leaks.push(`${m} ${url} [${headers.authorization ?? '-'}] → ${res.statusCode}`);
                }
              }
            }
          }
        }
        expect(tried).toBeGreaterThan(1000);
        expect(leaks).toEqual([]);
        // Nothing was stored, deleted or changed behind the check.
        const list = await app.inject({ url: '/api/v1/analyses', headers: auth });
        expect(list.json()).toMatchObject({ total: 1, items: [{ id, reviewed: null }] });
        const audit = await app.inject({ url: `/api/v1/analyses/${id}/audit`, headers: auth });
        expect(audit.json()).toEqual([]);
      } finally {
        await app.close();
      }
    });
  }
});
