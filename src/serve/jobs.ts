/**
 * The analyses queue on Redis (BullMQ): the API adds a job per accepted upload, with the
 * analysis id as the job id so a repeated add is a no-op; workers (worker.ts) take them.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DentsegError } from '../errors.js';

/** The BullMQ queue every API node and worker shares. */
export const QUEUE_NAME = 'dentseg-analyses';

/** What a job carries: only the id; the upload and its owner are in the store and data dir. */
export interface AnalysisJobData {
  readonly id: string;
}

/** Tries per analysis (a crash or a stalled worker counts as one). */
export const JOB_ATTEMPTS = 3;

/**
 * A Redis connection for `url` (redis://[user:pass@]host:port[/db]). Workers block on Redis
 * and must retry forever (`maxRetriesPerRequest: null`, as BullMQ requires); the API fails a
 * request fast instead, so a client gets 503 rather than a hung upload.
 */
export function redisConnection(url: string, role: 'producer' | 'worker'): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DentsegError('E_USAGE', `--queue must be a redis:// URL; received "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DentsegError('E_USAGE', `--queue must be a redis:// URL; received "${url}"`);
  }
  const redis = new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    lazyConnect: false,
    // Reconnect quickly after a Redis restart, never give up.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  redis.on('error', () => undefined); // reported through the failing commands instead
  return redis;
}

/** Where the API puts accepted uploads. */
export interface JobQueue {
  /** Enqueue analysis `id` (idempotent); E_QUEUE_UNAVAILABLE when Redis cannot be reached. */
  add(id: string): Promise<void>;
  /** Jobs waiting and running on the shared queue. */
  counts(): Promise<{ readonly waiting: number; readonly active: number }>;
  close(): Promise<void>;
}

/** Fail after `ms` with E_QUEUE_UNAVAILABLE. */
async function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new DentsegError('E_QUEUE_UNAVAILABLE', 'the job queue (Redis) does not answer')),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } catch (err) {
    if (err instanceof DentsegError) throw err;
    throw new DentsegError('E_QUEUE_UNAVAILABLE', 'the job queue (Redis) cannot be reached', {
      hint: 'check that Redis runs and the --queue URL is right',
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The BullMQ producer side. */
export class RedisJobQueue implements JobQueue {
  readonly #redis: Redis;
  readonly #queue: Queue<AnalysisJobData>;

  constructor(url: string) {
    this.#redis = redisConnection(url, 'producer');
    this.#queue = new Queue<AnalysisJobData>(QUEUE_NAME, { connection: this.#redis });
    this.#queue.on('error', () => undefined);
  }

  async add(id: string): Promise<void> {
    await bounded(
      this.#queue.add(
        'analyse',
        { id },
        {
          jobId: id,
          attempts: JOB_ATTEMPTS,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      ),
      5000,
    );
  }

  async counts(): Promise<{ waiting: number; active: number }> {
    const c = await bounded(this.#queue.getJobCounts('waiting', 'active', 'delayed'), 5000);
    return { waiting: (c.waiting ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 };
  }

  /** BullMQ's times of job `id` (ms since the epoch), for measurements; undefined when gone. */
  async times(
    id: string,
  ): Promise<{ enqueued: number; started?: number; finished?: number } | undefined> {
    const job = await this.#queue.getJob(id);
    if (!job) return undefined;
    return {
      enqueued: job.timestamp,
      ...(job.processedOn !== undefined ? { started: job.processedOn } : {}),
      ...(job.finishedOn !== undefined ? { finished: job.finishedOn } : {}),
    };
  }

  /**
   * Hold or release every worker's intake (benchmarks; never used by the server): jobs
   * added while paused wait, so a measurement can start with the whole backlog queued.
   */
  async pause(): Promise<void> {
    await this.#queue.pause();
  }

  async resume(): Promise<void> {
    await this.#queue.resume();
  }

  /** Remove every waiting job (benchmarks; never used by the server). */
  async drain(): Promise<void> {
    await this.#queue.drain();
  }

  async close(): Promise<void> {
    await this.#queue.close();
    this.#redis.disconnect();
  }
}
