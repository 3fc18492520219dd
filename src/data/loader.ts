/**
 * Batches for training: decode + pre-process + augment in worker threads, prefetching a
 * bounded number of batches. Output is deterministic for (seed, epoch) whatever the
 * worker count: the order comes from a seeded shuffle and each sample's augmentation from
 * (seed, epoch, sample index). Reports how long the consumer waited on `next()`.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  normaliseAugmentConfig,
  type AugmentConfig,
  type NormalisedAugmentConfig,
} from '../augment/config.js';
import { Rng } from '../rng.js';
import { DentsegError, type ErrorCode } from '../errors.js';
import type { SampleRef } from './dataset.js';
import { prepareSample, type PreparedSample } from './pipeline.js';
import { validatePreprocessConfig, type PreprocessConfig } from './preprocess.js';
import type { WorkerJob, WorkerReply, WorkerRequest } from './worker.js';

export interface LoaderOptions {
  readonly samples: readonly SampleRef[];
  /** Samples per batch (≥ 1). The last batch may be smaller unless `dropLast`. */
  readonly batchSize: number;
  readonly preprocess: PreprocessConfig;
  /** Augmentation (training); omit for validation. */
  readonly augment?: AugmentConfig | undefined;
  readonly seed: number;
  readonly epoch: number;
  readonly shuffle: boolean;
  /** Worker threads; 0 = in this thread. Default: cores − 1, at least 1, at most 4. */
  readonly workers?: number | undefined;
  /** Batches prepared ahead (memory bound: (prefetch + 1) × batch). Default 2. */
  readonly prefetch?: number | undefined;
  readonly dropLast?: boolean | undefined;
  /**
   * Skip this many batches of the epoch without preparing them (resume mid-epoch: the
   * remaining batches are the same bytes as in an uninterrupted run). Default 0.
   */
  readonly startBatch?: number | undefined;
  /** Class swap under a horizontal/vertical flip when `augment` has none (from `Dataset`). */
  readonly flipClassMap?: readonly number[] | undefined;
  readonly vflipClassMap?: readonly number[] | undefined;
}

export interface Batch {
  /** `size*h*w*c` network input, NHWC. */
  readonly images: Float32Array;
  /** `size*h*w` class indices. */
  readonly masks: Uint8Array;
  /** Samples in this batch. */
  readonly size: number;
  /** Ids of the samples, in order. */
  readonly ids: string[];
}

export interface LoaderStats {
  readonly batches: number;
  readonly samples: number;
  /** Total ms the consumer spent blocked in `next()` waiting for data. */
  readonly waitMs: number;
  /** Wall ms from the first `next()` to now / to the end. */
  readonly elapsedMs: number;
  readonly workers: number;
}

export interface DataLoader extends AsyncIterable<Batch> {
  /** Number of batches this loader yields (the epoch's, less `startBatch`). */
  readonly length: number;
  stats(): LoaderStats;
  /** Stop workers early (also done when iteration ends or breaks). */
  close(): Promise<void>;
}

/** Default worker count: cores − 1, between 1 and 4. */
export function defaultWorkers(): number {
  const cores =
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores - 1));
}

/**
 * Worker entry next to this module: `worker.js` from dist; from src (tests, tsx) a tiny
 * bootstrap registers tsx's ESM hooks inside the worker (hooks given to the parent via
 * `--import` do not reach worker threads) and then imports `worker.ts`.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const target = new URL('./worker.ts', import.meta.url).href;
  const boot =
    `import(${JSON.stringify(pathToFileURL(api).href)})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(target)}); })` +
    `.catch((e) => { console.error(e); process.exit(1); });`;
  return new Worker(boot, { eval: true });
}

interface Slot {
  resolve: (s: PreparedSample) => void;
  reject: (e: Error) => void;
  promise: Promise<PreparedSample>;
}

function toError(e: { message: string; code?: string; file?: string; hint?: string }): Error {
  if (e.code?.startsWith('E_')) {
    // Message already carries the file prefix; rebuild without doubling it.
    const msg =
      e.file && e.message.startsWith(`${e.file}: `)
        ? e.message.slice(e.file.length + 2)
        : e.message;
    return new DentsegError(e.code as ErrorCode, msg, {
      ...(e.file !== undefined ? { file: e.file } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
    });
  }
  return new Error(e.message);
}

/** Create an epoch's loader. Iterate it once. */
export function createLoader(opts: LoaderOptions): DataLoader {
  const bs = opts.batchSize;
  if (!Number.isInteger(bs) || bs < 1)
    throw new DentsegError('E_USAGE', `batchSize must be an integer ≥ 1, got ${bs}`);
  const preprocess = validatePreprocessConfig(opts.preprocess);
  let augment: NormalisedAugmentConfig | undefined;
  if (opts.augment) {
    const flip = opts.augment.flipClassMap ?? opts.flipClassMap;
    const vflip = opts.augment.vflipClassMap ?? opts.vflipClassMap;
    augment = normaliseAugmentConfig({
      transforms: opts.augment.transforms,
      ...(flip ? { flipClassMap: flip } : {}),
      ...(vflip ? { vflipClassMap: vflip } : {}),
    });
  }
  const nWorkers = Math.max(0, Math.floor(opts.workers ?? defaultWorkers()));
  const prefetch = Math.max(1, Math.floor(opts.prefetch ?? 2));
  const order = opts.samples.map((_, i) => i);
  if (opts.shuffle) Rng.seeded(opts.seed, opts.epoch, 0x5eed).shuffle(order);
  const total = opts.dropLast ? Math.floor(order.length / bs) * bs : order.length;
  const nBatches = Math.ceil(total / bs);
  const startBatch = Math.max(0, Math.floor(opts.startBatch ?? 0));
  const [h, w] = preprocess.size;
  const c = preprocess.channels;
  const job: WorkerJob = { preprocess, augment, seed: opts.seed, epoch: opts.epoch };

  const slots = new Map<number, Slot>();
  let nextPos = Math.min(total, startBatch * bs); // next sample position to schedule
  let workers: Worker[] = [];
  let pending: number[] = [];
  let closed = false;
  let waitMs = 0;
  let started = 0;
  let batchesOut = 0;
  let samplesOut = 0;

  function slot(pos: number): Slot {
    let s = slots.get(pos);
    if (!s) {
      let resolve!: (v: PreparedSample) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<PreparedSample>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined); // surfaced when awaited
      s = { resolve, reject, promise };
      slots.set(pos, s);
    }
    return s;
  }

  function startWorkers(): void {
    workers = Array.from({ length: nWorkers }, () => spawnWorker());
    pending = workers.map(() => 0);
    workers.forEach((wk, i) => {
      wk.postMessage({ type: 'job', job } satisfies WorkerRequest);
      wk.on('message', (reply: WorkerReply) => {
        pending[i]!--;
        const s = slot(reply.pos);
        if ('error' in reply) s.reject(toError(reply.error));
        else s.resolve({ image: reply.image, mask: reply.mask });
      });
      wk.on('error', (err) => {
        for (const s of slots.values()) s.reject(err);
      });
      // A worker that dies without an 'error' (e.g. its bootstrap exits) must not hang us.
      wk.on('exit', (code) => {
        if (closed) return;
        const err = new Error(`data loader worker ${i} exited with code ${code}`);
        for (const s of slots.values()) s.reject(err);
      });
    });
  }

  /** Keep (prefetch + 1) batches of samples scheduled ahead of the consumer. */
  function schedule(consumedBatches: number): void {
    const limit = Math.min(total, (consumedBatches + prefetch + 1) * bs);
    while (nextPos < limit) {
      const pos = nextPos++;
      const index = order[pos]!;
      const ref = opts.samples[index]!;
      const s = slot(pos);
      if (nWorkers === 0) {
        prepareSample(ref, index, preprocess, augment, opts.seed, opts.epoch).then(
          s.resolve,
          s.reject,
        );
      } else {
        let best = 0;
        for (let i = 1; i < workers.length; i++) if (pending[i]! < pending[best]!) best = i;
        pending[best]!++;
        workers[best]!.postMessage({ type: 'task', pos, index, ref } satisfies WorkerRequest);
      }
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    const ws = workers;
    workers = [];
    await Promise.all(ws.map((wk) => wk.terminate()));
    slots.clear();
  }

  async function* iterate(): AsyncGenerator<Batch> {
    started = performance.now();
    if (nWorkers > 0) startWorkers();
    try {
      for (let b = startBatch; b < nBatches; b++) {
        const t0 = performance.now(); // consumer is inside next() from here to the yield
        schedule(b);
        const from = b * bs;
        const to = Math.min(total, from + bs);
        const size = to - from;
        const images = new Float32Array(size * h * w * c);
        const masks = new Uint8Array(size * h * w);
        const ids: string[] = [];
        for (let pos = from; pos < to; pos++) {
          const s = await slot(pos).promise;
          slots.delete(pos);
          images.set(s.image, (pos - from) * h * w * c);
          masks.set(s.mask, (pos - from) * h * w);
          ids.push(opts.samples[order[pos]!]!.id);
        }
        waitMs += performance.now() - t0;
        batchesOut++;
        samplesOut += size;
        schedule(b + 1);
        yield { images, masks, size, ids };
      }
    } finally {
      await close();
    }
  }

  return {
    length: Math.max(0, nBatches - startBatch),
    stats: () => ({
      batches: batchesOut,
      samples: samplesOut,
      waitMs,
      elapsedMs: started ? performance.now() - started : 0,
      workers: nWorkers,
    }),
    close,
    [Symbol.asyncIterator]: () => iterate(),
  };
}
