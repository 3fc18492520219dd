/**
 * `dentseg predict`: segment X-ray files and folders into `X.mask.png`, `X.overlay.png`,
 * `X.json` and a `summary.csv`, with a progress bar; exit code 2 when any input failed.
 */
import type { Command } from 'commander';
import type { BackendName } from '../engine/index.js';
import { DentsegError } from '../errors.js';
import type { EngineName, LoadedModel, LoadedModelSet, PredictItem } from '../infer/index.js';
import {
  MODEL_SET_OPTION,
  checkChoice,
  invalidValue,
  modelDirsFlag,
  numberParser,
  outAlias,
  outFlag,
} from './flags.js';
import { ENHANCE_OPTION, enhanceFromCli, FORCE_OPTION, withEnhance } from './imaging-options.js';

interface PredictCliOptions {
  model?: string[];
  input: string[];
  out?: string;
  output?: string;
  threshold?: number;
  tta?: boolean;
  concurrency: number;
  keepDicomTags?: boolean;
  minArea?: number;
  engine?: string;
  enhance?: string;
  report?: boolean;
  paper: string;
  force?: boolean;
}

/** A one-line progress bar on stderr (a line per image when stderr is not a terminal). */
function progress(item: PredictItem, done: number, total: number, startedAt: number): void {
  const tty = process.stderr.isTTY === true;
  const secs = (performance.now() - startedAt) / 1000;
  const eta = done < total ? Math.round((secs / done) * (total - done)) : 0;
  if (!item.ok) {
    if (tty) process.stderr.write('\r\x1b[K');
    console.error(
      `dentseg: failed ${item.error?.code ?? ''}: ${item.error?.message ?? item.input}`,
    );
  }
  const width = 24;
  const filled = Math.round((done / total) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  const line = `${bar} ${(secs / done).toFixed(1)} s/image, ETA ${eta} s  ${item.ok ? 'ok' : 'FAILED'} ${item.input}`;
  if (tty) process.stderr.write(`\r\x1b[K${line}${done === total ? '\n' : ''}`);
  else console.error(line);
}

/** Register `dentseg predict` on the program. */
export function registerPredictCommands(program: Command): void {
  program
    .command('predict')
    .description(
      'segment X-rays (JPEG, PNG 8/16-bit, TIFF, BMP, DICOM; files or folders) into mask, overlay and findings',
    )
    .option(...MODEL_SET_OPTION)
    .requiredOption(
      '--input <paths...>',
      'image files and/or folders (folders: files with an image extension or image content, e.g. DICOM named IM0001)',
    )
    .option('--out <dir>', 'output folder (created)')
    .option(...outAlias('output'))
    .option(
      '--threshold <t>',
      "binary models: foreground when probability >= t (0..1) (default: each model's postprocess.threshold, else 0.5)",
      numberParser('--threshold', { min: 0, max: 1 }),
    )
    .option('--tta', 'test-time augmentation: average with the horizontally flipped image')
    .option('--no-tta', "no test-time augmentation, even where a model's dentseg.json asks for it")
    .option(
      '--concurrency <n>',
      'images in flight at once (decode/encode overlap the forward pass)',
      numberParser('--concurrency', { integer: true, min: 1, max: 16 }),
      1,
    )
    .option(
      '--min-area <px>',
      "drop findings smaller than this (default: the model's postprocess.minAreaPx, else 0.01% of the image, >= 16 px)",
      numberParser('--min-area', { integer: true, min: 0, max: 1e9 }),
    )
    .option('--keep-dicom-tags', 'write DICOM patient tags into X.json (off: privacy)')
    .option('--report', 'also write X.report.pdf: a one-page report (overlay, chart, findings)')
    .option('--paper <size>', 'page size of --report: a4 or letter', 'a4')
    .option(...FORCE_OPTION)
    .option('--engine <name>', `inference engine (default: the best the model folder supports)`)
    .option(...ENHANCE_OPTION)
    .action(async (opts: PredictCliOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ backend?: BackendName }>();
      const out = outFlag(opts, ['output']);
      if (out === undefined) throw invalidValue('--out', 'an output folder', undefined);
      const dirs = modelDirsFlag(opts.model);
      const { engineNames, loadModel, loadModelSet, predictBatch } =
        await import('../infer/index.js');
      if (opts.engine !== undefined) checkChoice('--engine', opts.engine, engineNames());
      const paper = checkChoice('--paper', opts.paper, ['a4', 'letter'] as const);
      const enhance = enhanceFromCli(opts.enhance);
      const loadOpts = {
        ...(opts.engine !== undefined ? { engine: opts.engine as EngineName } : {}),
        ...(globals.backend !== undefined ? { backend: globals.backend } : {}),
        log: true,
      };
      // One --model: that model alone, every output as it always was. None: the bundled
      // set; several: that set (X.mask.png the teeth union, X.teeth.png, X.<lesion>.png, …).
      // loadModel starts a TensorFlow.js backend only where one is used or asked for.
      let model: LoadedModel | LoadedModelSet;
      let models: readonly LoadedModel[];
      if (dirs?.length === 1) {
        model = withEnhance(await loadModel(dirs[0], loadOpts), enhance);
        models = [model];
      } else {
        const set = await loadModelSet(dirs, loadOpts);
        models = set.models.map((m) => withEnhance(m, enhance));
        model = { models, dispose: () => set.dispose() };
      }
      try {
        console.error(
          `dentseg predict: ${'models' in model ? 'models' : 'model'} ` +
            models
              .map(
                (m) => `${m.meta.name} ${m.meta.version} (${m.meta.task}, engine ${m.engine.name})`,
              )
              .join(' + '),
        );
        const startedAt = performance.now();
        const result = await predictBatch(model, {
          inputs: opts.input,
          outputDir: out,
          ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
          ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
          concurrency: opts.concurrency,
          keepDicomTags: opts.keepDicomTags === true,
          ...(opts.report === true ? { report: paper } : {}),
          ...(opts.minArea !== undefined ? { minAreaPx: opts.minArea } : {}),
          ...(opts.force === true ? { force: true } : {}),
          onItem: (item, done, total) => progress(item, done, total, startedAt),
        });
        const ok = result.items.length - result.failed;
        const secs = ((performance.now() - startedAt) / 1000).toFixed(1);
        console.log(
          `${ok} of ${result.items.length} images segmented in ${secs} s` +
            (result.failed > 0 ? `, ${result.failed} failed` : '') +
            (result.skipped > 0 ? ` (${result.skipped} non-image files in folders skipped)` : '') +
            `; summary: ${result.summaryCsv}`,
        );
        const rejected = result.items.filter((i) => i.quality?.panoramic === false);
        if (rejected.length > 0)
          console.log(
            `${rejected.length} input(s) do not look like a panoramic dental X-ray` +
              (opts.force === true
                ? ' (findings kept: --force)'
                : ': their findings are withheld (--force keeps them); see the quality column'),
          );
        for (const item of result.items) {
          if (item.quality?.panoramic === false)
            console.log(`  not panoramic: ${item.input} (${item.quality.issues.join('; ')})`);
          if (!item.ok)
            console.log(
              `  failed: ${item.error?.message ?? item.input} [${item.error?.code ?? ''}]`,
            );
        }
        if (result.items.length === 0) {
          throw new DentsegError('E_FILE_NOT_FOUND', 'no image files in the inputs given', {
            file: opts.input.join(' '),
          });
        }
        process.exitCode = result.failed > 0 ? 2 : 0;
      } finally {
        model.dispose();
      }
    });
}
