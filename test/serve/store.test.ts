// The analysis store: one contract (atomic saves, newest-first listing per owner, files,
// deletes, processing status, persistence across re-opening) run against both stores,
// SQLite and PostgreSQL (a real server started for this file), plus SQLite's start-up
// cleaning of what a crash can leave behind (temp folders, image folders without a row).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { AnalysisStore, type AnalysisRecord, type FindingJson } from '../../src/serve/index.js';
import type { Store } from '../../src/serve/store-api.js';
import { PgStore } from '../../src/serve/store-pg.js';
import { PostgresService, servicesMissing } from '../helpers/services.js';
import { tempDir } from './helpers.js';

function record(id: string = randomUUID(), user: string | null = null): AnalysisRecord {
  return {
    id,
    created: new Date().toISOString(),
    filename: 'x.png',
    user,
    image: { width: 4, height: 2, format: 'png' },
    model: { name: 'm', version: '1', engine: 'tfjs', task: 'binary' },
    classes: ['teeth'],
    threshold: 0.5,
    findings: [],
    teeth: [],
    missing: [],
    elapsedMs: 1,
    timings: {},
    reviewed: null,
    corrections: { masks: [] },
  };
}

const files = {
  'original.png': Buffer.from('o'),
  'mask.png': Buffer.from('m'),
  'overlay.png': Buffer.from('v'),
  'probability.png': Buffer.from('p'),
};

const missing = servicesMissing();
if (missing) console.warn(`PostgreSQL store tests skipped: ${missing}`);
let pgService: PostgresService | undefined;
let pgDbCount = 0;

beforeAll(async () => {
  if (!missing) pgService = await PostgresService.start();
});
afterAll(async () => {
  await pgService?.dispose();
});

/** A fresh PostgreSQL database on the shared test server. */
async function freshPgUrl(): Promise<string> {
  const svc = pgService as PostgresService;
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: svc.url });
  await admin.connect();
  pgDbCount += 1;
  const name = `store_${pgDbCount}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return svc.url.replace(/\/postgres$/, `/${name}`);
}

interface Kind {
  readonly name: string;
  readonly skip: boolean;
  /**
   * A fresh store; `reopen` opens the same one again (after close); `insertRaw` writes a
   * row's record text directly, as an older dentseg stored it.
   */
  readonly make: () => Promise<{
    store: Store;
    dir: string;
    reopen: () => Promise<Store>;
    insertRaw: (id: string, created: string, json: string) => Promise<void>;
  }>;
}

const KINDS: readonly Kind[] = [
  {
    name: 'sqlite',
    skip: false,
    make: async () => {
      const dir = tempDir();
      return {
        store: AnalysisStore.open(dir),
        dir,
        reopen: async () => AnalysisStore.open(dir),
        insertRaw: async (id, created, json) => {
          const db = new Database(path.join(dir, 'dentseg.sqlite'));
          db.prepare('INSERT INTO analyses (id, created, record) VALUES (?, ?, ?)').run(
            id,
            created,
            json,
          );
          db.close();
          mkdirSync(path.join(dir, 'analyses', id)); // a row without its folder is cleaned
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: missing !== undefined,
    make: async () => {
      const dir = tempDir();
      const url = await freshPgUrl();
      return {
        store: await PgStore.open(url, dir),
        dir,
        reopen: () => PgStore.open(url, dir),
        insertRaw: async (id, created, json) => {
          const pg = (await import('pg')).default;
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await c.query('INSERT INTO analyses (id, created, record) VALUES ($1, $2, $3)', [
            id,
            created,
            json,
          ]);
          await c.end();
          mkdirSync(path.join(dir, 'analyses', id));
        },
      };
    },
  },
];

for (const kind of KINDS) {
  describe.skipIf(kind.skip)(`store contract: ${kind.name}`, () => {
    it('saves, lists newest first, reads files, deletes, and persists across re-opening', async () => {
      const { store, dir, reopen } = await kind.make();
      expect(store.kind).toBe(kind.name);
      const a = record();
      const b = record();
      await store.save(a, files);
      await store.save(b, files);
      expect((await store.list(10, 0)).items.map((r) => r.id)).toEqual([b.id, a.id]);
      expect(await store.list(1, 1)).toMatchObject({ total: 2, items: [{ id: a.id }] });
      expect((await store.readFile(a.id, 'mask.png'))?.toString()).toBe('m');
      expect(await store.readFile(randomUUID(), 'mask.png')).toBeUndefined();
      expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
      expect(await store.delete(a.id)).toBe(true);
      expect(await store.delete(a.id)).toBe(false);
      expect(existsSync(path.join(dir, 'analyses', a.id))).toBe(false);
      await store.close();

      const again = await reopen();
      expect(await again.get(b.id)).toEqual(b);
      expect(await again.count()).toBe(1);
      await again.close();
    });

    it('keeps the teeth and missing numbers; older records read with empty ones', async () => {
      const { store, reopen, insertRaw } = await kind.make();
      const numbered: AnalysisRecord = {
        ...record(),
        model: { name: 'fdi', version: '1', engine: 'tfjs', task: 'multiclass' },
        classes: ['background', 'tooth 11', 'tooth 12'],
        threshold: 0,
        teeth: [
          {
            fdi: 11,
            name: 'upper right central incisor',
            areaPx: 3,
            bbox: [0, 0, 2, 2],
            centroid: [0.7, 0.7],
            polygon: [
              [0, 0],
              [1, 0],
              [0, 1],
            ],
            score: 0.9,
            review: 'suggested',
          },
        ],
        missing: [12, 13],
      };
      await store.save(numbered, files);
      await store.close();
      const again = await reopen();
      expect(await again.get(numbered.id)).toEqual(numbered);
      expect((await again.list(10, 0)).items).toEqual([numbered]);
      // A row written before numbering existed has neither field.
      const old = record();
      const { teeth: _t, missing: _m, ...before } = old;
      await insertRaw(old.id, old.created, JSON.stringify(before));
      expect(await again.get(old.id)).toEqual({ ...old, teeth: [], missing: [] });
      await again.close();
    });

    it('reads records stored before review existed as unreviewed, ids in order', async () => {
      const { store, insertRaw } = await kind.make();
      const old = record();
      const finding = {
        class: 'caries',
        classIndex: 1,
        areaPx: 2,
        areaPct: 25,
        bbox: [0, 0, 2, 1],
        centroid: [0.5, 0],
        polygon: [],
      };
      const tooth = { fdi: 11, name: 'x', areaPx: 1, bbox: [0, 0, 1, 1], centroid: [0, 0] };
      const { reviewed: _r, corrections: _c, ...before } = old;
      const raw = { ...before, findings: [finding, finding], teeth: [{ ...tooth, score: 1 }] };
      await insertRaw(old.id, old.created, JSON.stringify(raw));
      const got = await store.get(old.id);
      expect(got?.findings.map((f) => [f.id, f.review, f.type, f.tooth])).toEqual([
        ['f1', 'suggested', 'caries', null],
        ['f2', 'suggested', 'caries', null],
      ]);
      expect(got?.teeth.map((t) => t.review)).toEqual(['suggested']);
      expect(got?.reviewed).toBeNull();
      expect(got?.corrections).toEqual({ masks: [] });
      await store.close();
    });

    it('updates atomically: parallel changes all land, each audited once, in order', async () => {
      const { store } = await kind.make();
      const base = record(randomUUID(), 'alice');
      const finding = (i: number): FindingJson => ({
        id: `f${i + 1}`,
        review: 'suggested',
        type: 'caries',
        tooth: null,
        class: 'caries',
        classIndex: 1,
        areaPx: 1,
        areaPct: 1,
        bbox: [0, 0, 1, 1],
        centroid: [0, 0],
        polygon: [],
      });
      const n = 8;
      await store.save(
        { ...base, findings: Array.from({ length: n }, (_, i) => finding(i)) },
        files,
      );
      const accept = (fid: string) => (r: AnalysisRecord) => {
        const before = r.findings.find((f) => f.id === fid) as FindingJson;
        const after = { ...before, review: 'accepted' as const };
        return {
          record: { ...r, findings: r.findings.map((f) => (f.id === fid ? after : f)) },
          audit: [
            {
              at: new Date().toISOString(),
              user: 'alice',
              action: 'finding.review' as const,
              before,
              after,
            },
          ],
        };
      };
      await Promise.all(
        Array.from({ length: n }, (_, i) => store.update(base.id, accept(`f${i + 1}`), 'alice')),
      );
      const got = await store.get(base.id);
      expect(got?.findings.map((f) => f.review)).toEqual(Array(n).fill('accepted'));
      const audit = await store.audit(base.id);
      expect(audit).toHaveLength(n);
      expect(new Set(audit.map((e) => (e.after as FindingJson).id)).size).toBe(n);
      // Someone else's analysis, an unknown id, and a mutation that throws change nothing.
      expect(await store.update(base.id, accept('f1'), 'bob')).toBeUndefined();
      expect(await store.update(randomUUID(), accept('f1'))).toBeUndefined();
      await expect(
        store.update(base.id, () => {
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await store.audit(base.id)).toHaveLength(n);
      await store.close();
    });

    it('deleting keeps the audit and adds the deletion; a queued job deletes too', async () => {
      const { store, dir } = await kind.make();
      const a = record(randomUUID(), 'alice');
      await store.save(a, files);
      expect(await store.delete(a.id, 'alice', 'alice')).toBe(true);
      expect(await store.get(a.id)).toBeUndefined();
      expect(existsSync(path.join(dir, 'analyses', a.id))).toBe(false);
      const audit = await store.audit(a.id);
      expect(audit).toMatchObject([
        { user: 'alice', action: 'analysis.delete', before: { id: a.id }, after: null },
      ]);
      // Still on the queue: its job row and upload go.
      const job = { id: randomUUID(), user: 'bob', filename: 'q.png', created: a.created };
      await store.addJob(job);
      mkdirSync(path.join(dir, 'uploads'), { recursive: true });
      writeFileSync(path.join(dir, 'uploads', job.id), 'x');
      expect(await store.delete(job.id, 'alice')).toBe(false);
      expect(await store.delete(job.id, 'bob', 'bob')).toBe(true);
      expect(await store.status(job.id)).toBeUndefined();
      expect(existsSync(path.join(dir, 'uploads', job.id))).toBe(false);
      expect(await store.delete(job.id)).toBe(false);
      await store.close();
    });

    it('lists, counts, reads and deletes per owner', async () => {
      const { store } = await kind.make();
      const mine = record(randomUUID(), 'alice');
      const theirs = record(randomUUID(), 'bob');
      await store.save(mine, files);
      await store.save(theirs, files);
      expect(await store.count('alice')).toBe(1);
      expect(await store.count()).toBe(2);
      expect(await store.list(10, 0, 'bob')).toMatchObject({
        total: 1,
        items: [{ id: theirs.id }],
      });
      expect(await store.get(theirs.id, 'alice')).toBeUndefined();
      expect(await store.readFile(theirs.id, 'mask.png', 'alice')).toBeUndefined();
      expect(await store.delete(theirs.id, 'alice')).toBe(false);
      expect(await store.addFile(mine.id, 'overlay.png', Buffer.from('new'))).toBe(true);
      expect((await store.readFile(mine.id, 'overlay.png'))?.toString()).toBe('new');
      expect(await store.addFile(randomUUID(), 'overlay.png', Buffer.from('x'))).toBe(false);
      await store.close();
    });

    it('a failed save leaves nothing behind (no row, no folder, no temp files)', async () => {
      const { store, dir } = await kind.make();
      const a = record();
      await store.save(a, files);
      // Same id again: the INSERT fails inside the transaction, so nothing is renamed.
      await expect(store.save(a, files)).rejects.toThrow();
      expect(await store.count()).toBe(1);
      expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
      expect(readdirSync(path.join(dir, 'analyses'))).toEqual([a.id]);
      await expect(store.save(record('../../etc'), files)).rejects.toMatchObject({
        code: 'E_USAGE',
      });
      await store.close();
    });

    it('keeps the processing status: queued → running → failed, or done when saved', async () => {
      const { store } = await kind.make();
      const job = {
        id: randomUUID(),
        user: 'alice',
        filename: 'a.png',
        created: '2026-01-01T00:00:00.000Z',
      };
      await store.addJob(job);
      await store.addJob({ ...job, filename: 'again.png' }); // idempotent
      expect(await store.status(job.id)).toEqual({ ...job, status: 'queued', error: null });
      expect(await store.status(job.id, 'bob')).toBeUndefined();
      await store.setStatus(job.id, 'running');
      expect(await store.status(job.id, 'alice')).toMatchObject({ status: 'running' });
      await store.save(record(job.id, 'alice'), files);
      expect(await store.status(job.id)).toMatchObject({ status: 'done', error: null });

      const bad = { ...job, id: randomUUID() };
      await store.addJob(bad);
      await store.setStatus(bad.id, 'failed', { code: 'E_IMAGE_DECODE', message: 'broken' });
      expect(await store.status(bad.id)).toMatchObject({
        status: 'failed',
        error: { code: 'E_IMAGE_DECODE', message: 'broken' },
      });
      // Unfinished (queued or running) jobs accepted before a time, oldest first.
      const later = { ...job, id: randomUUID(), created: '2026-01-02T00:00:00.000Z' };
      await store.addJob(later);
      expect(await store.unfinished('2026-01-03T00:00:00.000Z', 10)).toEqual([later.id]);
      expect(await store.unfinished('2026-01-01T12:00:00.000Z', 10)).toEqual([]);
      expect(await store.status(randomUUID())).toBeUndefined();
      expect(await store.status('../x')).toBeUndefined();
      expect(await store.delete(job.id)).toBe(true);
      expect(await store.status(job.id)).toBeUndefined();
      await store.close();
    });

    it('replaces a folder left by a save that crashed before its commit', async () => {
      const { store, dir } = await kind.make();
      const a = record();
      mkdirSync(path.join(dir, 'analyses', a.id));
      writeFileSync(path.join(dir, 'analyses', a.id, 'mask.png'), 'stale');
      await store.save(a, files);
      expect((await store.readFile(a.id, 'mask.png'))?.toString()).toBe('m');
      await store.close();
    });
  });
}

describe.skipIf(missing !== undefined)('PostgreSQL store', () => {
  it('runs its migrations once, whichever node starts first (concurrent opens)', async () => {
    const url = await freshPgUrl();
    const dir = tempDir();
    const stores = await Promise.all([1, 2, 3].map(() => PgStore.open(url, dir)));
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const v = await c.query<{ n: string }>('SELECT count(*) AS n FROM dentseg_migrations');
    await c.end();
    // Two schema versions (tables, then the audit), each applied once.
    expect(Number(v.rows[0]?.n)).toBe(2);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('answers E_STORE_UNAVAILABLE when the database cannot be reached', async () => {
    const port = (pgService as PostgresService).port;
    await expect(
      PgStore.open(`postgres://postgres@127.0.0.1:${port + 1}/postgres`, tempDir()),
    ).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE' });
  });
});

describe('SQLite store', () => {
  it('cleans crash leftovers at start-up', async () => {
    const dir = tempDir();
    const store = AnalysisStore.open(dir);
    const kept = record();
    const lost = record();
    await store.save(kept, files);
    await store.save(lost, files);
    await store.close();
    // A crash mid-upload (temp folder), between rename and commit (folder, no row), and a
    // folder removed behind the server's back (row, no folder).
    const half = path.join(dir, 'tmp', `${randomUUID()}.123.1`);
    mkdirSync(half);
    writeFileSync(path.join(half, 'mask.png'), 'half');
    const orphan = randomUUID();
    mkdirSync(path.join(dir, 'analyses', orphan));
    rmSync(path.join(dir, 'analyses', lost.id), { recursive: true });

    const reopened = AnalysisStore.open(dir);
    expect(reopened.cleanup).toEqual({ tempRemoved: 1, orphansRemoved: 1, rowsRemoved: 1 });
    expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    expect(readdirSync(path.join(dir, 'analyses'))).toEqual([kept.id]);
    expect((await reopened.list(10, 0)).items.map((r) => r.id)).toEqual([kept.id]);
    await reopened.close();
  });
});
