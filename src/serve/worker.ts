/**
 * A queue worker: takes analyses from the shared BullMQ queue, runs the model (loaded once
 * per process) on the upload kept in the shared data dir, and stores the result. Runs
 * exactly once per analysis from the store's point of view: a retried job (a worker that
 * died mid-analysis, found stalled by BullMQ) first checks whether the record is already
 * there, and a duplicate insert is recognised as such.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import sharp from 'sharp';
import { defaultThreads } from '../engine/threads.js';
import { DentsegError, isDentsegError } from '../errors.js';
import type { LoadedModel } from '../infer/index.js';
import { analyseUpload } from './analyse.js';
import { JOB_ATTEMPTS, QUEUE_NAME, redisConnection, type AnalysisJobData } from './jobs.js';
import type { Store } from './store-api.js';
import { readUploadFile, removeUpload } from './store-files.js';

/** Failures that another try would repeat: the upload itself is bad. */
const PERMANENT = new Set([
  'E_IMAGE_DECODE',
  'E_IMAGE_FORMAT',
  'E_TOO_LARGE',
  'E_DICOM_UNSUPPORTED',
  'E_USAGE',
]);

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** redis://host:port of the shared queue. */
  readonly queueUrl: string;
  readonly store: Store;
  /** The model, or the model set (teeth model and lesion models), loaded once. */
  readonly model: LoadedModel | readonly LoadedModel[];
  /** Analyses at once in this process (default 1: one inference thread). */
  readonly concurrency?: number;
  /** Largest width × height accepted, pixels (default 40 M). */
  readonly maxPixels?: number;
  /** Probability threshold, 0–1 (default: each model's `postprocess.threshold`, else 0.5). */
  readonly threshold?: number;
  /** Keep a DICOM upload's patient and study tags for the DICOM exports (default false). */
  readonly keepDicomTags?: boolean;
  /** Keep findings and teeth of uploads that are not panoramic X-rays (`--force`; default false). */
  readonly force?: boolean;
  /**
   * How long a job's lock lasts without renewal, ms (default 30 000): a worker that dies
   * gives its jobs back after about this long.
   */
  readonly lockDurationMs?: number;
  /** How often stalled jobs are looked for, ms (default 30 000). */
  readonly stalledIntervalMs?: number;
  /** Called once per finished or failed analysis (for logs and tests). */
  readonly onEvent?: (event: { id: string; status: 'done' | 'failed'; ms: number }) => void;
}

/** A running worker. */
export interface RunningWorker {
  /** Stop taking jobs, wait for the running ones, disconnect. */
  close(): Promise<void>;
}

/** Run one analysis job. */
async function processJob(job: Job<AnalysisJobData>, options: WorkerOptions): Promise<void> {
  const { store, model } = options;
  const id = job.data.id;
  const started = performance.now();
  if (await store.get(id)) {
    // Stored by an earlier try that died before telling the queue.
    await removeUpload(store.dataDir, id);
    return;
  }
  const state = await store.status(id);
  if (!state) return; // deleted while it waited
  await store.setStatus(id, 'running');
  const buf = await readUploadFile(store.dataDir, id);
  if (!buf) throw new UnrecoverableError(`the upload of analysis ${id} is missing`);
  try {
    const out = await analyseUpload(model, buf, state.filename, {
      maxPixels: options.maxPixels ?? 40_000_000,
      ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
      user: state.user,
      id,
      keepDicomTags: options.keepDicomTags === true,
      force: options.force === true,
    });
    try {
      await store.save({ ...out.record, created: state.created }, out.files);
    } catch (err) {
      // Another try stored it meanwhile: that copy stands, this one is dropped.
      if (!(await store.get(id).catch(() => undefined))) throw err;
    }
    await removeUpload(store.dataDir, id);
    // Deleted (its job row removed) while it ran: what was just stored goes too.
    if (!(await store.status(id))) await store.delete(id);
    options.onEvent?.({ id, status: 'done', ms: performance.now() - started });
  } catch (err) {
    if (isDentsegError(err) && PERMANENT.has(err.code)) {
      await store.setStatus(id, 'failed', { code: err.code, message: err.message });
      await removeUpload(store.dataDir, id);
      options.onEvent?.({ id, status: 'failed', ms: performance.now() - started });
      throw new UnrecoverableError(err.message);
    }
    throw err;
  }
}

/** Start a worker on the shared queue. */
export function startWorker(options: WorkerOptions): RunningWorker {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DentsegError(
      'E_USAGE',
      `--concurrency must be an integer ≥ 1; received ${concurrency}`,
    );
  }
  // libvips (decode, resize, PNG encoding) takes every core by default: with several
  // workers on one machine that oversubscribes it just as ORT would. The same limit as the
  // inference threads (DENTSEG_THREADS, else all cores) applies to both.
  sharp.concurrency(defaultThreads());
  const connection = redisConnection(options.queueUrl, 'worker');
  const worker = new Worker<AnalysisJobData>(QUEUE_NAME, (job) => processJob(job, options), {
    connection,
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A job whose worker died is retried, not failed, up to the attempts limit.
    maxStalledCount: JOB_ATTEMPTS,
  });
  worker.on('error', () => undefined); // connection errors: ioredis reconnects
  worker.on('failed', (job, err) => {
    if (!job) return;
    const last = err instanceof UnrecoverableError || job.attemptsMade >= JOB_ATTEMPTS;
    if (!last) return;
    void options.store
      .status(job.data.id)
      .then(async (state) => {
        if (state && state.status !== 'failed') {
          await options.store.setStatus(job.data.id, 'failed', {
            code: 'E_INTERNAL',
            message: err.message,
          });
        }
      })
      .catch(() => undefined);
  });
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
