/**
 * Put back on the queue what the store says is unfinished: if Redis lost jobs (a restart
 * without its append-only file, a failover), their uploads would otherwise wait forever.
 * Adding is idempotent (the job id is the analysis id), so a job Redis still has is left
 * as it is; the sweep runs on every `serve --queue` start and then periodically.
 */
import type { JobQueue } from './jobs.js';
import type { Store } from './store-api.js';

/**
 * Re-add every job still queued or running that was accepted more than `graceMs` ago (so
 * an upload being accepted right now is not raced); resolves with how many were re-added.
 */
export async function requeueUnfinished(
  store: Store,
  jobs: JobQueue,
  graceMs = 60_000,
): Promise<number> {
  const before = new Date(Date.now() - graceMs).toISOString();
  const ids = await store.unfinished(before, 10_000);
  for (const id of ids) await jobs.add(id);
  return ids.length;
}
