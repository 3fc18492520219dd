/**
 * The API side of `serve --queue`: check what can be checked cheaply (format, pixel count
 * from the header), keep the upload in the shared data dir, record it as queued and put
 * its id on the queue. The analysis itself runs on a worker.
 */
import { randomUUID } from 'node:crypto';
import type { JobQueue } from './jobs.js';
import { checkUpload } from './sniff.js';
import type { JobState, Store } from './store-api.js';
import { removeUpload, writeUpload } from './store-files.js';
import { linksFor } from './types.js';

/** A job's state as the API sends it. */
export function jobView(state: JobState): Record<string, unknown> {
  return {
    id: state.id,
    status: state.status,
    created: state.created,
    filename: state.filename,
    user: state.user,
    error: state.error,
    links: { self: linksFor(state.id).self },
  };
}

/** Accept an upload for a worker; resolves with the queued job's state. */
export async function enqueueUpload(
  store: Store,
  jobs: JobQueue,
  buf: Buffer,
  filename: string,
  options: { readonly maxPixels: number; readonly user: string | null },
): Promise<JobState> {
  const name = filename || 'upload';
  await checkUpload(buf, name, options.maxPixels);
  const entry = {
    id: randomUUID(),
    user: options.user,
    filename,
    created: new Date().toISOString(),
  };
  await writeUpload(store.dataDir, entry.id, buf);
  try {
    await store.addJob(entry);
    await jobs.add(entry.id);
  } catch (err) {
    // Nothing half-accepted: the client gets 503 and may send it again.
    await store
      .setStatus(entry.id, 'failed', { code: 'E_QUEUE_UNAVAILABLE', message: 'never queued' })
      .catch(() => undefined);
    await removeUpload(store.dataDir, entry.id);
    throw err;
  }
  return { ...entry, status: 'queued', error: null };
}

/**
 * Health's `queue` on a server with a shared queue: jobs running on workers and waiting
 * (-1 each while Redis cannot be reached: health itself stays up).
 */
export async function sharedQueueHealth(
  jobs: JobQueue,
  limit: number,
): Promise<{ running: number; waiting: number; limit: number }> {
  try {
    const c = await jobs.counts();
    return { running: c.active, waiting: c.waiting, limit };
  } catch {
    return { running: -1, waiting: -1, limit };
  }
}
