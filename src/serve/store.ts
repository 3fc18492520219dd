/**
 * Where analyses live: metadata in SQLite (better-sqlite3), images as files under the
 * data dir. A save writes every file into a temp folder first, then inserts the row and
 * renames the folder into place inside one transaction, so a crash leaves either the
 * whole analysis or nothing; start-up removes temp folders and anything half-done.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DentsegError } from '../errors.js';
import { jobStateOf, type JobRow } from './store-files.js';
import { removeUpload } from './store-files.js';
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
import {
  isAnalysisFileName,
  type AnalysisFileName,
  type AnalysisRecord,
  type AuditEntry,
} from './types.js';

/** What start-up cleaning removed. */
export interface CleanupReport {
  /** Temp folders from interrupted uploads or deletes. */
  readonly tempRemoved: number;
  /** Image folders without a database row (crash between rename and commit). */
  readonly orphansRemoved: number;
  /** Rows whose image folder is gone. */
  readonly rowsRemoved: number;
}

interface Row extends StoredRow {
  readonly id: string;
}

/** SQLite + files store for analyses (the embedded default); open one per data dir. */
export class AnalysisStore implements Store {
  readonly kind = 'sqlite';
  readonly dataDir: string;
  readonly cleanup: CleanupReport;
  readonly #db: Database.Database;
  readonly #imagesDir: string;
  readonly #tmpDir: string;
  #tmpCounter = 0;

  private constructor(dataDir: string) {
    this.dataDir = path.resolve(dataDir);
    this.#imagesDir = path.join(this.dataDir, 'analyses');
    this.#tmpDir = path.join(this.dataDir, 'tmp');
    try {
      mkdirSync(this.#imagesDir, { recursive: true });
      mkdirSync(this.#tmpDir, { recursive: true });
      this.#db = new Database(path.join(this.dataDir, 'dentseg.sqlite'));
    } catch (cause) {
      throw new DentsegError('E_USAGE', `cannot open the data dir: ${String(cause)}`, {
        file: dataDir,
        hint: 'pass a writable folder with --data-dir',
        cause,
      });
    }
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS analyses (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      created TEXT NOT NULL,
      record TEXT NOT NULL
    )`);
    this.#migrate();
    this.cleanup = this.#clean();
  }

  /** Open (creating if needed) the store in `dataDir` and clean up after any crash. */
  static open(dataDir: string): AnalysisStore {
    return new AnalysisStore(dataDir);
  }

  /** Bring a database written by an older dentseg up to date (in place, idempotent). */
  #migrate(): void {
    const columns = this.#db.prepare('PRAGMA table_info(analyses)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'user')) {
      // Analyses stored before users existed belong to nobody: only admins see them.
      this.#db.exec('ALTER TABLE analyses ADD COLUMN user TEXT');
    }
    this.#db.exec('CREATE INDEX IF NOT EXISTS analyses_user_seq ON analyses (user, seq)');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY,
      user TEXT,
      filename TEXT NOT NULL,
      created TEXT NOT NULL,
      status TEXT NOT NULL,
      error TEXT
    )`);
    // Append-only; rows outlive their analysis (a deletion is itself an entry).
    this.#db.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      analysis TEXT NOT NULL,
      at TEXT NOT NULL,
      user TEXT,
      action TEXT NOT NULL,
      before TEXT,
      after TEXT
    )`);
    this.#db.exec('CREATE INDEX IF NOT EXISTS audit_analysis_seq ON audit (analysis, seq)');
  }

  #appendAudit(id: string, entries: readonly AuditEntry[]): void {
    const insert = this.#db.prepare(
      'INSERT INTO audit (analysis, at, user, action, before, after) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const e of entries) {
      insert.run(...auditRow(id, e));
    }
  }

  #clean(): CleanupReport {
    let tempRemoved = 0;
    for (const name of readdirSync(this.#tmpDir)) {
      rmSync(path.join(this.#tmpDir, name), { recursive: true, force: true });
      tempRemoved += 1;
    }
    const ids = new Set(
      (this.#db.prepare('SELECT id FROM analyses').all() as { id: string }[]).map((r) => r.id),
    );
    let orphansRemoved = 0;
    const onDisk = new Set<string>();
    for (const name of readdirSync(this.#imagesDir)) {
      if (ids.has(name)) {
        onDisk.add(name);
        continue;
      }
      rmSync(path.join(this.#imagesDir, name), { recursive: true, force: true });
      orphansRemoved += 1;
    }
    let rowsRemoved = 0;
    const del = this.#db.prepare('DELETE FROM analyses WHERE id = ?');
    for (const id of ids) {
      if (!onDisk.has(id)) rowsRemoved += del.run(id).changes;
    }
    return { tempRemoved, orphansRemoved, rowsRemoved };
  }

  /**
   * Store an analysis atomically: files are written and fsynced in a temp folder, then the
   * row is inserted and the folder renamed into place in one transaction.
   */
  async save(
    record: AnalysisRecord,
    files: Readonly<Partial<Record<AnalysisFileName, Buffer>>>,
  ): Promise<void> {
    if (!UUID.test(record.id))
      throw new DentsegError('E_USAGE', `invalid analysis id "${record.id}"`);
    this.#tmpCounter += 1;
    const tmp = path.join(this.#tmpDir, `${record.id}.${process.pid}.${this.#tmpCounter}`);
    mkdirSync(tmp);
    try {
      for (const [name, data] of Object.entries(files)) {
        if (data === undefined) continue;
        if (!isAnalysisFileName(name)) {
          throw new DentsegError('E_USAGE', `not an analysis file name: "${name}"`);
        }
        const handle = await open(path.join(tmp, name), 'wx');
        try {
          await handle.writeFile(data);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      const finalDir = path.join(this.#imagesDir, record.id);
      const insert = this.#db.prepare(
        'INSERT INTO analyses (id, created, record, user) VALUES (?, ?, ?, ?)',
      );
      const done = this.#db.prepare("UPDATE jobs SET status = 'done', error = NULL WHERE id = ?");
      this.#db.transaction(() => {
        insert.run(record.id, record.created, JSON.stringify(record), record.user);
        done.run(record.id);
        // No row had this id, so a folder already there is an orphan of a crashed save.
        if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
        renameSync(tmp, finalDir);
      })();
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * The analysis with this id, or undefined. With `owner` (a user name), only that user's
   * analysis is found: another user's answers undefined, as an unknown id does.
   */
  async get(id: string, owner?: string): Promise<AnalysisRecord | undefined> {
    return this.#get(id, owner);
  }

  #get(id: string, owner?: string): AnalysisRecord | undefined {
    if (!UUID.test(id)) return undefined;
    const row = (
      owner === undefined
        ? this.#db.prepare('SELECT id, record, user FROM analyses WHERE id = ?').get(id)
        : this.#db
            .prepare('SELECT id, record, user FROM analyses WHERE id = ? AND user = ?')
            .get(id, owner)
    ) as Row | undefined;
    return row ? recordOf(row) : undefined;
  }

  /**
   * Newest first; `limit` 1–100, `offset` ≥ 0. With `owner`, only that user's analyses (and
   * `total` counts only those).
   */
  async list(
    limit: number,
    offset: number,
    owner?: string,
  ): Promise<{ items: AnalysisRecord[]; total: number }> {
    const where = owner === undefined ? '' : 'WHERE user = ?';
    const args = owner === undefined ? [] : [owner];
    const rows = this.#db
      .prepare(`SELECT id, record, user FROM analyses ${where} ORDER BY seq DESC LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as Row[];
    return { items: rows.map(recordOf), total: this.#count(owner) };
  }

  /** Number of stored analyses (with `owner`, that user's only). */
  async count(owner?: string): Promise<number> {
    return this.#count(owner);
  }

  #count(owner?: string): number {
    const row = (
      owner === undefined
        ? this.#db.prepare('SELECT COUNT(*) AS n FROM analyses').get()
        : this.#db.prepare('SELECT COUNT(*) AS n FROM analyses WHERE user = ?').get(owner)
    ) as { n: number };
    return row.n;
  }

  /**
   * Read one stored file of analysis `id`: undefined when the analysis is unknown (or not
   * `owner`'s, when given), null when it exists but the file has not been written (yet).
   */
  async readFile(
    id: string,
    name: AnalysisFileName,
    owner?: string,
  ): Promise<Buffer | null | undefined> {
    if (!this.#get(id, owner)) return undefined;
    try {
      return await readFile(path.join(this.#imagesDir, id, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return this.#get(id, owner) ? null : undefined;
      throw err;
    }
  }

  /**
   * Add a file to an existing analysis (written to a temp file, fsynced, renamed into
   * place); false when the analysis no longer exists.
   */
  async addFile(id: string, name: AnalysisFileName, data: Buffer): Promise<boolean> {
    if (!this.#get(id)) return false;
    this.#tmpCounter += 1;
    const tmp = path.join(this.#tmpDir, `${id}.${name}.${process.pid}.${this.#tmpCounter}`);
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      renameSync(tmp, path.join(this.#imagesDir, id, name));
      return true;
    } catch {
      await rm(tmp, { force: true }); // deleted meanwhile
      return false;
    }
  }

  /**
   * Change analysis `id` in one immediate transaction (the write lock is taken before the
   * read, so other processes on the same database cannot interleave); see Store.update.
   */
  async update(
    id: string,
    mutate: (record: AnalysisRecord) => RecordChange,
    owner?: string,
  ): Promise<AnalysisRecord | undefined> {
    const write = this.#db.prepare('UPDATE analyses SET record = ? WHERE id = ?');
    return this.#db
      .transaction((): AnalysisRecord | undefined => {
        const current = this.#get(id, owner);
        if (!current) return undefined;
        const change = mutate(current);
        write.run(JSON.stringify(change.record), id);
        this.#appendAudit(id, change.audit);
        return change.record;
      })
      .immediate();
  }

  async audit(id: string): Promise<AuditEntry[]> {
    const rows = this.#db
      .prepare('SELECT at, user, action, before, after FROM audit WHERE analysis = ? ORDER BY seq')
      .all(id) as AuditRow[];
    return rows.map(auditOf);
  }

  /**
   * Delete an analysis (row first, then its files) and audit it, or a job still on the
   * queue (row, then its upload); false when neither exists (or, with `owner`, is not that
   * user's).
   */
  async delete(id: string, owner?: string, by: string | null = null): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const dir = path.join(this.#imagesDir, id);
    this.#tmpCounter += 1;
    const trash = path.join(this.#tmpDir, `deleted-${id}.${process.pid}.${this.#tmpCounter}`);
    let removed: 'analysis' | 'job' | undefined;
    this.#db
      .transaction(() => {
        const record = this.#get(id, owner);
        if (record) {
          this.#db.prepare('DELETE FROM analyses WHERE id = ?').run(id);
          this.#db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
          this.#appendAudit(id, [deletionEntry(record, by)]);
          if (existsSync(dir)) renameSync(dir, trash);
          removed = 'analysis';
          return;
        }
        // Not analysed yet: the job goes (a worker skips a job without a row).
        const del =
          owner === undefined
            ? this.#db.prepare('DELETE FROM jobs WHERE id = ?').run(id)
            : this.#db.prepare('DELETE FROM jobs WHERE id = ? AND user = ?').run(id, owner);
        if (del.changes > 0) removed = 'job';
      })
      .immediate();
    if (removed === 'analysis') await rm(trash, { recursive: true, force: true });
    if (removed === 'job') await removeUpload(this.dataDir, id);
    return removed !== undefined;
  }

  async addJob(job: JobEntry): Promise<void> {
    if (!UUID.test(job.id)) throw new DentsegError('E_USAGE', `invalid analysis id "${job.id}"`);
    this.#db
      .prepare(
        "INSERT INTO jobs (id, user, filename, created, status) VALUES (?, ?, ?, ?, 'queued') ON CONFLICT (id) DO NOTHING",
      )
      .run(job.id, job.user, job.filename, job.created);
  }

  async setStatus(
    id: string,
    status: ProcessingStatus,
    error?: { readonly code: string; readonly message: string },
  ): Promise<void> {
    this.#db
      .prepare('UPDATE jobs SET status = ?, error = ? WHERE id = ?')
      .run(status, error ? JSON.stringify(error) : null, id);
  }

  async unfinished(before: string, limit: number): Promise<string[]> {
    const rows = this.#db
      .prepare(
        "SELECT id FROM jobs WHERE status IN ('queued', 'running') AND created < ? ORDER BY created LIMIT ?",
      )
      .all(before, limit) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async status(id: string, owner?: string): Promise<JobState | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = this.#db
      .prepare('SELECT id, user, filename, created, status, error FROM jobs WHERE id = ?')
      .get(id) as JobRow | undefined;
    if (!row || (owner !== undefined && row.user !== owner)) return undefined;
    return jobStateOf(row);
  }

  /** Close the database. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
