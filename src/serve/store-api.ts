/**
 * The one store interface the API and the workers use, whatever keeps the records: SQLite
 * (the embedded default, store.ts) or PostgreSQL (store-pg.ts, for several nodes). Images
 * always live as files in the shared data dir, written atomically.
 */
import type {
  AnalysisFileName,
  AnalysisRecord,
  AuditEntry,
  FindingJson,
  ToothJson,
} from './types.js';

/** Processing state of an analysis (its review state, if any, is kept apart). */
export type ProcessingStatus = 'queued' | 'running' | 'done' | 'failed';

/** Processing states, in order. */
export const PROCESSING_STATUSES: readonly ProcessingStatus[] = [
  'queued',
  'running',
  'done',
  'failed',
];

/** An upload accepted for processing on a queue (no record yet until it is done). */
export interface JobEntry {
  /** The analysis id (UUID v4); also the queue's job id. */
  readonly id: string;
  /** Who uploaded it (null on a server without tokens). */
  readonly user: string | null;
  /** The uploaded file's name as the client sent it. */
  readonly filename: string;
  /** ISO 8601 time the upload was accepted. */
  readonly created: string;
}

/** Where a queued analysis stands. */
export interface JobState extends JobEntry {
  readonly status: ProcessingStatus;
  /** Why it failed (status `failed`), else null. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

/**
 * A change to one stored analysis, as `Store.update`'s mutation returns it: the new record
 * and the audit entries it makes, in order (written together or not at all).
 */
export interface RecordChange {
  readonly record: AnalysisRecord;
  readonly audit: readonly AuditEntry[];
}

/** Records, per-owner listing, files, audit and processing status of analyses. */
export interface Store {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** The data dir (absolute) holding the image files (and SQLite's database). */
  readonly dataDir: string;
  /**
   * Store a finished analysis atomically (files, then the row) and mark its job done;
   * rejects when the id is already stored.
   */
  save(
    record: AnalysisRecord,
    files: Readonly<Partial<Record<AnalysisFileName, Buffer>>>,
  ): Promise<void>;
  /** The analysis, or undefined (also when `owner` is given and it is someone else's). */
  get(id: string, owner?: string): Promise<AnalysisRecord | undefined>;
  /** Newest first; `limit` 1–100, `offset` ≥ 0; with `owner`, that user's only. */
  list(
    limit: number,
    offset: number,
    owner?: string,
  ): Promise<{ items: AnalysisRecord[]; total: number }>;
  /** Number of stored analyses (with `owner`, that user's). */
  count(owner?: string): Promise<number>;
  /** A stored file: undefined when the analysis is unknown, null when the file is not written. */
  readFile(id: string, name: AnalysisFileName, owner?: string): Promise<Buffer | null | undefined>;
  /** Add a file to a stored analysis; false when the analysis no longer exists. */
  addFile(id: string, name: AnalysisFileName, data: Buffer): Promise<boolean>;
  /**
   * Change a stored analysis atomically (one transaction, the row locked: concurrent
   * updates apply one after the other, none lost). `mutate` gets the current record and
   * returns the new one and its audit entries; when it throws, nothing changes and the
   * error propagates. Undefined when the analysis is unknown (or not `owner`'s).
   */
  update(
    id: string,
    mutate: (record: AnalysisRecord) => RecordChange,
    owner?: string,
  ): Promise<AnalysisRecord | undefined>;
  /**
   * The audit of analysis `id`, oldest first: also after the analysis was deleted (its
   * last entry is then `analysis.delete`); empty for an id never audited.
   */
  audit(id: string): Promise<AuditEntry[]>;
  /**
   * Delete an analysis (its row, images and job), or a job still on the queue (its row and
   * upload); false when unknown (or not `owner`'s). The deletion of a stored analysis is
   * audited as `analysis.delete` by `by` (the acting user; default null); earlier audit
   * entries stay.
   */
  delete(id: string, owner?: string, by?: string | null): Promise<boolean>;
  /** Record an accepted upload as `queued`; a second call with the same id changes nothing. */
  addJob(job: JobEntry): Promise<void>;
  /** Move a job to `status` (with the error for `failed`). */
  setStatus(
    id: string,
    status: ProcessingStatus,
    error?: { readonly code: string; readonly message: string },
  ): Promise<void>;
  /**
   * Ids of jobs still `queued` or `running` that were accepted before `before` (ISO 8601),
   * oldest first, at most `limit`: what a sweep puts back on the queue after Redis lost it.
   */
  unfinished(before: string, limit: number): Promise<string[]>;
  /** The job of analysis `id` (undefined when none, or not `owner`'s). */
  status(id: string, owner?: string): Promise<JobState | undefined>;
  /** Release connections. */
  close(): Promise<void>;
}

/** UUID v4 as the store accepts it (ids become folder names). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A stored row: the record's JSON and its owner column. */
export interface StoredRow {
  readonly record: string;
  readonly user: string | null;
}

/**
 * A stored row as the API's record: the `user` column wins over the JSON (older rows lack
 * it), records stored before tooth numbering get the empty `teeth` and `missing` that a
 * model without numbering gives, and records stored before review existed read back
 * unreviewed: findings numbered `f1`, `f2`, … in stored order, every finding and tooth
 * `suggested`, a finding's type its class and its tooth unknown (null).
 */
export function recordOf(row: StoredRow): AnalysisRecord {
  const stored = JSON.parse(row.record) as Partial<AnalysisRecord>;
  const findings = (stored.findings ?? []) as readonly Partial<FindingJson>[];
  const teeth = (stored.teeth ?? []) as readonly Partial<ToothJson>[];
  return {
    ...(stored as AnalysisRecord),
    findings: findings.map((f, i): FindingJson => ({
      ...(f as FindingJson),
      id: f.id ?? `f${i + 1}`,
      review: f.review ?? 'suggested',
      type: f.type ?? (f.class as string),
      tooth: f.tooth ?? null,
    })),
    teeth: teeth.map((t): ToothJson => ({ ...(t as ToothJson), review: t.review ?? 'suggested' })),
    missing: stored.missing ?? [],
    reviewed: stored.reviewed ?? null,
    corrections: stored.corrections ?? { masks: [] },
    user: row.user,
  };
}

/** A stored audit row. */
export interface AuditRow {
  readonly at: string;
  readonly user: string | null;
  readonly action: string;
  readonly before: string | null;
  readonly after: string | null;
}

/** An audit row as the API's entry (before/after are stored as JSON text). */
export function auditOf(row: AuditRow): AuditEntry {
  return {
    at: row.at,
    user: row.user,
    action: row.action as AuditEntry['action'],
    before: row.before === null ? null : (JSON.parse(row.before) as unknown),
    after: row.after === null ? null : (JSON.parse(row.after) as unknown),
  };
}

/** What the audit keeps of a deleted analysis (no images, nothing of the patient's). */
export function deletionEntry(record: AnalysisRecord, by: string | null): AuditEntry {
  return {
    at: new Date().toISOString(),
    user: by,
    action: 'analysis.delete',
    before: {
      id: record.id,
      created: record.created,
      filename: record.filename,
      user: record.user,
      reviewed: record.reviewed,
    },
    after: null,
  };
}

/**
 * An audit entry as both stores insert it: (analysis, at, user, action, before, after), with
 * `before`/`after` as JSON text (null stays null).
 */
export function auditRow(
  id: string,
  e: AuditEntry,
): [string, string, string | null, string, string | null, string | null] {
  const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));
  return [id, e.at, e.user, e.action, json(e.before), json(e.after)];
}
