/**
 * The PostgreSQL store (node-postgres) for several API nodes and workers: records and jobs
 * in the database, images in the shared data dir. Migrations run on open under an advisory
 * lock, so nodes starting together apply each once. A database that cannot be reached is
 * E_STORE_UNAVAILABLE (HTTP 503 with Retry-After); the pool reconnects by itself.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { DentsegError, isDentsegError } from '../errors.js';
import {
  jobStateOf,
  removeUpload,
  tempName,
  writeSynced,
  writeTempFolder,
  type JobRow,
} from './store-files.js';
import {
  UUID,
  auditOf,
  deletionEntry,
  auditRow,
  recordOf,
  type AuditRow,
  type RecordChange,
  type StoredRow,
  type JobEntry,
  type JobState,
  type ProcessingStatus,
  type Store,
} from './store-api.js';
import type { AnalysisFileName, AnalysisRecord, AuditEntry } from './types.js';

/** Schema versions in order; each runs once, inside a transaction. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE analyses (
     seq BIGSERIAL PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     created TEXT NOT NULL,
     "user" TEXT,
     record TEXT NOT NULL
   );
   CREATE INDEX analyses_user_seq ON analyses ("user", seq);
   CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     "user" TEXT,
     filename TEXT NOT NULL,
     created TEXT NOT NULL,
     status TEXT NOT NULL,
     error TEXT,
     updated TIMESTAMPTZ NOT NULL DEFAULT now()
   );`,
  // Append-only; rows outlive their analysis (a deletion is itself an entry).
  `CREATE TABLE audit (
     seq BIGSERIAL PRIMARY KEY,
     analysis TEXT NOT NULL,
     at TEXT NOT NULL,
     "user" TEXT,
     action TEXT NOT NULL,
     before TEXT,
     after TEXT
   );
   CREATE INDEX audit_analysis_seq ON audit (analysis, seq);`,
];

/** Any 32-bit number, the same on every node: serialises migrations. */
const MIGRATION_LOCK = 0x64656e74;

/** Errors that mean "the database is not there right now" rather than a bug. */
function unavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE'].includes(code) ||
    code.startsWith('08') || // connection exceptions
    code === '57P01' || // admin shutdown
    code === '57P02' ||
    code === '57P03' || // cannot connect now (starting up / shutting down)
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  );
}

function wrap(err: unknown): never {
  if (isDentsegError(err)) throw err;
  if (unavailable(err)) {
    throw new DentsegError('E_STORE_UNAVAILABLE', 'the database cannot be reached; retry shortly', {
      hint: 'check that PostgreSQL is running and reachable at the --db URL',
      cause: err,
    });
  }
  throw err;
}

type Row = StoredRow;

/** PostgreSQL + shared files store. */
export class PgStore implements Store {
  readonly kind = 'postgres';
  readonly dataDir: string;
  readonly #pool: pg.Pool;
  readonly #imagesDir: string;
  readonly #tmpDir: string;

  private constructor(pool: pg.Pool, dataDir: string) {
    this.#pool = pool;
    this.dataDir = path.resolve(dataDir);
    this.#imagesDir = path.join(this.dataDir, 'analyses');
    this.#tmpDir = path.join(this.dataDir, 'tmp');
  }

  /**
   * Connect to `url` (postgres://…), run pending migrations and use `dataDir` for files.
   * Fails with E_STORE_UNAVAILABLE when the database cannot be reached.
   */
  static async open(url: string, dataDir: string): Promise<PgStore> {
    try {
      mkdirSync(path.join(dataDir, 'analyses'), { recursive: true });
      mkdirSync(path.join(dataDir, 'tmp'), { recursive: true });
    } catch (cause) {
      throw new DentsegError('E_USAGE', `cannot open the data dir: ${String(cause)}`, {
        file: dataDir,
        hint: 'pass a writable folder (mounted on every node) with --data-dir',
        cause,
      });
    }
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
    // An idle client losing its server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PgStore(pool, dataDir);
    try {
      await store.#migrate();
    } catch (err) {
      await pool.end();
      wrap(err);
    }
    return store;
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query(
          'CREATE TABLE IF NOT EXISTS dentseg_migrations (version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())',
        );
        const done = await client.query<{ v: number | null }>(
          'SELECT max(version) AS v FROM dentseg_migrations',
        );
        for (let v = (done.rows[0]?.v ?? 0) + 1; v <= MIGRATIONS.length; v++) {
          await client.query('BEGIN');
          try {
            await client.query(MIGRATIONS[v - 1] as string);
            await client.query('INSERT INTO dentseg_migrations (version) VALUES ($1)', [v]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async #query<R extends pg.QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, [...values]);
    } catch (err) {
      return wrap(err);
    }
  }

  /** Run `work` in one transaction on one client (rolled back when it throws). */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      await client.query('BEGIN');
      try {
        const out = await work(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      return wrap(err);
    } finally {
      client?.release();
    }
  }

  static async #appendAudit(
    client: pg.PoolClient,
    id: string,
    entries: readonly AuditEntry[],
  ): Promise<void> {
    for (const e of entries) {
      await client.query(
        'INSERT INTO audit (analysis, at, "user", action, before, after) VALUES ($1, $2, $3, $4, $5, $6)',
        auditRow(id, e),
      );
    }
  }

  /** The row of analysis `id` locked for this transaction (`owner`'s only, when given). */
  static async #locked(
    client: pg.PoolClient,
    id: string,
    owner?: string,
  ): Promise<AnalysisRecord | undefined> {
    const res =
      owner === undefined
        ? await client.query<Row>('SELECT record, "user" FROM analyses WHERE id = $1 FOR UPDATE', [
            id,
          ])
        : await client.query<Row>(
            'SELECT record, "user" FROM analyses WHERE id = $1 AND "user" = $2 FOR UPDATE',
            [id, owner],
          );
    const row = res.rows[0];
    return row ? recordOf(row) : undefined;
  }

  /** Change analysis `id` with its row locked (SELECT … FOR UPDATE); see Store.update. */
  async update(
    id: string,
    mutate: (record: AnalysisRecord) => RecordChange,
    owner?: string,
  ): Promise<AnalysisRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    return this.#transaction(async (client) => {
      const current = await PgStore.#locked(client, id, owner);
      if (!current) return undefined;
      const change = mutate(current);
      await client.query('UPDATE analyses SET record = $1 WHERE id = $2', [
        JSON.stringify(change.record),
        id,
      ]);
      await PgStore.#appendAudit(client, id, change.audit);
      return change.record;
    });
  }

  async audit(id: string): Promise<AuditEntry[]> {
    const res = await this.#query<AuditRow>(
      'SELECT at, "user" AS user, action, before, after FROM audit WHERE analysis = $1 ORDER BY seq',
      [id],
    );
    return res.rows.map(auditOf);
  }

  async save(
    record: AnalysisRecord,
    files: Readonly<Partial<Record<AnalysisFileName, Buffer>>>,
  ): Promise<void> {
    const tmp = await writeTempFolder(this.#tmpDir, record.id, files);
    const finalDir = path.join(this.#imagesDir, record.id);
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      await client.query('BEGIN');
      try {
        await client.query(
          'INSERT INTO analyses (id, created, "user", record) VALUES ($1, $2, $3, $4)',
          [record.id, record.created, record.user, JSON.stringify(record)],
        );
        await client.query(
          "UPDATE jobs SET status = 'done', error = NULL, updated = now() WHERE id = $1",
          [record.id],
        );
        // No row had this id, so a folder already there is an orphan of a crashed save.
        if (existsSync(finalDir)) await rm(finalDir, { recursive: true, force: true });
        await rename(tmp, finalDir);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      wrap(err);
    } finally {
      client?.release();
    }
  }

  async get(id: string, owner?: string): Promise<AnalysisRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const res =
      owner === undefined
        ? await this.#query<Row>('SELECT record, "user" FROM analyses WHERE id = $1', [id])
        : await this.#query<Row>(
            'SELECT record, "user" FROM analyses WHERE id = $1 AND "user" = $2',
            [id, owner],
          );
    const row = res.rows[0];
    return row ? recordOf(row) : undefined;
  }

  async list(
    limit: number,
    offset: number,
    owner?: string,
  ): Promise<{ items: AnalysisRecord[]; total: number }> {
    const res =
      owner === undefined
        ? await this.#query<Row>(
            'SELECT record, "user" FROM analyses ORDER BY seq DESC LIMIT $1 OFFSET $2',
            [limit, offset],
          )
        : await this.#query<Row>(
            'SELECT record, "user" FROM analyses WHERE "user" = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3',
            [owner, limit, offset],
          );
    return { items: res.rows.map(recordOf), total: await this.count(owner) };
  }

  async count(owner?: string): Promise<number> {
    const res =
      owner === undefined
        ? await this.#query<{ n: string }>('SELECT count(*) AS n FROM analyses')
        : await this.#query<{ n: string }>('SELECT count(*) AS n FROM analyses WHERE "user" = $1', [
            owner,
          ]);
    return Number(res.rows[0]?.n ?? 0);
  }

  async readFile(
    id: string,
    name: AnalysisFileName,
    owner?: string,
  ): Promise<Buffer | null | undefined> {
    if (!(await this.get(id, owner))) return undefined;
    try {
      return await readFile(path.join(this.#imagesDir, id, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return (await this.get(id, owner)) ? null : undefined;
      throw err;
    }
  }

  async addFile(id: string, name: AnalysisFileName, data: Buffer): Promise<boolean> {
    if (!(await this.get(id))) return false;
    const tmp = path.join(this.#tmpDir, tempName(`${id}.${name}`));
    await writeSynced(tmp, data);
    try {
      await rename(tmp, path.join(this.#imagesDir, id, name));
      return true;
    } catch {
      await rm(tmp, { force: true }); // deleted meanwhile
      return false;
    }
  }

  async delete(id: string, owner?: string, by: string | null = null): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const removed = await this.#transaction(
      async (client): Promise<'analysis' | 'job' | undefined> => {
        const record = await PgStore.#locked(client, id, owner);
        if (record) {
          await client.query('DELETE FROM analyses WHERE id = $1', [id]);
          await client.query('DELETE FROM jobs WHERE id = $1', [id]);
          await PgStore.#appendAudit(client, id, [deletionEntry(record, by)]);
          return 'analysis';
        }
        // Not analysed yet: the job goes (a worker skips a job without a row).
        const del =
          owner === undefined
            ? await client.query('DELETE FROM jobs WHERE id = $1', [id])
            : await client.query('DELETE FROM jobs WHERE id = $1 AND "user" = $2', [id, owner]);
        return (del.rowCount ?? 0) > 0 ? 'job' : undefined;
      },
    );
    if (removed === 'job') await removeUpload(this.dataDir, id);
    if (removed === 'analysis') {
      const trash = path.join(this.#tmpDir, tempName(`deleted-${id}`));
      try {
        await rename(path.join(this.#imagesDir, id), trash);
        await rm(trash, { recursive: true, force: true });
      } catch {
        // no folder: nothing more to remove
      }
    }
    return removed !== undefined;
  }

  async addJob(job: JobEntry): Promise<void> {
    if (!UUID.test(job.id)) throw new DentsegError('E_USAGE', `invalid analysis id "${job.id}"`);
    await this.#query(
      `INSERT INTO jobs (id, "user", filename, created, status) VALUES ($1, $2, $3, $4, 'queued')
       ON CONFLICT (id) DO NOTHING`,
      [job.id, job.user, job.filename, job.created],
    );
  }

  async setStatus(
    id: string,
    status: ProcessingStatus,
    error?: { readonly code: string; readonly message: string },
  ): Promise<void> {
    await this.#query('UPDATE jobs SET status = $1, error = $2, updated = now() WHERE id = $3', [
      status,
      error ? JSON.stringify(error) : null,
      id,
    ]);
  }

  async unfinished(before: string, limit: number): Promise<string[]> {
    const res = await this.#query<{ id: string }>(
      "SELECT id FROM jobs WHERE status IN ('queued', 'running') AND created < $1 ORDER BY created LIMIT $2",
      [before, limit],
    );
    return res.rows.map((r) => r.id);
  }

  async status(id: string, owner?: string): Promise<JobState | undefined> {
    if (!UUID.test(id)) return undefined;
    const res = await this.#query<JobRow>(
      'SELECT id, "user" AS user, filename, created, status, error FROM jobs WHERE id = $1',
      [id],
    );
    const row = res.rows[0];
    if (!row || (owner !== undefined && row.user !== owner)) return undefined;
    return jobStateOf(row);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
