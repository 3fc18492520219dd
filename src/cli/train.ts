/**
 * `dentseg train`: the seed's protocol by default (Adam 1e-4, batch 8, 256²), with the
 * data-set flags of `dentseg data check`, a run folder, `--resume`, and Ctrl-C / SIGTERM
 * that save.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
// Only light modules at the top: every command's file is loaded for any `dentseg` call, so
// TensorFlow.js and the training code are imported when `train` actually runs.
import { NORMALISE_MODES } from '../data/preprocess.js';
import { LOSS_DEFAULTS, LOSS_NAMES } from '../train/loss-spec.js';
import type { BackendName } from '../engine/index.js';
import { DentsegError, isDentsegError } from '../errors.js';
import { formatDuration, progressReporter } from '../train/progress.js';
import type { TrainConfig } from '../train/session.js';
import { addDatasetOptions } from './dataset-options.js';
import { intFlag } from './flags.js';
import { trainConfigFromCli, trainConfigFromFile } from './train-config.js';

export { trainConfigFromCli } from './train-config.js';

/**
 * With `--init DIR`, the architecture and input flags the user did not give come from
 * DIR's dentseg.json, so `--init M --size 512` fine-tunes M as it is, only larger.
 */
async function defaultsFromModel(
  dir: string,
  o: Record<string, unknown>,
  c: Command,
): Promise<void> {
  const { readModelMeta } = await import('../model/folder.node.js');
  const meta = await readModelMeta(dir).catch((err: unknown) => {
    if (!isDentsegError(err)) throw err;
    throw new DentsegError(err.code, `--init: ${err.message}`, {
      hint: '--init takes a model folder, e.g. runs/NAME/best',
      cause: err,
    });
  });
  const a = meta.architecture;
  const fromModel: Record<string, unknown> = {
    width: a.width,
    // Coordinate channels widen a grey model's input to grey, x, y.
    channels: o.coordinates === true ? 3 : meta.input.channels,
    normalise: meta.preprocess.normalise,
    decoderFilters: a.decoderFilters.join(','),
    batchNorm: a.batchNorm,
    encoderBatchNorm: a.encoderBatchNorm ?? false,
    dropout: a.dropout,
  };
  for (const [key, value] of Object.entries(fromModel)) {
    if (c.getOptionValueSource(key) !== 'cli') o[key] = value;
  }
}

/** Exit status for a signal, as shells report it (128 + its number). */
const SIGNAL_EXIT: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Ctrl-C (SIGINT) and SIGTERM (kill, systemd, containers, CI) both ask the run to stop
 * after the current step and save `last/`; a second signal of either kind exits at once
 * (the `last/` of the previous checkpoint stays intact: every write is atomic).
 */
function stopOnSignals(): {
  signal: AbortSignal;
  exitCode: () => number;
  dispose: () => void;
} {
  const abort = new AbortController();
  let first: keyof typeof SIGNAL_EXIT | undefined;
  const on = (sig: keyof typeof SIGNAL_EXIT): void => {
    if (first !== undefined) {
      console.error(`\ndentseg train: ${sig} again: quitting without saving`);
      process.exit(SIGNAL_EXIT[sig]);
    }
    first = sig;
    console.error(
      `\ndentseg train: ${sig === 'SIGINT' ? 'interrupted' : 'SIGTERM'}; saving last/ after this step ` +
        '(Ctrl-C or SIGTERM again to quit now)',
    );
    abort.abort();
  };
  const onInt = (): void => on('SIGINT');
  const onTerm = (): void => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: abort.signal,
    exitCode: () => SIGNAL_EXIT[first ?? 'SIGINT'],
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Register `dentseg train`. */
export function registerTrainCommands(program: Command): void {
  const cmd = program
    .command('train')
    .description(
      'train the U-Net on a data set into a run folder (config.json, metrics.csv, curves.png, best/, last/); ' +
        '--seed also seeds shuffling, augmentation and the initial weights',
    );
  addDatasetOptions(cmd)
    .option('--out <dir>', 'run folder, e.g. runs/NAME')
    .option(
      '--resume <dir>',
      'continue the run in DIR exactly where it stopped (other flags ignored, except --epochs)',
    )
    .option('--epochs <n>', 'epochs', '8')
    .option('--batch <n>', 'batch size', '8')
    .option('--lr <x>', 'Adam learning rate', '1e-4')
    .option('--size <px>', 'square input size N (or N,N), a multiple of 32', '256')
    .option('--width <x>', 'encoder width multiplier in (0, 1]; 1 = VGG-16', '1')
    .option('--channels <n>', 'input channels: 1 (grey) or 3 (grey ×3, Keras VGG16 layout)', '3')
    .addOption(
      new Option('--normalise <mode>', 'input normalisation')
        .choices([...NORMALISE_MODES])
        .default('caffe'),
    )
    .option(
      '--decoder-filters <list>',
      'five decoder filter counts, deepest first (default 256,128,64,32,16 × width)',
    )
    .option('--no-batch-norm', 'no batch normalisation in the decoder')
    .option(
      '--encoder-batch-norm',
      'batch norm after each encoder convolution too (vgg16_bn): trains faster from scratch; not with --encoder-weights',
    )
    .option('--dropout <x>', 'dropout before the head', '0')
    .option(
      '--class-weights <list>',
      'cross-entropy weights: background,foreground (binary) or one per class',
    )
    .addOption(
      new Option(
        '--loss <name>',
        "cross-entropy + overlap loss: dice (the seed's), tversky or focal-tversky (misses " +
          'weigh more: small lesions), focal (focal cross-entropy + Dice)',
      )
        .choices([...LOSS_NAMES])
        .default('dice'),
    )
    .option(
      '--tversky-alpha <x>',
      `tversky, focal-tversky: weight of false positives in [0, 1] (default ${LOSS_DEFAULTS.alpha})`,
    )
    .option(
      '--tversky-beta <x>',
      `tversky, focal-tversky: weight of false negatives in [0, 1] (default ${LOSS_DEFAULTS.beta})`,
    )
    .option(
      '--focal-gamma <x>',
      `focal: exponent in [0, 5] (default ${LOSS_DEFAULTS.focalGamma}); focal-tversky: ` +
        `exponent in (0, 5] (default ${LOSS_DEFAULTS.focalTverskyGamma})`,
    )
    .option(
      '--lesion-size-weight <px>',
      'binary lesion models: each training lesion weighs PX / its area per pixel in the loss ' +
        '(1…10), so small lesions count about as much as one of PX pixels (validation unweighted)',
    )
    .option(
      '--augment <file>',
      "augmentation: a YAML/JSON file, or `seed` for the seed project's pipeline; default: the built-in panoramic set",
    )
    .option('--no-augment', 'train without augmentation')
    .option('--patience <n>', 'early stopping: epochs without val Dice gain (0 = off)', '10')
    .option('--lr-patience <n>', 'reduce LR after N epochs without val loss gain (0 = off)', '5')
    .option('--lr-factor <x>', 'LR multiplier on plateau', '0.5')
    .option('--min-lr <x>', 'LR floor', '1e-6')
    .option(
      '--encoder-weights <file.h5>',
      'start the encoder from Keras VGG16 ImageNet weights (width 1)',
    )
    .option(
      '--init <dir>',
      "start from a model folder's weights (fine-tune, e.g. at a larger --size); " +
        'width, channels, normalisation and decoder default to that model',
    )
    .option(
      '--coordinates',
      "add each pixel's x and y as input channels 2 and 3 (CoordConv; implies --channels 3); " +
        'with --init from a grey model they start at zero weight',
    )
    .option(
      '--init-partial',
      'with --init: layers that do not fit (e.g. a wider --decoder-filters) start fresh ' +
        'instead of being refused',
    )
    .option('--limit <n>', 'use only the first N training samples')
    .option('--val-limit <n>', 'use only the first N validation samples')
    .option('--workers <n>', 'data loader worker threads (0 = main thread)')
    .option(
      '--float16',
      'store best/ weights as float16 (half the size; last/ stays float32 so --resume is exact)',
    )
    .option(
      '--tile <px>',
      'train on square tiles of PX (multiple of 32) at native resolution instead of whole ' +
        'images resized to --size; predict/evaluate/serve then slide the same window',
    )
    .option(
      '--tile-width <px>',
      'with --tile: resize every image (and mask) to this width, keeping the aspect, before ' +
        'tiles are cut; predict/evaluate/serve resize inputs the same way (default: native)',
    )
    .option('--tile-overlap <px>', 'with --tile: overlap of inference tiles (default tile / 4)')
    .option(
      '--lesion-tile-share <p>',
      'with --tile: share of training tiles centred on a random lesion pixel (default 0.7)',
    )
    .option(
      '--tiles-per-image <n>',
      'with --tile: tiles drawn per image and epoch, training and validation (default 4)',
    )
    .option(
      '--lesion <type>',
      'a lesion model finding TYPE (e.g. caries): evaluate adds lesion metrics (postprocess.lesion)',
    )
    .option(
      '--min-area <px>',
      "findings' smallest region in px, saved with the model (postprocess.minAreaPx)",
    )
    .option(
      '--tooth-gate-margin <px>',
      'with --lesion: keep only lesion regions touching a tooth grown by PX (0…256), when a ' +
        'teeth model runs beside it (postprocess.toothGate)',
    )
    .option('--name <id>', 'model name in dentseg.json (default: the run folder name)')
    .option('--model-version <v>', 'model version in dentseg.json')
    .action(async (_opts: Record<string, unknown>, c: Command) => {
      const o = c.opts<Record<string, unknown>>();
      const globals = c.optsWithGlobals<{ backend?: BackendName }>();
      let cfg: TrainConfig;
      const resume = typeof o.resume === 'string';
      if (resume) {
        const dir = path.resolve(o.resume as string);
        const { readRunConfig } = await import('../train/run-folder.js');
        const saved = trainConfigFromFile(await readRunConfig(dir), path.join(dir, 'config.json'));
        const epochs =
          c.getOptionValueSource('epochs') === 'cli'
            ? intFlag('--epochs', o.epochs, 1)
            : saved.epochs;
        cfg = { ...saved, out: dir, epochs };
      } else {
        if (typeof o.init === 'string') await defaultsFromModel(o.init, o, c);
        cfg = await trainConfigFromCli(o, process.argv.slice(2));
      }
      const { initEngine } = await import('../engine/index.js');
      const { runTraining } = await import('../train/session.js');
      await initEngine({ backend: globals.backend, log: true });
      const stop = stopOnSignals();
      const t0 = performance.now();
      try {
        const r = await runTraining(cfg, {
          resume,
          signal: stop.signal,
          log: (l) => console.error(`dentseg train: ${l}`),
          progress: progressReporter(),
          onEpoch: (h) =>
            console.error(
              `epoch ${h.epoch}: loss ${h.loss?.toFixed(4)} acc ${h.accuracy?.toFixed(4)} dice ${h.dice?.toFixed(4)} | ` +
                `val loss ${h.val_loss?.toFixed(4)} acc ${h.val_accuracy?.toFixed(4)} dice ${h.val_dice?.toFixed(4)} | ` +
                `lr ${h.lr} ${formatDuration(h.epoch_s ?? NaN)} data-wait ${((h.data_wait_share ?? 0) * 100).toFixed(1)}%`,
            ),
        });
        const at = r.position;
        if (r.reason === 'interrupted')
          console.error(
            `dentseg train: last/ saved at epoch ${at.epoch + 1}, ` +
              (at.step === 0
                ? 'before its first step'
                : `after step ${at.step}/${at.steps}${at.step === at.steps ? ' (validation left)' : ''}`) +
              `; continue with: dentseg train --resume ${r.runDir}`,
          );
        console.error(
          `dentseg train: ${r.reason} after ${r.history.length} epochs in ${formatDuration((performance.now() - t0) / 1000)}; ` +
            `best val Dice ${r.bestValDice?.toFixed(4) ?? '-'}; run folder ${r.runDir}`,
        );
        if (r.reason === 'interrupted') process.exitCode = stop.exitCode();
      } finally {
        stop.dispose();
      }
      // The wasm backend's pthread workers keep the event loop alive: leave explicitly.
      process.exit(process.exitCode ?? 0);
    });
}
