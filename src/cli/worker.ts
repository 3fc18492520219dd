/**
 * `dentseg worker`: takes analyses from the shared queue of `dentseg serve --queue`,
 * loading the model set once (the bundled set unless --model, repeatable); run as many as
 * there are machines (or cores to spare).
 * SIGINT/SIGTERM let the running analyses finish; a killed worker's jobs are retried by
 * another one once their lock runs out.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import type { BackendName } from '../engine/index.js';
import { MODEL_SET_OPTION, checkNumber, modelDirsFlag, rangeFlag } from './flags.js';
import { servedSetDirs } from './model-set-option.js';
import { ENHANCE_OPTION, enhanceFromCli, FORCE_OPTION, withEnhance } from './imaging-options.js';

interface WorkerCliOptions {
  queue: string;
  db?: string;
  dataDir: string;
  model?: string[];
  engine?: 'tfjs' | 'onnx' | 'onnx-int8';
  concurrency: string;
  maxPixels: string;
  threshold?: string;
  lockDuration: string;
  stalledInterval: string;
  keepDicomTags?: boolean;
  enhance?: string;
  force?: boolean;
}

/** Register `dentseg worker` on the program. */
export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('run analyses from the shared queue of `dentseg serve --queue`')
    .requiredOption('--queue <url>', 'redis://HOST:PORT of the shared queue')
    .option('--db <url>', 'postgres://… for the records (default: SQLite in --data-dir)')
    .option('--data-dir <dir>', 'the data dir every node mounts', './dentseg-data')
    .option(...MODEL_SET_OPTION)
    .addOption(
      new Option('--engine <name>', 'inference engine').choices(['tfjs', 'onnx', 'onnx-int8']),
    )
    .option('--concurrency <n>', 'analyses at once in this process', '1')
    .option('--max-pixels <n>', 'largest image, width × height pixels', '40000000')
    .option(
      '--threshold <p>',
      "probability threshold for stored masks (default: each model's postprocess.threshold, else 0.5)",
    )
    .option(
      '--keep-dicom-tags',
      "keep a DICOM upload's patient and study tags so the DICOM exports file with its study (off: privacy)",
    )
    // The same analysis settings as `serve` (its --enhance and --force): with --queue the
    // workers analyse, so they need the flags the server would have applied.
    .option(...ENHANCE_OPTION)
    .option(...FORCE_OPTION)
    .option('--lock-duration <ms>', "a dead worker's jobs return to the queue after this", '30000')
    .option('--stalled-interval <ms>', 'how often stalled jobs are looked for', '30000')
    .action(async (opts: WorkerCliOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ backend?: BackendName }>();
      const concurrency = checkNumber('--concurrency', opts.concurrency, {
        integer: true,
        min: 1,
        max: 64,
      });
      // every flag is checked before the store opens and the model loads
      const maxPixels = rangeFlag('--max-pixels', opts.maxPixels, 1);
      const threshold =
        opts.threshold === undefined ? undefined : rangeFlag('--threshold', opts.threshold, 0, 1);
      const lockDurationMs = rangeFlag('--lock-duration', opts.lockDuration, 100);
      const stalledIntervalMs = rangeFlag('--stalled-interval', opts.stalledInterval, 100);
      const enhance = enhanceFromCli(opts.enhance);
      const dirs = servedSetDirs(modelDirsFlag(opts.model) ?? []);
      const { openStore, hidePassword } = await import('../serve/open-store.js');
      const store = await openStore(opts.db, opts.dataDir);
      const { loadModelSet } = await import('../infer/model-set.node.js');
      const set = await loadModelSet(dirs, {
        ...(opts.engine !== undefined ? { engine: opts.engine } : {}),
        ...(globals.backend !== undefined ? { backend: globals.backend } : {}),
        log: true,
      });
      const models = set.models.map((m) => withEnhance(m, enhance));
      const { startWorker } = await import('../serve/worker.js');
      const worker = startWorker({
        queueUrl: opts.queue,
        store,
        // --enhance replaces each model's own preprocess.enhance for every job.
        model: models,
        concurrency,
        maxPixels,
        ...(threshold !== undefined ? { threshold } : {}),
        keepDicomTags: opts.keepDicomTags === true,
        force: opts.force === true,
        lockDurationMs,
        stalledIntervalMs,
        onEvent: (e) =>
          console.error(`dentseg worker: ${e.id} ${e.status} in ${Math.round(e.ms)} ms`),
      });
      console.error(
        `dentseg worker: pid ${process.pid} queue=${hidePassword(opts.queue)} store=${store.kind} data=${path.resolve(opts.dataDir)} models=${models.map((m) => `${m.meta.name}@${m.meta.version}`).join(',')} enhance=${models[0]?.meta.preprocess.enhance ?? 'none'}${opts.force === true ? ' force' : ''} concurrency=${concurrency}`,
      );
      const stop = (): void => {
        void worker.close().then(async () => {
          await store.close();
          set.dispose();
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
