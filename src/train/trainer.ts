/**
 * The training loop: one step = forward, loss, gradients, Adam; per epoch, pooled train
 * and validation loss / accuracy / Dice, callbacks, and a checkpoint that holds everything
 * needed to continue exactly (weights, optimiser, epoch, step, partial sums, callbacks).
 * Independent of files and datasets: the run folder and the CLI plug those in.
 */
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { tf } from '../engine/index.js';
import { CallbackList, type EpochLogs, type TrainerControl } from './callbacks.js';
import {
  batchCounts,
  lesionSizeWeights,
  segmentationLoss,
  targetTensor,
  type LossSpec,
  type SegmentationLoss,
} from './losses.js';
import {
  Adam,
  exportOptimizerState,
  importOptimizerState,
  type OptimizerStateFile,
} from './optimizer.js';

/** One batch as the data loader yields it (NHWC float images, class-index masks). */
export interface Batch {
  readonly images: Float32Array;
  readonly masks: Uint8Array;
  readonly size: number;
}

/** A split of the data: batches for an epoch, and how many there are. */
export interface BatchSource {
  /** Batches of epoch `epoch` (0-based); deterministic for a given epoch. */
  batches(epoch: number): AsyncIterable<Batch>;
  /** Batches per epoch. */
  readonly steps: number;
}

/** Loop settings. */
export interface TrainerOptions {
  readonly epochs: number;
  readonly learningRate: number;
  /** 1 = binary, K ≥ 2 = multi-class. */
  readonly classes: number;
  readonly classWeights?: readonly number[] | undefined;
  /** The loss (default: the seed's cross-entropy + Dice). */
  readonly loss?: LossSpec | undefined;
  /**
   * Binary only: weigh each training lesion by `refAreaPx / area` (losses.ts
   * `lesionSizeWeights`). Validation stays unweighted, so its loss and Dice (which pick
   * `best/` and lower the learning rate) compare across runs with and without.
   */
  readonly lesionSizeWeight?: number | undefined;
  /** Input [h, w, c] of the network. */
  readonly input: readonly [number, number, number];
}

/** Running sums of an epoch (also what a mid-epoch checkpoint stores). */
export interface EpochSums {
  lossSum: number;
  samples: number;
  /** Per class k: tp, predicted, true pixel counts (length 3·K', K' = 1 for binary). */
  counts: number[];
  pixels: number;
  dataWaitS: number;
  elapsedS: number;
}

/** Everything `--resume` needs besides the weights. */
export interface TrainerState {
  readonly version: 1;
  /** Completed epochs (= index of the epoch to run next). */
  readonly epoch: number;
  /** Batches already done in epoch `epoch` (non-zero after Ctrl-C mid-epoch). */
  readonly step: number;
  readonly partial: EpochSums | null;
  readonly learningRate: number;
  readonly history: EpochLogs[];
  readonly callbacks: Record<string, Record<string, number | null>>;
  readonly stopped: boolean;
}

/** Progress of one step, for bars and ETAs. */
export interface StepProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly dice: number;
  readonly elapsedS: number;
  readonly dataWaitS: number;
}

/** Where checkpoints go (the run folder implements it atomically). */
export interface CheckpointSink {
  saveLast(model: LayersModel, state: TrainerState, optimizer: OptimizerStateFile): Promise<void>;
  saveBest(model: LayersModel, epoch: number, logs: EpochLogs): Promise<void>;
  /** After each finished epoch (metrics.csv, curves.png). */
  epochDone(history: readonly EpochLogs[]): Promise<void>;
}

/** Pooled accuracy and Dice from per-class counts (binary when the counts are 3 long). */
export function summarise(
  counts: readonly number[],
  pixels: number,
): { accuracy: number; dice: number } {
  const k = counts.length / 3;
  const tp = (i: number): number => counts[i] ?? 0;
  const pr = (i: number): number => counts[k + i] ?? 0;
  const tr = (i: number): number => counts[2 * k + i] ?? 0;
  if (k === 1) {
    const wrong = pr(0) - tp(0) + (tr(0) - tp(0));
    const d = pr(0) + tr(0);
    return { accuracy: pixels ? (pixels - wrong) / pixels : 1, dice: d ? (2 * tp(0)) / d : 1 };
  }
  let correct = 0;
  let diceSum = 0;
  let present = 0;
  for (let i = 0; i < k; i++) {
    correct += tp(i);
    if (i === 0) continue; // background does not count towards the mean Dice
    const d = pr(i) + tr(i);
    if (d > 0) {
      diceSum += (2 * tp(i)) / d;
      present++;
    }
  }
  return { accuracy: pixels ? correct / pixels : 1, dice: present ? diceSum / present : 1 };
}

/**
 * Let the event loop run once. A small step on a native backend can resolve every await
 * of the loop from the microtask queue, so without this a Ctrl-C or SIGTERM handler would
 * only run when the epoch's file writes turn the loop, after the whole epoch.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function emptySums(k: number): EpochSums {
  return {
    lossSum: 0,
    samples: 0,
    counts: new Array<number>(3 * k).fill(0),
    pixels: 0,
    dataWaitS: 0,
    elapsedS: 0,
  };
}

/** Runs epochs; construct, optionally `restore`, then `fit`. */
export class Trainer implements TrainerControl {
  stopTraining = false;
  readonly optimizer: Adam;
  private interrupted = false;
  private epoch = 0;
  private step = 0;
  private partial: EpochSums | null = null;
  private history: EpochLogs[] = [];
  private readonly variables: Variable[];
  private readonly loss: SegmentationLoss;
  private readonly k: number;

  constructor(
    readonly model: LayersModel,
    readonly opts: TrainerOptions,
    readonly callbacks: CallbackList,
    private readonly sink: CheckpointSink,
    private readonly onProgress: (p: StepProgress) => void = () => {},
  ) {
    this.optimizer = new Adam(opts.learningRate);
    this.variables = model.trainableWeights.map((w) => w.read() as Variable);
    this.loss = segmentationLoss({
      classes: opts.classes,
      classWeights: opts.classWeights,
      loss: opts.loss,
    });
    this.k = opts.classes === 1 ? 1 : opts.classes;
  }

  get learningRate(): number {
    return this.optimizer.lr;
  }
  set learningRate(lr: number) {
    this.optimizer.setLearningRate(lr);
  }

  /**
   * Ask the loop to stop after the current step and save `last/` (Ctrl-C, SIGTERM). During
   * validation the pass is abandoned and the checkpoint records the epoch's steps as done,
   * so `--resume` runs that validation again.
   */
  interrupt(): void {
    this.interrupted = true;
  }

  /** Where the loop stands: completed epochs and the steps done in the next one. */
  get position(): { readonly epoch: number; readonly step: number } {
    return { epoch: this.epoch, step: this.step };
  }

  /** Completed epochs' logs. */
  get logs(): readonly EpochLogs[] {
    return this.history;
  }

  async saveBest(epoch: number, logs: EpochLogs): Promise<void> {
    await this.sink.saveBest(this.model, epoch, logs);
  }

  /** Continue from a checkpoint's state (weights already loaded into the model). */
  async restore(state: TrainerState, optimizer: OptimizerStateFile, file: string): Promise<void> {
    this.epoch = state.epoch;
    this.step = state.step;
    this.partial = state.partial ? { ...state.partial, counts: [...state.partial.counts] } : null;
    this.history = [...state.history];
    this.stopTraining = state.stopped;
    this.callbacks.restore(state.callbacks);
    await importOptimizerState(this.optimizer, optimizer, file);
    this.learningRate = state.learningRate;
  }

  private state(): TrainerState {
    return {
      version: 1,
      epoch: this.epoch,
      step: this.step,
      partial: this.partial,
      learningRate: this.learningRate,
      history: this.history,
      callbacks: this.callbacks.states(),
      stopped: this.stopTraining,
    };
  }

  private async checkpoint(): Promise<void> {
    await this.sink.saveLast(this.model, this.state(), await exportOptimizerState(this.optimizer));
  }

  private tensors(batch: Batch): { x: Tensor; y: Tensor } {
    const [h, w, c] = this.opts.input;
    return {
      x: tf.tensor4d(batch.images, [batch.size, h, w, c]),
      y: targetTensor(batch.masks, batch.size, h, w, this.opts.classes),
    };
  }

  /** The training batch's per-pixel weights, when the options ask for them. */
  private pixelWeights(batch: Batch): Tensor | undefined {
    const ref = this.opts.lesionSizeWeight;
    if (ref === undefined) return undefined;
    const [h, w] = this.opts.input;
    return tf.tensor4d(lesionSizeWeights(batch.masks, batch.size, h, w, ref), [
      batch.size,
      h,
      w,
      1,
    ]);
  }

  /** One optimisation step; returns the batch loss and counts. */
  async trainBatch(batch: Batch): Promise<{ loss: number; counts: Float32Array }> {
    const { x, y } = this.tensors(batch);
    const weights = this.pixelWeights(batch);
    let counts: Tensor | undefined;
    const value = this.optimizer.minimize(
      () => {
        const pred = this.model.apply(x, { training: true }) as Tensor;
        counts = tf.keep(batchCounts(y, pred));
        return this.loss(y, pred, weights) as Scalar;
      },
      true,
      this.variables,
    );
    if (!value || !counts) throw new Error('optimizer.minimize returned no cost');
    const loss = (await value.data())[0] ?? NaN;
    const c = (await counts.data()) as Float32Array;
    tf.dispose([x, y, value, counts, ...(weights ? [weights] : [])]);
    return { loss, counts: c };
  }

  /** Validation pass: loss, accuracy, Dice over the whole split; null when interrupted. */
  async evaluate(
    source: BatchSource,
  ): Promise<{ loss: number; accuracy: number; dice: number } | null> {
    const sums = emptySums(this.k);
    const [h, w] = this.opts.input;
    for await (const batch of source.batches(0)) {
      const { x, y } = this.tensors(batch);
      const [l, c] = tf.tidy(() => {
        const pred = this.model.apply(x, { training: false }) as Tensor;
        return [this.loss(y, pred), batchCounts(y, pred)];
      });
      sums.lossSum += ((await l.data())[0] ?? NaN) * batch.size;
      const cd = await c.data();
      cd.forEach((v, i) => (sums.counts[i] = (sums.counts[i] ?? 0) + v));
      sums.samples += batch.size;
      sums.pixels += batch.size * h * w;
      tf.dispose([x, y, l, c]);
      await yieldToEventLoop();
      if (this.interrupted) return null;
    }
    return {
      loss: sums.lossSum / Math.max(1, sums.samples),
      ...summarise(sums.counts, sums.pixels),
    };
  }

  /** Train until `epochs`, early stopping or an interrupt. Returns why it ended. */
  async fit(train: BatchSource, val: BatchSource): Promise<'done' | 'stopped' | 'interrupted'> {
    const [h, w] = this.opts.input;
    if (this.epoch === 0 && this.step === 0) await this.callbacks.onTrainBegin(this);
    while (this.epoch < this.opts.epochs && !this.stopTraining) {
      const epoch = this.epoch;
      if (this.interrupted) {
        // stopped before this epoch's first step (e.g. while the data set was opened)
        await this.checkpoint();
        return 'interrupted';
      }
      if (this.step === 0) await this.callbacks.onEpochBegin(epoch, this);
      const sums = this.partial ?? emptySums(this.k);
      const skip = this.step;
      let seen = 0;
      const started = performance.now() - sums.elapsedS * 1000;
      const it = train.batches(epoch)[Symbol.asyncIterator]();
      for (;;) {
        const waitStart = performance.now();
        const next = await it.next();
        if (next.done) break;
        if (seen++ < skip) continue; // resuming mid-epoch: the loader is deterministic per epoch
        sums.dataWaitS += (performance.now() - waitStart) / 1000;
        const { loss, counts } = await this.trainBatch(next.value);
        sums.lossSum += loss * next.value.size;
        sums.samples += next.value.size;
        sums.pixels += next.value.size * h * w;
        counts.forEach((v, i) => (sums.counts[i] = (sums.counts[i] ?? 0) + v));
        this.step++;
        sums.elapsedS = (performance.now() - started) / 1000;
        const s = summarise(sums.counts, sums.pixels);
        this.onProgress({
          epoch,
          epochs: this.opts.epochs,
          step: this.step,
          steps: train.steps,
          loss: sums.lossSum / sums.samples,
          dice: s.dice,
          elapsedS: sums.elapsedS,
          dataWaitS: sums.dataWaitS,
        });
        await this.callbacks.onBatchEnd(this.step, { loss }, this);
        await yieldToEventLoop(); // lets a pending signal handler call interrupt()
        if (this.interrupted) {
          this.partial = sums;
          await it.return?.();
          await this.checkpoint();
          return 'interrupted';
        }
      }
      const trainTime = (performance.now() - started) / 1000;
      const t = summarise(sums.counts, sums.pixels);
      const v = await this.evaluate(val);
      if (v === null) {
        this.partial = sums; // every step done: a resumed run goes straight to validation
        await this.checkpoint();
        return 'interrupted';
      }
      const logs: EpochLogs = {
        epoch: epoch + 1,
        lr: this.learningRate,
        loss: sums.lossSum / Math.max(1, sums.samples),
        accuracy: t.accuracy,
        dice: t.dice,
        val_loss: v.loss,
        val_accuracy: v.accuracy,
        val_dice: v.dice,
        train_s: trainTime,
        epoch_s: (performance.now() - started) / 1000,
        data_wait_share: trainTime > 0 ? sums.dataWaitS / trainTime : 0,
      };
      this.history.push(logs);
      await this.callbacks.onEpochEnd(epoch, logs, this);
      this.epoch++;
      this.step = 0;
      this.partial = null;
      await this.checkpoint();
      await this.sink.epochDone(this.history);
      if (this.interrupted) return 'interrupted';
    }
    await this.callbacks.onTrainEnd(this);
    return this.stopTraining ? 'stopped' : 'done';
  }
}
