/**
 * Pick the store from the command line: PostgreSQL for `--db postgres://…`, else the
 * embedded SQLite database in the data dir.
 */
import { DentsegError } from '../errors.js';
import type { Store } from './store-api.js';
import { AnalysisStore } from './store.js';

/** Open the store for `--db` (optional) and `--data-dir`. */
export async function openStore(db: string | undefined, dataDir: string): Promise<Store> {
  if (db === undefined) return AnalysisStore.open(dataDir);
  if (!/^postgres(ql)?:\/\//.test(db)) {
    throw new DentsegError('E_USAGE', `--db must be a postgres:// URL; received "${db}"`, {
      hint: 'leave --db out for the embedded SQLite database in --data-dir',
    });
  }
  const { PgStore } = await import('./store-pg.js');
  return PgStore.open(db, dataDir);
}

/** A service URL for the logs, its password replaced by `***`. */
export function hidePassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
