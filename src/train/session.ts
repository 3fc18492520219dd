/**
 * One training run from a serialisable config: open the data set, build (or resume) the
 * U-Net, wire loaders, callbacks and the run folder, and fit. The CLI parses flags into a
 * `TrainConfig`; tests call `runTraining` directly. `config.json` is this config.
 */
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { AugmentConfig } from '../augment/config.js';
import {
  createLoader,
  DEFAULT_BINARY_CLASS,
  openDataset,
  validatePreprocessConfig,
  type DatasetOptions,
  type NormaliseMode,
  type PreprocessConfig,
  type SampleRef,
} from '../data/index.node.js';
import { engineInfo } from '../engine/index.js';
import { DentsegError } from '../errors.js';
import { applyKerasWeights } from '../model/keras.js';
import { architectureOf, type ModelMeta } from '../model/meta.js';
import { copyModelWeights } from '../model/transfer.js';
import { buildUnet, normalizeUnetOptions, type NormalizedUnetOptions } from '../model/unet.js';
import {
  Callback,
  CallbackList,
  EarlyStopping,
  ModelCheckpoint,
  ReduceLROnPlateau,
  type EpochLogs,
} from './callbacks.js';
import { readKerasH5 } from './keras-h5.js';
import { DEFAULT_LOSS, type LossSpec } from './losses.js';
import { loadModelFolder } from '../model/folder.node.js';
import { loadCheckpoint, RunFolder } from './run-folder.js';
import { Trainer, type BatchSource, type StepProgress } from './trainer.js';

/** Everything that defines a run (saved as `config.json`; `--resume` replays it). */
export interface TrainConfig {
  readonly dataset: DatasetOptions;
  /** Run folder. */
  readonly out: string;
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  /** Seed for shuffling, augmentation and initial weights. */
  readonly seed: number;
  /** Square input size in pixels (multiple of 32). */
  readonly size: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly normalise: NormaliseMode;
  readonly decoderFilters?: readonly number[] | undefined;
  readonly batchNorm: boolean;
  /** Batch norm in the encoder too (vgg16_bn); absent = false. */
  readonly encoderBatchNorm?: boolean | undefined;
  readonly dropout: number;
  readonly classWeights?: readonly number[] | undefined;
  /** The loss and its parameters (absent, as in a config.json from before `--loss`: dice). */
  readonly loss?: LossSpec | undefined;
  /**
   * Binary only: each training lesion weighs `lesionSizeWeight / area` per pixel in the loss
   * (1…10; losses.ts `lesionSizeWeights`), so small lesions count about as much as one of
   * this many px. Absent: every pixel weighs the same.
   */
  readonly lesionSizeWeight?: number | undefined;
  /** Augmentation (null = none). */
  readonly augment: AugmentConfig | null;
  /** Early stopping patience in epochs on validation Dice (0 = off). */
  readonly patience: number;
  /** Reduce-LR-on-plateau on validation loss: patience (0 = off), factor, floor. */
  readonly lrPatience: number;
  readonly lrFactor: number;
  readonly minLr: number;
  /** Use only the first N train / val samples (quick experiments, tests). */
  readonly limit?: number | undefined;
  readonly valLimit?: number | undefined;
  /** Loader worker threads (default: the data stage's). */
  readonly workers?: number | undefined;
  /** Keras VGG16 HDF5 weights for the encoder (ImageNet start; width 1 only). */
  readonly encoderWeights?: string | undefined;
  /** Model folder whose weights start this run (fine-tuning); same architecture. */
  readonly init?: string | undefined;
  /** With `init`: layers whose shapes differ keep their fresh initialisation. */
  readonly initPartial?: boolean | undefined;
  /** Input channels 2 and 3 carry x and y (`PreprocessConfig.coordinates`); needs 3 channels. */
  readonly coordinates?: boolean | undefined;
  /** Store `best/`'s weights as float16 (`last/` stays float32 for an exact resume). */
  readonly float16?: boolean | undefined;
  /**
   * Train on square tiles of this many pixels (multiple of 32) cut at the images' native
   * resolution instead of whole images resized to `size` (which then equals `tile`); the
   * model folder records the tiling, so inference slides the same window.
   */
  readonly tile?: number | undefined;
  /**
   * With `tile`: resize every image (bilinear, antialiased) and mask (nearest neighbour) to
   * this width, keeping the aspect, before tiles are cut; recorded as `tiling.width` so
   * inference resizes the same way. Absent: native resolution.
   */
  readonly tileWidth?: number | undefined;
  /** Overlap of inference tiles in px (default tile / 4). */
  readonly tileOverlap?: number | undefined;
  /** Share 0…1 of training tiles centred on a random lesion (foreground) pixel (default 0.7). */
  readonly lesionTileShare?: number | undefined;
  /** Tiles drawn per image and epoch, training and validation alike (default 4). */
  readonly tilesPerImage?: number | undefined;
  /** A lesion model: the finding type (e.g. `caries`), written to `postprocess.lesion`. */
  readonly lesion?: string | undefined;
  /** Findings' minimum region area in px, written to `postprocess.minAreaPx`. */
  readonly minAreaPx?: number | undefined;
  /**
   * A lesion model: keep only regions touching the teeth grown by this many px, written to
   * `postprocess.toothGate.marginPx` (src/infer/lesion-gate.ts). Absent: no gate.
   */
  readonly toothGateMargin?: number | undefined;
  /** Model id and version written to dentseg.json. */
  readonly name: string;
  readonly version: string;
  /** The command line that started the run (for the model card). */
  readonly command?: string | undefined;
}

/** What a run ended with. */
export interface TrainResult {
  readonly reason: 'done' | 'stopped' | 'interrupted';
  readonly history: readonly EpochLogs[];
  readonly bestValDice: number | null;
  readonly runDir: string;
  /**
   * Where `last/` stands: completed epochs, steps done in the next epoch (non-zero after an
   * interrupt mid-epoch) and that epoch's step count.
   */
  readonly position: { readonly epoch: number; readonly step: number; readonly steps: number };
}

/** Hooks for the caller (the CLI prints; tests stay quiet). */
export interface TrainHooks {
  readonly log?: (line: string) => void;
  readonly progress?: (p: StepProgress) => void;
  /** Abort = save `last/` after the current step and return 'interrupted' (Ctrl-C, SIGTERM). */
  readonly signal?: AbortSignal;
  /** Resume from the run folder's `last/` checkpoint. */
  readonly resume?: boolean;
  /** After each epoch, with its logs. */
  readonly onEpoch?: (logs: EpochLogs) => void;
}

/** Forwards epoch logs to a hook (stateless, so it is not part of the checkpoint). */
class EpochHook extends Callback {
  readonly name = 'epochHook';
  constructor(private readonly hook: (logs: EpochLogs) => void) {
    super();
  }
  override async onEpochEnd(_e: number, logs: EpochLogs): Promise<void> {
    this.hook(logs);
  }
}

function limitRefs(refs: SampleRef[], n: number | undefined): SampleRef[] {
  return n === undefined ? refs : refs.slice(0, n);
}

function source(
  refs: SampleRef[],
  cfg: TrainConfig,
  preprocess: PreprocessConfig,
  train: boolean,
  maps: { flip?: number[] | undefined; vflip?: number[] | undefined },
): BatchSource {
  // Tiled runs draw several tiles per image: each copy has its own index, hence its own
  // seeded tile; validation tiles are the same every epoch (epoch 0), training ones change.
  const samples = preprocess.tiling
    ? Array.from({ length: cfg.tilesPerImage ?? 4 }, () => refs).flat()
    : refs;
  return {
    steps: Math.ceil(samples.length / cfg.batch),
    batches: (epoch) =>
      createLoader({
        samples,
        batchSize: cfg.batch,
        preprocess,
        augment: train && cfg.augment ? cfg.augment : undefined,
        seed: cfg.seed,
        epoch: train ? epoch : 0,
        shuffle: train,
        workers: cfg.workers,
        flipClassMap: maps.flip,
        vflipClassMap: maps.vflip,
      }),
  };
}

/** The pre-processing a config implies (saved with every checkpoint). */
export function preprocessFor(cfg: TrainConfig): PreprocessConfig {
  return validatePreprocessConfig({
    size: [cfg.size, cfg.size],
    channels: cfg.channels,
    aspect: 'stretch',
    normalise: cfg.normalise,
    ...(cfg.coordinates === true ? { coordinates: true } : {}),
    ...(cfg.tile !== undefined
      ? {
          tiling: {
            tile: [cfg.tile, cfg.tile],
            ...(cfg.tileOverlap !== undefined ? { overlap: cfg.tileOverlap } : {}),
            ...(cfg.lesionTileShare !== undefined ? { lesionShare: cfg.lesionTileShare } : {}),
            ...(cfg.tileWidth !== undefined ? { width: cfg.tileWidth } : {}),
          },
        }
      : {}),
  });
}

/** The `postprocess` block a config implies (absent when it sets none of its keys). */
export function postprocessFor(cfg: TrainConfig): ModelMeta['postprocess'] {
  if (cfg.lesion === undefined && cfg.minAreaPx === undefined && cfg.toothGateMargin === undefined)
    return undefined;
  return {
    ...(cfg.minAreaPx !== undefined ? { minAreaPx: cfg.minAreaPx } : {}),
    ...(cfg.lesion !== undefined ? { lesion: cfg.lesion } : {}),
    ...(cfg.toothGateMargin !== undefined ? { toothGate: { marginPx: cfg.toothGateMargin } } : {}),
  };
}

/**
 * The foreground's name of a binary model: the data set's own, except that a lesion model on
 * masks that name nothing (the default 'tooth') is called after its lesion type — a caries
 * model's findings must not read "tooth".
 */
function binaryClassName(fromData: string | undefined, lesion: string | undefined): string {
  if (lesion !== undefined && (fromData === undefined || fromData === DEFAULT_BINARY_CLASS)) {
    return lesion;
  }
  return fromData ?? 'foreground';
}

/** Run (or resume) training as `cfg` says; returns when done, stopped early or interrupted. */
export async function runTraining(cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const ds = await openDataset(cfg.dataset);
  for (const w of ds.warnings) log(`warning: ${w}`);
  if (ds.problems.length > 0) {
    const first = ds.problems[0]!;
    log(
      `warning: ${ds.problems.length} file${ds.problems.length === 1 ? '' : 's'} left out ` +
        `(e.g. ${first.file}: ${first.message}); dentseg data check lists them all`,
    );
  }
  const train = limitRefs(ds.train, cfg.limit);
  const val = limitRefs(ds.val, cfg.valLimit);
  if (train.length === 0)
    throw new DentsegError('E_USAGE', 'the training split is empty', {
      file: cfg.dataset.images ?? cfg.dataset.coco ?? cfg.out,
    });
  if (val.length === 0)
    throw new DentsegError(
      'E_USAGE',
      'the validation split is empty: give --split, --val or --val-fraction',
      { file: cfg.dataset.images ?? cfg.dataset.coco ?? cfg.out },
    );
  const classes = ds.task === 'binary' ? 1 : ds.classes.length;
  if (cfg.lesionSizeWeight !== undefined && classes !== 1)
    throw new DentsegError(
      'E_USAGE',
      `--lesion-size-weight weighs the lesions of a binary data set; this one has ${classes} classes`,
    );
  const preprocess = preprocessFor(cfg);
  const unet: NormalizedUnetOptions = normalizeUnetOptions({
    inputSize: [cfg.size, cfg.size],
    channels: cfg.channels,
    classes,
    width: cfg.width,
    ...(cfg.decoderFilters ? { decoderFilters: cfg.decoderFilters } : {}),
    batchNorm: cfg.batchNorm,
    encoderBatchNorm: cfg.encoderBatchNorm ?? false,
    dropout: cfg.dropout,
    seed: cfg.seed,
  });
  const started = new Date().toISOString();
  const postprocess = postprocessFor(cfg);
  const meta = (extra: { epoch: number; logs?: EpochLogs }): ModelMeta => ({
    format: 1,
    name: cfg.name,
    version: cfg.version,
    task: ds.task,
    classes: ds.task === 'binary' ? [binaryClassName(ds.classes[1], cfg.lesion)] : ds.classes,
    input: { size: [cfg.size, cfg.size], channels: cfg.channels },
    preprocess,
    architecture: architectureOf(unet),
    ...(postprocess ? { postprocess } : {}),
    training: {
      command: cfg.command ?? null,
      seed: cfg.seed,
      epoch: extra.epoch,
      epochs: cfg.epochs,
      batch: cfg.batch,
      lr: cfg.lr,
      loss: cfg.loss ?? DEFAULT_LOSS,
      ...(cfg.lesionSizeWeight !== undefined ? { lesionSizeWeight: cfg.lesionSizeWeight } : {}),
      trainSamples: train.length,
      valSamples: val.length,
      backend: engineInfo()?.backend ?? null,
      started,
    },
    ...(extra.logs ? { metrics: { ...extra.logs } } : {}),
  });
  const run = new RunFolder(cfg.out, meta, { bestFloat16: cfg.float16 });
  let model: LayersModel;
  const callbacks = new CallbackList([
    ...(hooks.onEpoch ? [new EpochHook(hooks.onEpoch)] : []),
    new ModelCheckpoint({ monitor: 'val_dice', mode: 'max' }),
    ...(cfg.patience > 0
      ? [new EarlyStopping({ monitor: 'val_dice', mode: 'max', minDelta: 1e-4 }, cfg.patience)]
      : []),
    ...(cfg.lrPatience > 0
      ? [
          new ReduceLROnPlateau(
            { monitor: 'val_loss', mode: 'min', minDelta: 1e-4 },
            cfg.lrPatience,
            cfg.lrFactor,
            cfg.minLr,
          ),
        ]
      : []),
  ]);
  const trainerOptions = {
    epochs: cfg.epochs,
    learningRate: cfg.lr,
    classes,
    classWeights: cfg.classWeights,
    loss: cfg.loss,
    lesionSizeWeight: cfg.lesionSizeWeight,
    input: [cfg.size, cfg.size, cfg.channels] as [number, number, number],
  };
  let trainer: Trainer;
  if (hooks.resume) {
    const ck = await loadCheckpoint(cfg.out);
    model = ck.model;
    trainer = new Trainer(model, trainerOptions, callbacks, run, hooks.progress);
    await trainer.restore(ck.state, ck.optimizer, ck.from);
    log(
      `resuming ${path.join(cfg.out)} at epoch ${ck.state.epoch + 1}${ck.state.step ? `, step ${ck.state.step + 1}` : ''} (lr ${ck.state.learningRate})`,
    );
  } else {
    model = buildUnet({ ...unet, inputSize: [cfg.size, cfg.size] });
    if (cfg.encoderWeights) {
      const loaded = applyKerasWeights(
        model,
        await readKerasH5(cfg.encoderWeights),
        cfg.encoderWeights,
      );
      log(`encoder: ${loaded.length} layers from ${cfg.encoderWeights}`);
    }
    if (cfg.init) {
      const start = await loadModelFolder(cfg.init);
      try {
        const { copied, skipped } = copyModelWeights(start.model, model, cfg.init, {
          partial: cfg.initPartial === true,
          zeroNewInputChannels: cfg.coordinates === true,
        });
        const was = start.meta.input.size.join('×');
        log(
          `weights: ${copied} arrays from ${cfg.init} (trained at ${was}, continuing at ${cfg.size}²)` +
            (skipped.length > 0 ? `; freshly initialised: ${skipped.join(', ')}` : ''),
        );
      } finally {
        start.model.dispose();
      }
    }
    trainer = new Trainer(model, trainerOptions, callbacks, run, hooks.progress);
    await run.writeConfig({
      ...cfg,
      preprocess,
      architecture: architectureOf(unet),
      task: ds.task,
      classes: ds.classes,
      trainSamples: train.length,
      valSamples: val.length,
    });
  }
  const tiles = preprocess.tiling ? (cfg.tilesPerImage ?? 4) : 1;
  log(
    `${ds.task}, ${classes === 1 ? '1 class' : `${classes} classes`}; train ${train.length}, val ${val.length}; ` +
      `${cfg.size}² × ${cfg.channels}ch, width ${cfg.width}, ${model.countParams().toLocaleString('en-US')} parameters; ` +
      `batch ${cfg.batch}, ${Math.ceil((train.length * tiles) / cfg.batch)} steps/epoch` +
      (preprocess.tiling
        ? `; ${cfg.size}² tiles at ${
            preprocess.tiling.width !== undefined
              ? `${preprocess.tiling.width} px image width`
              : 'native resolution'
          }, ${tiles} per image, ` +
          `${Math.round(preprocess.tiling.lesionShare * 100)}% centred on a lesion`
        : ''),
  );
  const onAbort = (): void => trainer.interrupt();
  // a signal that came while the data set was opened counts too (it fires no event later)
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const maps = { flip: ds.flipClassMap, vflip: ds.vflipClassMap };
  try {
    const reason = await trainer.fit(
      source(train, cfg, preprocess, true, maps),
      source(val, cfg, preprocess, false, maps),
    );
    const history = trainer.logs;
    const best =
      callbacks.callbacks.find((c): c is ModelCheckpoint => c instanceof ModelCheckpoint)
        ?.bestValue ?? null;
    const steps = Math.ceil(train.length / cfg.batch);
    return {
      reason,
      history,
      bestValDice: best,
      runDir: cfg.out,
      position: { ...trainer.position, steps },
    };
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    model.dispose();
  }
}
