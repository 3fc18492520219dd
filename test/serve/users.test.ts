// Several users on one server: the tokens file, each analysis recorded with its user, users
// confined to their own analyses (admins see all), a health answer that says nothing without
// a token, databases from before users existed, and tokens kept out of the request log.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { initEngine } from '../../src/engine/index.js';
import { isDentsegError } from '../../src/errors.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import {
  AnalysisStore,
  buildApp,
  parseTokensFile,
  readTokensFile,
  redactUrl,
} from '../../src/serve/index.js';
import { multipart, tempDir, writeTinyModel } from './helpers.js';

const hex = (token: string): string => createHash('sha256').update(token).digest('hex');

const TOKENS = `# dentseg users
alice:tok-alice

bob:sha256:${hex('tok-bob')}
  root:tok-root:admin   # the practice manager
`;

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isDentsegError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

describe('tokens file', () => {
  it('reads name:token, name:sha256:HEX and :admin; skips comments and blank lines', () => {
    const users = parseTokensFile(TOKENS, 'users.txt');
    expect(users.map((u) => [u.name, u.admin])).toEqual([
      ['alice', false],
      ['bob', false],
      ['root', true],
    ]);
    expect(users[0]?.digest.toString('hex')).toBe(hex('tok-alice'));
    expect(users[1]?.digest.toString('hex')).toBe(hex('tok-bob'));
    const admin = parseTokensFile(`x:sha256:${hex('t')}:admin\n`, 'f');
    expect(admin[0]).toMatchObject({ name: 'x', admin: true });
  });

  it('refuses a bad line with E_CONFIG_INVALID naming the file and line, never the token', () => {
    const cases: [string, RegExp][] = [
      ['alice:secret-one\nbad name:secret-two\n', /line 2: .*user name/],
      ['alice:\n', /line 1: .*token is empty/],
      ['alice:secret-one:root\n', /line 1: .*only ":admin"/],
      ['alice:sec:ret-one\n', /line 1: .*only ":admin"/],
      ['alice:sha256:abc123\n', /line 1: .*64 hex digits/],
      ['alice:secret-one\nalice:secret-two\n', /line 2: .*listed twice/],
      ['alice:secret-one\nbob:secret-one\n', /line 2: .*same token/],
      ['# nobody\n\n', /no users/],
    ];
    for (const [text, why] of cases) {
      const err = thrown(() => parseTokensFile(text, '/etc/dentseg/users.txt'));
      expect(err.code, text).toBe('E_CONFIG_INVALID');
      expect(err.message, text).toMatch(/^\/etc\/dentseg\/users\.txt: /);
      expect(err.message, text).toMatch(why);
      expect(err.message, text).not.toMatch(/secret|sec:ret|abc123/);
    }
    expect(thrown(() => readTokensFile(path.join(tempDir(), 'none.txt'))).code).toBe(
      'E_FILE_NOT_FOUND',
    );
  });

  it('redacts token query parameters', () => {
    expect(redactUrl('/api/v1/analyses?token=abc&limit=5')).toBe(
      '/api/v1/analyses?token=[redacted]&limit=5',
    );
    expect(redactUrl('/x?limit=5&access_token=abc')).toBe('/x?limit=5&access_token=[redacted]');
    expect(redactUrl('/x?TOKEN=abc#y')).toBe('/x?TOKEN=[redacted]#y');
    expect(redactUrl('/api/v1/token')).toBe('/api/v1/token');
  });
});

interface Summary {
  id: string;
  user: string | null;
}

describe('users on the HTTP API', () => {
  let model: LoadedModel;
  let png: Buffer;

  beforeAll(async () => {
    await initEngine();
    const dir = tempDir('dentseg-users-model-');
    await writeTinyModel(dir);
    model = await loadModel(dir);
    png = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#777' } })
      .png()
      .toBuffer();
  });
  afterAll(() => model.dispose());

  const as = (token?: string): Record<string, string> =>
    token === undefined ? {} : { authorization: `Bearer ${token}` };

  async function upload(app: FastifyInstance, token?: string): Promise<LightMyRequestResponse> {
    const body = multipart(png, 'x.png', 'file', 'image/png');
    return app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      payload: body.payload,
      headers: { ...body.headers, ...as(token) },
    });
  }

  it('each user sees, lists, downloads and deletes only their own; admins everything', async () => {
    const app = await buildApp({
      model,
      dataDir: tempDir(),
      webDir: false,
      users: parseTokensFile(TOKENS, 'users.txt'),
      token: 'tok-cli',
    });
    try {
      const a = await upload(app, 'tok-alice');
      const b = await upload(app, 'tok-bob');
      const c = await upload(app, 'tok-cli');
      expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([201, 201, 201]);
      expect(a.json()).toMatchObject({ user: 'alice' });
      expect(b.json()).toMatchObject({ user: 'bob' });
      expect(c.json()).toMatchObject({ user: 'admin' }); // --token is the admin user "admin"
      const idA = a.json<Summary>().id;
      const idB = b.json<Summary>().id;

      const list = async (token: string): Promise<{ total: number; items: Summary[] }> =>
        (await app.inject({ url: '/api/v1/analyses', headers: as(token) })).json();
      expect(await list('tok-alice')).toMatchObject({
        total: 1,
        items: [{ id: idA, user: 'alice' }],
      });
      expect(await list('tok-bob')).toMatchObject({ total: 1, items: [{ id: idB, user: 'bob' }] });
      expect((await list('tok-root')).total).toBe(3);
      expect((await list('tok-cli')).total).toBe(3);

      // Another user's analysis is as unknown as a missing one, for every route.
      for (const url of [
        `/api/v1/analyses/${idB}`,
        `/api/v1/analyses/${idB}/original.png`,
        `/api/v1/analyses/${idB}/mask.png`,
        `/api/v1/analyses/${idB}/overlay.png`,
        `/api/v1/analyses/${idB}/probability.png`,
      ]) {
        const res = await app.inject({ url, headers: as('tok-alice') });
        expect(res.statusCode, url).toBe(404);
        expect(res.json(), url).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
        expect((await app.inject({ url, headers: as('tok-bob') })).statusCode, url).toBe(200);
      }
      const del = await app.inject({
        method: 'DELETE',
        url: `/api/v1/analyses/${idB}`,
        headers: as('tok-alice'),
      });
      expect(del.statusCode).toBe(404);
      const stillThere = await app.inject({
        url: `/api/v1/analyses/${idB}`,
        headers: as('tok-root'),
      });
      expect(stillThere.json()).toMatchObject({ id: idB, user: 'bob' });

      // An admin deletes anyone's.
      const adminDel = await app.inject({
        method: 'DELETE',
        url: `/api/v1/analyses/${idA}`,
        headers: as('tok-root'),
      });
      expect(adminDel.statusCode).toBe(204);
      expect((await list('tok-alice')).total).toBe(0);

      // Health: only "ok" and the version without a valid token; counts what the caller sees.
      for (const headers of [{}, as('wrong'), { authorization: 'tok-alice' }]) {
        const health = await app.inject({ url: '/api/v1/health', headers });
        expect(health.statusCode).toBe(200);
        expect(Object.keys(health.json<object>()).sort()).toEqual(['status', 'version']);
      }
      const mine = await app.inject({ url: '/api/v1/health', headers: as('tok-bob') });
      expect(mine.json()).toMatchObject({ status: 'ok', analyses: 1, queue: { running: 0 } });
      const all = await app.inject({ url: '/api/v1/health', headers: as('tok-root') });
      expect(all.json()).toMatchObject({ analyses: 2 });

      // The OpenAPI document describes the field.
      const doc = (await app.inject({ url: '/api/docs' })).json<{
        paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
      }>();
      expect(JSON.stringify(doc.paths['/api/v1/analyses/{id}']?.get?.responses['200'])).toMatch(
        /"user":\{"type":"string","nullable":true/,
      );
    } finally {
      await app.close();
    }
  });

  it('without tokens nothing changes: no user needed, user null, full health', async () => {
    const app = await buildApp({ model, dataDir: tempDir(), webDir: false });
    try {
      const res = await upload(app);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ user: null });
      const list = await app.inject({ url: '/api/v1/analyses' });
      expect(list.json()).toMatchObject({ total: 1, items: [{ user: null }] });
      const health = await app.inject({ url: '/api/v1/health' });
      expect(health.json()).toMatchObject({ status: 'ok', analyses: 1, queue: { limit: 32 } });
      // A token sent to a server without tokens changes nothing either.
      expect((await app.inject({ url: '/api/v1/analyses', headers: as('x') })).statusCode).toBe(
        200,
      );
    } finally {
      await app.close();
    }
  });

  it('migrates a database from before users: old analyses belong to nobody (admins see them)', async () => {
    const dataDir = tempDir();
    const id = randomUUID();
    mkdirSync(path.join(dataDir, 'analyses', id), { recursive: true });
    writeFileSync(path.join(dataDir, 'analyses', id, 'original.png'), png);
    const old = new Database(path.join(dataDir, 'dentseg.sqlite'));
    old.exec(`CREATE TABLE analyses (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      created TEXT NOT NULL,
      record TEXT NOT NULL
    )`);
    const record = {
      id,
      created: new Date().toISOString(),
      filename: 'old.png',
      image: { width: 96, height: 64, format: 'png' },
      model: { name: 'm', version: '1', engine: 'tfjs', task: 'binary' },
      classes: ['teeth'],
      threshold: 0.5,
      findings: [],
      elapsedMs: 1,
      timings: {},
    };
    old
      .prepare('INSERT INTO analyses (id, created, record) VALUES (?, ?, ?)')
      .run(id, record.created, JSON.stringify(record));
    old.close();

    const store = AnalysisStore.open(dataDir);
    expect(await store.get(id)).toMatchObject({ id, user: null, filename: 'old.png' });
    expect(await store.get(id, 'alice')).toBeUndefined();
    await store.close();

    const app = await buildApp({
      model,
      dataDir,
      webDir: false,
      users: parseTokensFile(TOKENS, 'users.txt'),
    });
    try {
      const alice = await app.inject({ url: '/api/v1/analyses', headers: as('tok-alice') });
      expect(alice.json()).toMatchObject({ total: 0, items: [] });
      const root = await app.inject({ url: `/api/v1/analyses/${id}`, headers: as('tok-root') });
      expect(root.json()).toMatchObject({ id, user: null });
      const created = await upload(app, 'tok-alice');
      expect(created.json()).toMatchObject({ user: 'alice' });
    } finally {
      await app.close();
    }
    // Re-opening the migrated database is a no-op.
    const again = AnalysisStore.open(dataDir);
    expect(await again.count()).toBe(2);
    expect(await again.count('alice')).toBe(1);
    await again.close();
  });

  it('keeps tokens out of the request log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp({
      model,
      dataDir: tempDir(),
      webDir: false,
      token: 'cli-secret-123',
      users: parseTokensFile('alice:file-secret-456\n', 'users.txt'),
      logger: { stream },
    });
    try {
      await app.inject({ url: '/api/v1/analyses?token=query-secret-789&limit=5' });
      await app.inject({
        url: '/api/v1/analyses?access_token=query-secret-789',
        headers: as('file-secret-456'),
      });
      await app.inject({ url: '/api/v1/model', headers: as('cli-secret-123') });
      await app.inject({ url: '/api/v1/health', headers: as('wrong-secret-000') });
      await app.inject({ url: '/nowhere?token=query-secret-789' });
    } finally {
      await app.close();
    }
    const log = lines.join('');
    expect(log).toMatch(/incoming request/);
    expect(log).toContain('/api/v1/analyses?token=[redacted]&limit=5');
    expect(log).toContain('/nowhere?token=[redacted]');
    expect(log).not.toMatch(/secret-\d/);
  });
});
