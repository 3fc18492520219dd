/**
 * `dentseg evaluate`: score a model folder (default: the bundled model) on a data set given
 * with the same flags as `dentseg data check`; writes the JSON report and, optionally, a
 * per-image CSV. `--subset val` scores only the validation part (e.g. of ufba425's split).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import sharp from 'sharp';
import { openDataset } from '../data/index.node.js';
import type { BackendName } from '../engine/index.js';
import {
  DEFAULT_LESION_MIN_AREA,
  errorMapRgb,
  evaluateModel,
  perImageCsv,
  SUBSETS,
  type ScoredImage,
  type Subset,
} from '../evaluate/index.js';
import {
  BUNDLED_SET,
  defaultOutlineModelDir,
  defaultTeethModelDir,
  loadModel,
  modelRole,
  thresholdFor,
  toGrey8,
  type EngineName,
  type LoadedModel,
} from '../infer/index.js';
import { DentsegError } from '../errors.js';
import { NUMBERING_MODES, numberingConfig, type NumberingMode } from '../numbering/index.js';
import { addDatasetOptions, datasetOptionsFromCli } from './dataset-options.js';
import { checkNumber } from './flags.js';
import { jsonTarget, writeJson } from './json-output.js';
import {
  addImagingOptions,
  imagingPlanFromCli,
  withEnhance,
  type ImagingCliOptions,
} from './imaging-options.js';

interface EvaluateCliOptions extends ImagingCliOptions {
  model?: string;
  threshold?: string;
  json: string | true;
  perImage?: string;
  subset: Subset;
  tta?: boolean;
  engine?: EngineName;
  errorMaps?: string;
  numbering?: NumberingMode;
  lesions?: boolean;
  lesionMinArea?: string;
  teethModel?: string;
  outlineModel?: string;
}

/**
 * A writer of `<stem>.errors.png` files into `dir`; stems seen twice (same name in two
 * folders) get `-2`, `-3`… so no map overwrites another.
 */
function errorMapWriter(dir: string): (scored: ScoredImage) => Promise<void> {
  const used = new Map<string, number>();
  return async ({ label, image, prediction, truth }) => {
    const stem = path.parse(label).name;
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    const file = path.join(dir, `${n === 1 ? stem : `${stem}-${n}`}.errors.png`);
    const { rgb } = errorMapRgb(toGrey8(image), prediction, truth, image.width, image.height);
    await sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
      .png({ compressionLevel: 3 })
      .toFile(file);
  };
}

async function writeOut(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text);
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(4);
}

/** How evaluate loads the models beside the scored one: the run's backend and enhancement. */
interface HelperLoad {
  readonly backend: BackendName | undefined;
  readonly enhance: Parameters<typeof withEnhance>[1];
}

/**
 * Load a model that helps score another (the gate's teeth, the outline) as `how` says;
 * E_USAGE naming `flag` and `folder`, the model disposed first, when `fits` refuses it.
 */
async function loadHelper(
  folder: string,
  how: HelperLoad,
  fits: (meta: LoadedModel['meta']) => boolean,
  flag: string,
  problem: string,
  hint: string,
): Promise<LoadedModel> {
  const { backend, enhance } = how;
  const loaded = withEnhance(
    await loadModel(folder, { ...(backend !== undefined ? { backend } : {}), log: true }),
    enhance,
  );
  if (!fits(loaded.meta)) {
    loaded.dispose();
    throw new DentsegError('E_USAGE', `${flag} ${folder} ${problem}`, { hint });
  }
  return loaded;
}

/**
 * The teeth model that gates `model` (`--teeth-model`): none when the model asks for no
 * tooth gate (a warning if one was given anyway) or for `none`; else the folder given or the
 * bundled set's teeth model, which must be a teeth model (E_USAGE otherwise).
 */
async function loadTeethModel(
  dir: string | undefined,
  model: LoadedModel,
  how: HelperLoad,
): Promise<LoadedModel | undefined> {
  if (dir === 'none') return undefined;
  if (model.meta.postprocess?.toothGate === undefined) {
    if (dir !== undefined)
      console.error(
        'dentseg: warning: the model asks for no tooth gate (postprocess.toothGate); --teeth-model is not used',
      );
    return undefined;
  }
  return loadHelper(
    dir ?? defaultTeethModelDir(),
    how,
    (meta) => modelRole(meta) === 'teeth',
    '--teeth-model',
    'is a lesion model',
    'give a binary teeth or numbering model folder, or none to score ungated',
  );
}

/**
 * The binary teeth model outlining the numbered teeth (`--outline-model`): the folder given
 * (`none`: no outline); without one, the bundled set's outline when the bundled teeth model
 * gates a lesion model (so that the gate sees the teeth predict draws), else none. It must be
 * a binary teeth model (E_USAGE otherwise); warned about and unused when no numbering model
 * is involved.
 */
async function loadOutlineModel(
  dir: string | undefined,
  model: LoadedModel,
  teethModel: LoadedModel | undefined,
  bundledTeeth: boolean,
  how: HelperLoad,
): Promise<LoadedModel | undefined> {
  if (dir === 'none') return undefined;
  const numbered = [model, teethModel].some(
    (m) => m !== undefined && numberingConfig(m.meta) !== undefined,
  );
  if (!numbered) {
    if (dir !== undefined)
      console.error(
        'dentseg: warning: no numbering model to outline (--model, or the gating --teeth-model); --outline-model is not used',
      );
    return undefined;
  }
  const folder = dir ?? (bundledTeeth && teethModel ? defaultOutlineModelDir() : undefined);
  if (folder === undefined) return undefined;
  return loadHelper(
    folder,
    how,
    (meta) => modelRole(meta) === 'teeth' && meta.task === 'binary',
    '--outline-model',
    'is not a binary teeth model',
    'give a binary teeth model folder (e.g. models/teeth-binary), or none',
  );
}

/** Register `dentseg evaluate` on the program. */
export function registerEvaluateCommands(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description(
      'score a model on a data set: pooled and per-image Dice, IoU, accuracy, precision, recall, HD95',
    )
    .option('--model <dir>', 'model folder (default: the bundled models/teeth-binary/)')
    .option(
      '--threshold <t>',
      "binary models: foreground when probability >= t (0..1) (default: the model's postprocess.threshold, else 0.5)",
    )
    .requiredOption(
      '--json [file]',
      'the report as JSON: to FILE, or to stdout without one (the summary then goes to stderr)',
    )
    .option('--per-image <file>', 'also write one CSV row per image')
    .addOption(
      new Option('--subset <part>', 'which part of the split to score (all = train + val)')
        .choices([...SUBSETS])
        .default('all'),
    )
    .option('--tta', 'average with the horizontally flipped prediction')
    .option(
      '--no-tta',
      "no test-time augmentation, even where the model's dentseg.json asks for it",
    )
    .option('--engine <name>', 'inference engine (default: the best the model folder supports)')
    .addOption(
      new Option(
        '--numbering <steps>',
        "numbering models: anatomical post-processing steps, overriding the model's " +
          'postprocess.numbering (each includes the ones before it)',
      ).choices([...NUMBERING_MODES]),
    )
    .option(
      '--error-maps <dir>',
      "also draw each image's errors to DIR/<stem>.errors.png: true positives green, " +
        'false positives orange, false negatives blue',
    )
    .option(
      '--lesions',
      'also count lesions (found, missed, false alarms); on by default for a lesion model ' +
        '(dentseg.json postprocess.lesion)',
    )
    .option(
      '--lesion-min-area <px>',
      `lesion metrics: ignore regions under this many pixels at the mask's resolution, in the truth and the prediction (implies --lesions)`,
      String(DEFAULT_LESION_MIN_AREA),
    )
    .option(
      '--teeth-model <dir>',
      'a lesion model asking for a tooth gate (dentseg.json postprocess.toothGate): the teeth ' +
        `model whose teeth gate it, as in predict (default: the bundled set's, ${BUNDLED_SET.teeth.map((n) => `models/${n}`).join(', else ')}); ` +
        '"none" scores it ungated',
    )
    .option(
      '--outline-model <dir>',
      'a binary teeth model drawing which pixels are tooth for the numbering model, as the ' +
        'bundled set does in predict: the numbering --model is scored within its outline (no ' +
        "default), and so is a gating numbering --teeth-model (default there: the bundled set's, " +
        `models/${BUNDLED_SET.outline}); "none" for no outline`,
    );
  addImagingOptions(cmd);
  addDatasetOptions(cmd).action(async (opts: EvaluateCliOptions, command: Command) => {
    const globals = command.optsWithGlobals<{ backend?: BackendName }>();
    const asked =
      opts.threshold === undefined
        ? undefined
        : checkNumber('--threshold', opts.threshold, { min: 0, max: 1 });
    const lesionMinArea = checkNumber('--lesion-min-area', opts.lesionMinArea, {
      integer: true,
      min: 1,
    });
    const json = jsonTarget(opts.json) ?? { stdout: true };
    // With the report on stdout, the human summary goes to stderr so stdout stays JSON.
    const say = 'stdout' in json ? console.error : console.log;
    const imaging = imagingPlanFromCli(opts);
    const dataset = await openDataset(
      datasetOptionsFromCli(opts as unknown as Record<string, unknown>),
    );
    for (const w of dataset.warnings) console.error(`dentseg: warning: ${w}`);
    // loadModel starts a TensorFlow.js backend only for the tfjs engine, and says what runs.
    const model = withEnhance(
      await loadModel(opts.model, {
        ...(opts.engine ? { engine: opts.engine } : {}),
        ...(globals.backend !== undefined ? { backend: globals.backend } : {}),
        log: true,
      }),
      imaging.enhance,
    );
    let teethModel: LoadedModel | undefined;
    let outlineModel: LoadedModel | undefined;
    try {
      const how: HelperLoad = { backend: globals.backend, enhance: imaging.enhance };
      teethModel = await loadTeethModel(opts.teethModel, model, how);
      outlineModel = await loadOutlineModel(
        opts.outlineModel,
        model,
        teethModel,
        opts.teethModel === undefined,
        how,
      );
      if (opts.errorMaps) await mkdir(opts.errorMaps, { recursive: true });
      const t0 = performance.now();
      const tty = process.stderr.isTTY === true;
      const lesions =
        opts.lesions === true ||
        command.getOptionValueSource('lesionMinArea') === 'cli' ||
        model.meta.postprocess?.lesion !== undefined;
      const result = await evaluateModel(model, dataset, {
        ...(asked !== undefined ? { threshold: asked } : {}),
        ...(lesions ? { lesions: { minAreaPx: lesionMinArea } } : {}),
        ...(teethModel ? { teethModel } : {}),
        ...(outlineModel ? { outlineModel } : {}),
        subset: opts.subset,
        ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
        ...(opts.numbering ? { numbering: opts.numbering } : {}),
        ...(imaging.transform ? { transformImage: imaging.transform } : {}),
        ...(opts.errorMaps ? { onScored: errorMapWriter(opts.errorMaps) } : {}),
        onImage: (done, total) => {
          if (tty)
            process.stderr.write(
              `\r\x1b[Kevaluating ${done}/${total}${done === total ? '\n' : ''}`,
            );
          else if (done === total || done % 10 === 0) console.error(`evaluating ${done}/${total}`);
        },
      });
      const { report } = result;
      const numbering = numberingConfig(model.meta, opts.numbering);
      const out = {
        ...report,
        ...(numbering
          ? { numbering: { steps: numbering.mode, minToothPx: numbering.minToothPx } }
          : {}),
        model: { name: model.meta.name, version: model.meta.version, engine: model.engine.name },
        task: model.meta.task,
        threshold: thresholdFor(model.meta, asked),
        ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
        subset: opts.subset,
        ...(result.lesions ? { lesions: result.lesions } : {}),
        // Always said: the gate applied, or null (none asked for, or --teeth-model none).
        toothGate: result.toothGate ?? null,
        // Always said: the binary teeth model the numbered teeth were drawn in, or null.
        outlineModel: result.outlineModel ?? null,
        ...(result.scoredAs ? { scoredAs: result.scoredAs } : {}),
        ...(imaging.report ? { degrade: imaging.report } : {}),
        enhance: model.meta.preprocess.enhance ?? 'none',
        elapsedMs: Math.round(performance.now() - t0),
        failed: result.failed,
        warnings: dataset.warnings,
      };
      await writeJson(json, out);
      if (opts.perImage) await writeOut(opts.perImage, perImageCsv(result.rows));
      const p = report.pooled;
      const m = report.perImage;
      if (result.scoredAs)
        say('a numbering model on binary masks: its teeth are scored as one region (teeth union)');
      say(
        `${report.images} images (${opts.subset}): pooled Dice ${fmt(p.dice)} IoU ${fmt(p.iou)} ` +
          `accuracy ${fmt(p.accuracy)} precision ${fmt(p.precision)} recall ${fmt(p.recall)}`,
      );
      say(
        `per-image mean: Dice ${fmt(m.dice)} IoU ${fmt(m.iou)} HD95 ${fmt(m.hd95)} px; ` +
          `${m.emptyGroundTruth} with empty ground truth` +
          (m.emptyGroundTruthFpShare !== null
            ? ` (false-positive pixel share ${fmt(m.emptyGroundTruthFpShare)})`
            : ''),
      );
      if (report.teeth && report.union) {
        const t = report.teeth;
        say(
          `teeth: F1 ${fmt(t.f1)} (precision ${fmt(t.precision)}, recall ${fmt(t.recall)}), ` +
            `chart accuracy ${fmt(t.chartAccuracy)}, mean tooth Dice ${fmt(t.meanToothDice)}; ` +
            `union Dice ${fmt(report.union.dice)}`,
        );
      }
      const l = result.lesions;
      if (l) {
        say(
          `lesions (≥ ${l.minAreaPx} px): ${l.found}/${l.truth} found, sensitivity ${fmt(l.sensitivity)}, ` +
            `precision ${fmt(l.precision)}, ${fmt(l.fpPerImage)} false positives per image`,
        );
      }
      if (result.outlineModel) say(`teeth numbered within the outline of ${result.outlineModel}`);
      const g = result.toothGate;
      if (g)
        say(
          `tooth gate: ${g.teethModel}, margin ${g.marginPx} px: ${g.droppedRegions} regions off the teeth dropped`,
        );
      for (const f of result.failed) console.error(`dentseg: failed ${f.code}: ${f.message}`);
      say(
        `report: ${'file' in json ? json.file : 'stdout'}${opts.perImage ? `, per image: ${opts.perImage}` : ''}` +
          (opts.errorMaps ? `, error maps: ${opts.errorMaps}` : ''),
      );
      process.exitCode = result.failed.length > 0 ? 2 : 0;
    } finally {
      outlineModel?.dispose();
      teethModel?.dispose();
      model.dispose();
    }
  });
}
