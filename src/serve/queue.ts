/**
 * A bounded inference queue: model runs one (or a few) at a time, later uploads wait
 * their turn, and only when the queue itself is full is a request refused (HTTP 503).
 */
import { DentsegError } from '../errors.js';

export interface QueueOptions {
  /** Jobs run at once (1 for one model on one process: tfjs is single-threaded JS). */
  readonly concurrency: number;
  /** Running + waiting jobs allowed; one more is refused with E_QUEUE_FULL. ≥ concurrency. */
  readonly limit: number;
}

/** Runs async jobs with bounded concurrency and a bounded backlog. */
export class InferenceQueue {
  readonly #concurrency: number;
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #completed = 0;

  constructor(options: QueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new DentsegError(
        'E_USAGE',
        `queue concurrency must be an integer ≥ 1; received ${options.concurrency}`,
      );
    }
    if (!Number.isInteger(options.limit) || options.limit < options.concurrency) {
      throw new DentsegError(
        'E_USAGE',
        `--queue-limit must be an integer ≥ ${options.concurrency}; received ${options.limit}`,
      );
    }
    this.#concurrency = options.concurrency;
    this.#limit = options.limit;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Jobs finished (successfully or not) since start. */
  get completed(): number {
    return this.#completed;
  }

  /** The configured backlog bound (running + waiting). */
  get limit(): number {
    return this.#limit;
  }

  /** Run `job` when a slot is free; rejects at once with E_QUEUE_FULL when the backlog is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running + this.#waiting.length >= this.#limit) {
      throw new DentsegError(
        'E_QUEUE_FULL',
        `the inference queue is full (${this.#limit} analyses running or waiting); retry shortly`,
      );
    }
    if (this.#running >= this.#concurrency) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await job();
    } finally {
      this.#completed += 1;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next job (running count unchanged), or free it.
      if (next) next();
      else this.#running -= 1;
    }
  }
}
