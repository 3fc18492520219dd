/**
 * Training callbacks in tfjs-layers' style: a base class with async no-op hooks, a list
 * that calls them in order, and stopping by flag. Each stateful callback can export and
 * restore its state so that `--resume` continues exactly where the run stopped.
 */

/** Per-epoch logs: train and validation loss, accuracy and Dice, learning rate, timings. */
export type EpochLogs = Readonly<Record<string, number>>;

/** What callbacks may steer on the running trainer. */
export interface TrainerControl {
  /** Set to true to stop after the current epoch. */
  stopTraining: boolean;
  /** Current learning rate (callbacks may lower it). */
  learningRate: number;
  /** Save the current model as `best/` (atomic). */
  saveBest(epoch: number, logs: EpochLogs): Promise<void>;
}

/** Base callback: every hook is an async no-op; override what you need. */
export abstract class Callback {
  /** JSON-serialisable state for resume; default none. */
  getState(): Record<string, number | null> {
    return {};
  }
  setState(_state: Readonly<Record<string, number | null>>): void {}
  async onTrainBegin(_trainer: TrainerControl): Promise<void> {}
  async onEpochBegin(_epoch: number, _trainer: TrainerControl): Promise<void> {}
  async onBatchEnd(_step: number, _logs: EpochLogs, _trainer: TrainerControl): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs: EpochLogs, _trainer: TrainerControl): Promise<void> {}
  async onTrainEnd(_trainer: TrainerControl): Promise<void> {}
}

/** Calls a list of callbacks in order; state is kept per callback name. */
export class CallbackList extends Callback {
  constructor(readonly callbacks: readonly (Callback & { readonly name: string })[]) {
    super();
  }
  override async onTrainBegin(t: TrainerControl): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin(t);
  }
  override async onEpochBegin(e: number, t: TrainerControl): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(e, t);
  }
  override async onBatchEnd(s: number, l: EpochLogs, t: TrainerControl): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd(s, l, t);
  }
  override async onEpochEnd(e: number, l: EpochLogs, t: TrainerControl): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(e, l, t);
  }
  override async onTrainEnd(t: TrainerControl): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd(t);
  }
  /** Every callback's state keyed by its name. */
  states(): Record<string, Record<string, number | null>> {
    return Object.fromEntries(this.callbacks.map((c) => [c.name, c.getState()]));
  }
  restore(states: Readonly<Record<string, Readonly<Record<string, number | null>>>>): void {
    for (const c of this.callbacks) {
      const s = states[c.name];
      if (s) c.setState(s);
    }
  }
}

/** Options shared by monitors. */
export interface MonitorOptions {
  /** Log key, e.g. `val_dice` or `val_loss`. */
  readonly monitor: string;
  /** Whether larger (`max`) or smaller (`min`) is better. */
  readonly mode: 'max' | 'min';
  /** Smallest change that counts as an improvement (≥ 0). */
  readonly minDelta?: number;
}

/** Tracks the best value of a log key and the epochs since it last improved. */
abstract class Monitor extends Callback {
  protected best: number | null = null;
  protected wait = 0;
  constructor(protected readonly opts: MonitorOptions) {
    super();
  }
  /** True if `value` improves on the best so far (and records it). */
  protected improved(value: number | undefined): boolean {
    if (value === undefined || Number.isNaN(value)) return false;
    const d = this.opts.minDelta ?? 0;
    const better =
      this.best === null ||
      (this.opts.mode === 'max' ? value > this.best + d : value < this.best - d);
    if (better) {
      this.best = value;
      this.wait = 0;
    } else {
      this.wait++;
    }
    return better;
  }
  override getState(): Record<string, number | null> {
    return { best: this.best, wait: this.wait };
  }
  override setState(s: Readonly<Record<string, number | null>>): void {
    this.best = s.best ?? null;
    this.wait = s.wait ?? 0;
  }
}

/** Saves `best/` whenever the monitored value improves (default: validation Dice). */
export class ModelCheckpoint extends Monitor {
  readonly name = 'checkpoint';
  constructor(opts: MonitorOptions = { monitor: 'val_dice', mode: 'max' }) {
    super(opts);
  }
  override async onEpochEnd(epoch: number, logs: EpochLogs, t: TrainerControl): Promise<void> {
    if (this.improved(logs[this.opts.monitor])) await t.saveBest(epoch, logs);
  }
  /** Best value seen (null before the first epoch). */
  get bestValue(): number | null {
    return this.best;
  }
}

/** Stops when the monitored value has not improved for `patience` epochs. */
export class EarlyStopping extends Monitor {
  readonly name = 'earlyStopping';
  constructor(
    opts: MonitorOptions,
    private readonly patience: number,
  ) {
    super(opts);
  }
  override async onEpochEnd(_epoch: number, logs: EpochLogs, t: TrainerControl): Promise<void> {
    this.improved(logs[this.opts.monitor]);
    if (this.wait >= this.patience) t.stopTraining = true;
  }
}

/** Multiplies the learning rate by `factor` after `patience` epochs without improvement. */
export class ReduceLROnPlateau extends Monitor {
  readonly name = 'reduceLr';
  constructor(
    opts: MonitorOptions,
    private readonly patience: number,
    private readonly factor: number,
    private readonly minLr: number,
  ) {
    super(opts);
  }
  override async onEpochEnd(_epoch: number, logs: EpochLogs, t: TrainerControl): Promise<void> {
    this.improved(logs[this.opts.monitor]);
    if (this.wait >= this.patience && t.learningRate > this.minLr) {
      t.learningRate = Math.max(this.minLr, t.learningRate * this.factor);
      this.wait = 0;
    }
  }
}
