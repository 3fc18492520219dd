/**
 * The run folder `runs/NAME/`: `config.json`, `metrics.csv`, `curves.png`, `best/` and
 * `last/` (model folders; `last/` also holds `train-state.json` + `optimizer.bin`). Every
 * write is atomic (temp + rename) so a SIGKILL at any moment leaves a resumable folder.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { DentsegError } from '../errors.js';
import type { ModelMeta } from '../model/meta.js';
import type { EpochLogs } from './callbacks.js';
import { renderCurves } from './curves.js';
import { loadModelFolder, saveModelFolder } from '../model/folder.node.js';
import type { OptimizerStateFile } from './optimizer.js';
import type { CheckpointSink, TrainerState } from './trainer.js';

/** Columns of metrics.csv, in order. */
export const METRIC_COLUMNS = [
  'epoch',
  'lr',
  'loss',
  'accuracy',
  'dice',
  'val_loss',
  'val_accuracy',
  'val_dice',
  'train_s',
  'epoch_s',
  'data_wait_share',
] as const;

/** Write a file atomically: temp file in the same folder, then rename over. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/**
 * Replace folder `dir` atomically by one that `fill` writes: fill `dir.tmp`, move the old
 * `dir` to `dir.old`, rename, drop the old one. A reader finds `dir` or, at worst, `dir.old`.
 */
export async function replaceDirAtomic(
  dir: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await fill(tmp);
  await rm(old, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** The CSV text for a history of epochs. */
export function metricsCsv(history: readonly EpochLogs[]): string {
  const rows = history.map((h) =>
    METRIC_COLUMNS.map((c) => {
      const v = h[c];
      if (v === undefined || !Number.isFinite(v)) return '';
      return c === 'epoch' ? String(v) : Number(v.toPrecision(6)).toString();
    }).join(','),
  );
  return [METRIC_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** Options of a {@link RunFolder}. */
export interface RunFolderOptions {
  /**
   * Store `best/`'s weights as float16 (half the size, for shipping). `last/` always stays
   * float32: `--resume` must continue from the exact weights.
   */
  readonly bestFloat16?: boolean | undefined;
}

/** A run folder; creates it lazily. `meta` builds each checkpoint's `dentseg.json`. */
export class RunFolder implements CheckpointSink {
  constructor(
    readonly dir: string,
    private readonly meta: (extra: { epoch: number; logs?: EpochLogs }) => ModelMeta,
    private readonly options: RunFolderOptions = {},
  ) {}

  get lastDir(): string {
    return path.join(this.dir, 'last');
  }
  get bestDir(): string {
    return path.join(this.dir, 'best');
  }

  async writeConfig(config: unknown): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(
      path.join(this.dir, 'config.json'),
      JSON.stringify(config, null, 2) + '\n',
    );
  }

  async saveLast(model: LayersModel, state: TrainerState, opt: OptimizerStateFile): Promise<void> {
    await replaceDirAtomic(this.lastDir, async (tmp) => {
      const logs = state.history[state.history.length - 1];
      await saveModelFolder(
        tmp,
        model,
        this.meta({ epoch: state.epoch, ...(logs ? { logs } : {}) }),
      );
      await writeFile(
        path.join(tmp, 'optimizer.bin'),
        new Uint8Array(opt.data.buffer, opt.data.byteOffset, opt.data.byteLength),
      );
      await writeFile(
        path.join(tmp, 'train-state.json'),
        JSON.stringify({ ...state, optimizerIndex: opt.index }, null, 1) + '\n',
      );
    });
  }

  async saveBest(model: LayersModel, epoch: number, logs: EpochLogs): Promise<void> {
    await replaceDirAtomic(this.bestDir, (tmp) =>
      saveModelFolder(tmp, model, this.meta({ epoch: epoch + 1, logs }), {
        float16: this.options.bestFloat16 === true,
      }),
    );
  }

  async epochDone(history: readonly EpochLogs[]): Promise<void> {
    await writeFileAtomic(path.join(this.dir, 'metrics.csv'), metricsCsv(history));
    await writeFileAtomic(path.join(this.dir, 'curves.png'), await renderCurves(history));
  }
}

/** Read a run's `config.json` (unknown: the caller validates what it uses). */
export async function readRunConfig(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, 'config.json');
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new DentsegError('E_CHECKPOINT_INVALID', 'cannot read the run configuration', {
      file,
      hint: 'resume a folder written by `dentseg train --out`',
      cause: err,
    });
  }
}

/** Load `last/` (or `last.old/` if a kill struck between two renames) for resuming. */
export async function loadCheckpoint(dir: string): Promise<{
  model: LayersModel;
  meta: ModelMeta;
  state: TrainerState;
  optimizer: OptimizerStateFile;
  from: string;
}> {
  const candidates = [path.join(dir, 'last'), path.join(dir, 'last.old')];
  const from = candidates.find((d) => existsSync(path.join(d, 'train-state.json')));
  if (!from) {
    throw new DentsegError(
      'E_CHECKPOINT_INVALID',
      'no checkpoint (last/train-state.json) to resume from',
      {
        file: dir,
        hint: 'the run stopped before its first checkpoint: start it again',
      },
    );
  }
  const stateFile = path.join(from, 'train-state.json');
  let raw: TrainerState & { optimizerIndex: OptimizerStateFile['index'] };
  try {
    raw = JSON.parse(await readFile(stateFile, 'utf8')) as typeof raw;
  } catch (err) {
    throw new DentsegError('E_CHECKPOINT_INVALID', 'unreadable training state', {
      file: stateFile,
      cause: err,
    });
  }
  if (raw.version !== 1 || !Array.isArray(raw.history) || !Array.isArray(raw.optimizerIndex)) {
    throw new DentsegError('E_CHECKPOINT_INVALID', 'training state has an unknown layout', {
      file: stateFile,
    });
  }
  const bytes = await readFile(path.join(from, 'optimizer.bin'));
  const data = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const { model, meta } = await loadModelFolder(from);
  const { optimizerIndex, ...state } = raw;
  return { model, meta, state, optimizer: { index: optimizerIndex, data }, from };
}
