// The status codes a client can act on: 405 with Allow for a wrong method on a known route,
// 415 E_IMAGE_FORMAT for an upload that is not multipart, 400 E_MULTIPLE_FILES for a second
// file (never silently dropped), and file names capped at 255 UTF-8 bytes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import type { LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { RouteMethods } from '../../src/serve/methods.js';
import { capFileName, MAX_FILENAME_BYTES } from '../../src/serve/upload.js';
import { HAS_SAMPLE, SAMPLE_XRAY, multipart, tempDir, testModel } from './helpers.js';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('capFileName', () => {
  it('keeps names up to 255 bytes as they are (folders and control characters dropped)', () => {
    expect(capFileName('abdi-1.png')).toBe('abdi-1.png');
    expect(capFileName('C:\\scans\\panoramic.dcm')).toBe('panoramic.dcm');
    expect(capFileName('../../etc/x.png')).toBe('x.png');
    expect(capFileName('a\u0000b\nc.png')).toBe('abc.png');
    const exact = `${'a'.repeat(251)}.png`;
    expect(capFileName(exact)).toBe(exact);
  });

  it('cuts longer names with an ellipsis, keeping the extension, on a character boundary', () => {
    const ascii = capFileName(`${'a'.repeat(400)}.png`);
    expect(bytes(ascii)).toBe(MAX_FILENAME_BYTES);
    expect(ascii).toMatch(/^a+….png$/);
    // Two-byte characters: 604 bytes in, at most 255 out, no broken character.
    const umlaut = capFileName(`${'ü'.repeat(300)}.png`);
    expect(bytes(umlaut)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(bytes(umlaut)).toBeGreaterThan(MAX_FILENAME_BYTES - 2);
    expect(umlaut).toMatch(/^ü+….png$/);
    // Emoji (4 bytes, and a family of several code points) are never split.
    const family = '👨‍👩‍👧';
    const emoji = capFileName(`${family.repeat(30)}.jpg`);
    expect(bytes(emoji)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(
      emoji
        .replace('….jpg', '')
        .split(family)
        .every((s) => s === ''),
    ).toBe(true);
    // No usable extension: the end is just the ellipsis.
    const bare = capFileName('x'.repeat(300));
    expect(bare.endsWith('…')).toBe(true);
    expect(bytes(bare)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(bytes(capFileName(`${'y'.repeat(300)}.${'z'.repeat(40)}`))).toBeLessThanOrEqual(255);
  });
});

describe('RouteMethods', () => {
  const routes = new RouteMethods('/api/');
  routes.add(['GET', 'HEAD'], '/api/v1/analyses');
  routes.add('POST', '/api/v1/analyses');
  routes.add(['GET', 'HEAD'], '/api/v1/analyses/:id');
  routes.add('DELETE', '/api/v1/analyses/:id');
  routes.add(['GET', 'HEAD'], '/*');

  it('finds the methods of a concrete path, parametric or wildcard', () => {
    expect(routes.allowed('/api/v1/analyses?limit=3')).toEqual(['GET', 'HEAD', 'POST']);
    expect(routes.allowed('/api/v1/analyses/abc')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(routes.allowed('/api/v1/%61nalyses/abc')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(routes.allowed('/')).toEqual(['GET', 'HEAD']);
    expect(routes.allowed('/assets/x.js')).toEqual(['GET', 'HEAD']);
  });

  it('does not let the page wildcard claim unknown API paths', () => {
    expect(routes.allowed('/api/v1/nothing')).toBeUndefined();
    expect(routes.allowed('/api/v1/analyses/abc/def/ghi')).toBeUndefined();
    expect(routes.allowed('/api/v1/analyses/')).toBeUndefined();
  });
});

describe.skipIf(!HAS_SAMPLE)('status codes (inject)', () => {
  let model: LoadedModel;
  let app: FastifyInstance;
  let small: Buffer;
  const id = '00000000-0000-4000-8000-000000000000';
  const total = async (): Promise<number> =>
    (await app.inject({ url: '/api/v1/analyses' })).json<{ total: number }>().total;

  beforeAll(async () => {
    ({ model } = await testModel());
    small = await sharp(SAMPLE_XRAY).resize({ width: 400 }).png().toBuffer();
    const webDir = tempDir();
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>page</title>');
    app = await buildApp({ model, dataDir: tempDir(), webDir });
  });
  afterAll(async () => {
    await app.close();
    model.dispose();
  });

  it('a wrong method on a known route: 405 E_METHOD_NOT_ALLOWED with Allow', async () => {
    const cases: [string, string, string][] = [
      ['PUT', '/api/v1/analyses', 'GET, HEAD, POST'],
      ['DELETE', '/api/v1/analyses', 'GET, HEAD, POST'],
      ['PATCH', `/api/v1/analyses/${id}`, 'DELETE, GET, HEAD'],
      ['POST', `/api/v1/analyses/${id}`, 'DELETE, GET, HEAD'],
      ['DELETE', `/api/v1/analyses/${id}/mask.png`, 'GET, HEAD'],
      ['POST', '/api/v1/health', 'GET, HEAD'],
      ['PUT', '/api/v1/model', 'GET, HEAD'],
      ['POST', '/api/v1/model/onnx', 'GET, HEAD'],
      ['OPTIONS', '/api/v1/analyses', 'GET, HEAD, POST'],
      ['POST', '/', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await app.inject({ method: method as 'PUT', url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow, `${method} ${url}`).toBe(allow);
      expect(res.json()).toMatchObject({ error: { code: 'E_METHOD_NOT_ALLOWED' } });
    }
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/nothing' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
    expect((await app.inject({ url: '/api/v1/nothing' })).statusCode).toBe(404);
    // The page's files answer GET: a missing one is 404, not 405.
    const favicon = await app.inject({ url: '/favicon.ico' });
    expect(favicon.statusCode).toBe(404);
    expect(favicon.headers.allow).toBeUndefined();
  });

  it('a body that is not multipart: 415 E_IMAGE_FORMAT (raw image, JSON, none)', async () => {
    const bodies = [
      { payload: small, headers: { 'content-type': 'image/png' } },
      { payload: small, headers: { 'content-type': 'application/dicom' } },
      { payload: small, headers: { 'content-type': 'application/octet-stream' } },
      { payload: { file: 'x' } },
      { payload: 'file=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      {},
    ];
    for (const body of bodies) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/analyses', ...body });
      expect(res.statusCode, JSON.stringify(body.headers)).toBe(415);
      expect(res.json()).toMatchObject({ error: { code: 'E_IMAGE_FORMAT' } });
      expect(res.json<{ error: { message: string } }>().error.message).toMatch(
        /multipart\/form-data with a field named "file"/,
      );
    }
    expect(await total()).toBe(0);
  });

  it('two file parts: 400 E_MULTIPLE_FILES, nothing analysed', async () => {
    const boundary = 'dentsegBoundary';
    const part = (field: string, name: string): Buffer =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        small,
        Buffer.from('\r\n'),
      ]);
    const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    const end = Buffer.from(`--${boundary}--\r\n`);
    for (const fields of [
      ['file', 'file'],
      ['file', 'other'],
      ['other', 'file'],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        headers,
        payload: Buffer.concat([part(fields[0], 'a.png'), part(fields[1], 'b.png'), end]),
      });
      expect(res.statusCode, fields.join('+')).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'E_MULTIPLE_FILES' } });
    }
    expect(await total()).toBe(0);
    // One file and a text field is fine.
    const text = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n`,
    );
    const one = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      headers,
      payload: Buffer.concat([text, part('file', 'a.png'), end]),
    });
    expect(one.statusCode).toBe(201);
  });

  it('stores a very long file name capped at 255 bytes with an ellipsis', async () => {
    const name = `${'Ü'.repeat(200)}-panoramic.png`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(small, name, 'file', 'image/png'),
    });
    expect(res.statusCode).toBe(201);
    const stored = res.json<{ filename: string }>().filename;
    expect(bytes(stored)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(stored).toMatch(/^Ü+….png$/);
    const list = (await app.inject({ url: '/api/v1/analyses' })).json<{
      items: { filename: string }[];
    }>();
    expect(list.items[0]?.filename).toBe(stored);
  });
});
