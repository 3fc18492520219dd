/**
 * `evaluate`: run a loaded model over a data set (either layout, any split part) and score
 * the predictions at the ground-truth mask's own resolution; reads images one at a time.
 */
import path from 'node:path';
import {
  loadSample,
  resizeMaskNearest,
  type Dataset,
  type GreyImage,
  type SampleRef,
} from '../data/index.node.js';
import { DentsegError, isDentsegError } from '../errors.js';
import { gateFocus, lesionMaskRules, type TeethMask } from '../infer/lesion-gate.js';
import { outlinedTeeth, outlineMirrored } from '../infer/outline.js';
import { lesionTypeOf } from '../infer/model-set.js';
import { findingsMinAreaPx } from '../infer/pipeline.js';
import { segment } from '../infer/segment.js';
import type { SegmentOptions, SegmentResult } from '../infer/types.js';
import { minToothPxAt, numberingConfig, type NumberingMode } from '../numbering/index.js';
import type { LoadedModel } from '../infer/types.js';
import { EvaluationAccumulator, type EvaluationReport, type ImageRow } from './aggregate.js';
import { LesionAccumulator, type LesionReport } from './lesions.js';

/** Which part of the data set to score. */
export const SUBSETS = ['all', 'train', 'val'] as const;
export type Subset = (typeof SUBSETS)[number];

/** Options of `evaluateModel`. */
export interface EvaluateOptions {
  /** Binary threshold 0…1 (default: the model's `postprocess.threshold`, else 0.5). */
  readonly threshold?: number;
  /** `all` (default): train + val; `train` or `val`: that part of the split. */
  readonly subset?: Subset;
  readonly tta?: boolean;
  /**
   * Numbering models: the anatomical post-processing steps, overriding the model's
   * `postprocess.numbering` (to measure what each step adds).
   */
  readonly numbering?: NumberingMode;
  /** Also count lesions (src/evaluate/lesions.ts) with this minimum region area in px. */
  readonly lesions?: { readonly minAreaPx: number };
  /**
   * A lesion model asking for a tooth gate (`postprocess.toothGate`): the teeth model whose
   * mask gates it, as in a model set (src/infer/lesion-gate.ts), before any metric. Ignored
   * for a model that asks for none; absent: scored ungated.
   */
  readonly teethModel?: LoadedModel;
  /**
   * A binary teeth model outlining the numbering model's teeth, as in a model set
   * (src/infer/outline.ts): the numbering model scored (`model`), else the teeth model that
   * gates a lesion model (`teethModel`). Ignored where no numbering model is involved.
   */
  readonly outlineModel?: LoadedModel;
  /** Called after each image (or failure). */
  readonly onImage?: (done: number, total: number, row: ImageRow | undefined) => void;
  /**
   * Called with each scored image, its prediction and its truth (e.g. to draw error maps);
   * awaited, so output is written before the next image is read.
   */
  readonly onScored?: (scored: ScoredImage) => Promise<void> | void;
  /**
   * Applied to each decoded image before the model sees it (e.g. `--degrade`, `--enhance`);
   * must keep the size. `label` is the reported path, e.g. to seed per file.
   */
  readonly transformImage?: (image: GreyImage, label: string) => Promise<GreyImage>;
}

/** One scored image as `onScored` sees it: masks at the image's size, 0 = background. */
export interface ScoredImage {
  /** The image path as reported (relative to the working directory when possible). */
  readonly label: string;
  readonly image: GreyImage;
  readonly prediction: Uint8Array;
  readonly truth: Uint8Array;
  readonly row: ImageRow;
  /**
   * The model's output before any threshold or region rule (`SegmentResult.probabilities`,
   * at `probabilitiesSize`, which may differ from the image's): what an analysis of other
   * operating points or region rules reads, so that it starts from what was scored.
   */
  readonly probabilities: Float32Array;
  readonly probabilitiesSize: { readonly width: number; readonly height: number };
  /** The teeth that gated a lesion model (absent: no gate ran). */
  readonly gateTeeth?: TeethMask;
}

/** What `evaluateModel` returns. */
export interface EvaluationResult {
  readonly report: EvaluationReport;
  readonly rows: readonly ImageRow[];
  /**
   * Samples that could not be read, with the reason (they are not scored): first the files
   * the data set left out while listing (e.g. an image without a mask), then decode errors.
   */
  /** Lesion-level detection metrics, when `lesions` was asked for. */
  readonly lesions?: LesionReport;
  /** The tooth gate applied to every prediction before scoring (absent: none). */
  readonly toothGate?: EvaluatedToothGate;
  /** The binary teeth model whose outline the numbered teeth were drawn in, `name@version`. */
  readonly outlineModel?: string;
  /**
   * Set when a numbering model was scored on binary tooth masks: its teeth, all numbers
   * together, against the masks' foreground.
   */
  readonly scoredAs?: 'teeth union';
  readonly failed: readonly {
    readonly file: string;
    readonly code: string;
    readonly message: string;
  }[];
}

/** The `toothGate` block of an evaluation report: which teeth, what margin, what it dropped. */
export interface EvaluatedToothGate {
  /** The teeth model, `name@version`. */
  readonly teethModel: string;
  readonly marginPx: number;
  /** Regions dropped over all scored images. */
  readonly droppedRegions: number;
}

/** The samples of `dataset` in `subset`. */
export function samplesOf(dataset: Dataset, subset: Subset): SampleRef[] {
  return subset === 'train'
    ? dataset.train
    : subset === 'val'
      ? dataset.val
      : [...dataset.train, ...dataset.val];
}

/**
 * The files `dataset` left out while listing that belong to `subset`: those whose part is
 * known and matches, and those whose part cannot be known (reported under every subset,
 * so that none goes unsaid).
 */
export function leftOutOf(dataset: Dataset, subset: Subset): Dataset['problems'] {
  return dataset.problems.filter(
    (p) =>
      p.part === undefined ||
      p.part === subset ||
      (subset === 'all' && (p.part === 'train' || p.part === 'val')),
  );
}

/**
 * A numbering model's class map at the image's size, drawn within `outline`'s teeth when
 * one is given, and the teeth a tooth gate reads then (as a model set does: outline.ts's
 * `outlinedTeeth`); any other model's mask as it is, for both.
 */
async function teethWithin(
  model: LoadedModel,
  r: SegmentResult,
  outline: LoadedModel | undefined,
  image: GreyImage,
  opts: SegmentOptions,
  numbering: NumberingMode | undefined,
): Promise<{ mask: Uint8Array; gate: Uint8Array; outlined: boolean }> {
  const cfg = numberingConfig(model.meta, numbering);
  if (!outline || !cfg || !r.numbering) return { mask: r.mask, gate: r.mask, outlined: false };
  const tta = outlineMirrored(model.meta, opts.tta);
  const o = await segment(outline, image, {
    ...opts,
    ...(tta !== undefined ? { tta } : {}),
    findings: false,
  });
  const { width, height } = r;
  const within = outlinedTeeth(model.meta, cfg, r.mask, o.mask, width, height);
  return { ...within, outlined: true };
}

/** Data-set refs hold absolute paths; report them relative to where the user stands. */
const labelOf = (file: string): string =>
  path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;

/** Score `model` on `dataset`; a model/data-set task or class-count mismatch is E_USAGE. */
export async function evaluateModel(
  model: LoadedModel,
  dataset: Dataset,
  opts: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const { meta } = model;
  // A numbering model on binary tooth masks (another clinic's data has no FDI labels):
  // score all its teeth as one region, so that it answers the same question as a binary
  // teeth model on the same masks.
  const asUnion =
    meta.task === 'multiclass' &&
    dataset.task === 'binary' &&
    numberingConfig(meta, opts.numbering) !== undefined;
  if (meta.task !== dataset.task && !asUnion) {
    throw new DentsegError(
      'E_USAGE',
      `the model is ${meta.task} but the data set is ${dataset.task}` +
        (meta.task === 'multiclass' ? ' (add --multiclass and --classes)' : ' (drop --multiclass)'),
    );
  }
  if (!asUnion && meta.task === 'multiclass' && meta.classes.length !== dataset.classes.length) {
    throw new DentsegError(
      'E_USAGE',
      `the model has ${meta.classes.length} classes, the data set ${dataset.classes.length}`,
    );
  }
  const subset = opts.subset ?? 'all';
  const samples = samplesOf(dataset, subset);
  const leftOut = leftOutOf(dataset, subset);
  if (samples.length === 0) {
    const first = leftOut[0];
    throw new DentsegError(
      first?.code ?? 'E_USAGE',
      `no images in the "${subset}" part of the data set` +
        (first
          ? `; ${leftOut.length} left out, e.g. ${labelOf(first.file)}: ${first.message} ` +
            '(dentseg data check lists them all)'
          : ''),
    );
  }
  const numbering = numberingConfig(meta, opts.numbering);
  const acc = asUnion
    ? new EvaluationAccumulator('binary', dataset.classes)
    : new EvaluationAccumulator(meta.task, meta.classes, numbering?.scheme);
  const lesionAcc = opts.lesions ? new LesionAccumulator(opts.lesions.minAreaPx) : undefined;
  const failed: { file: string; code: string; message: string }[] = leftOut.map((p) => ({
    file: labelOf(p.file),
    code: p.code,
    message: `${labelOf(p.file)}: ${p.message}`,
  }));
  const gate = opts.teethModel ? meta.postprocess?.toothGate : undefined;
  const outline = opts.outlineModel;
  let outlinedAny = false;
  let droppedRegions = 0;
  let done = 0;
  for (const ref of samples) {
    let row: ImageRow | undefined;
    let scored: ScoredImage | undefined;
    const label = labelOf(ref.image);
    try {
      const sample = await loadSample(ref);
      const { mask } = sample;
      const image = opts.transformImage
        ? await opts.transformImage(sample.image, label)
        : sample.image;
      // Every model of the set runs as predict runs it: the same threshold and mirrored pass.
      const runOpts: SegmentOptions = {
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
        ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
        findings: false,
        name: label,
        ...(opts.numbering ? { numbering: opts.numbering } : {}),
      };
      // The set's gate on the set's teeth prediction (its own threshold, as predict runs it),
      // judging the regions the model's findings rule would report at this image. The teeth
      // come first: as in the set, the lesion model then looks only near them.
      let gateTeeth: TeethMask | undefined;
      if (gate && opts.teethModel) {
        const teethOpts: SegmentOptions = {
          ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
          findings: false,
          name: label,
        };
        const t = await segment(opts.teethModel, image, teethOpts);
        const teeth = await teethWithin(opts.teethModel, t, outline, image, teethOpts, undefined);
        outlinedAny ||= teeth.outlined;
        gateTeeth = { mask: teeth.gate, width: t.width, height: t.height };
      }
      const focus = gateFocus(meta, gateTeeth);
      const r = await segment(model, image, { ...runOpts, ...(focus ? { focus } : {}) });
      const own = await teethWithin(model, r, outline, image, runOpts, opts.numbering);
      outlinedAny ||= own.outlined;
      // Same size by construction (the data stage checks mask = image size); a resize keeps
      // the scoring at the mask's resolution should a source ever differ.
      const atSize =
        r.width === image.width && r.height === image.height
          ? own.mask
          : resizeMaskNearest(own.mask, r.width, r.height, image.width, image.height);
      let pred = asUnion ? atSize.map((c) => (c > 0 ? 1 : 0)) : atSize;
      // A lesion model is scored on the regions predict would report: its specks and, with a
      // teeth model, what its gate drops leave the mask (one rule with the model set).
      if (lesionTypeOf(meta) !== undefined) {
        const g = lesionMaskRules(
          meta,
          pred,
          image.width,
          image.height,
          findingsMinAreaPx(meta, image.width, image.height),
          gate ? gateTeeth : undefined,
        );
        pred = g.mask;
        if (g.report?.applied) droppedRegions += g.report.dropped;
      }
      // The presence rule of the post-processing, carried to the mask's resolution.
      const minPx = numbering && !asUnion ? minToothPxAt(numbering, image.width, image.height) : 1;
      row = acc.add(label, pred, mask, image.width, image.height, minPx);
      lesionAcc?.add(pred, mask, image.width, image.height);
      scored = {
        label,
        image,
        prediction: pred,
        truth: mask,
        row,
        probabilities: r.probabilities,
        probabilitiesSize: { width: r.width, height: r.height },
        ...(gateTeeth ? { gateTeeth } : {}),
      };
    } catch (err) {
      if (!isDentsegError(err)) throw err;
      failed.push({ file: label, code: err.code, message: err.message });
    }
    // Outside the try: a failing consumer (e.g. a full disk) must not mark the image unread.
    if (scored) await opts.onScored?.(scored);
    opts.onImage?.(++done, samples.length, row);
  }
  if (acc.rows.length === 0) {
    throw new DentsegError(
      'E_IMAGE_DECODE',
      `no image could be scored: ${failed[0]?.message ?? ''}`,
    );
  }
  return {
    report: acc.report(),
    ...(asUnion ? { scoredAs: 'teeth union' as const } : {}),
    ...(outline && outlinedAny
      ? { outlineModel: `${outline.meta.name}@${outline.meta.version}` }
      : {}),
    rows: acc.rows,
    ...(lesionAcc ? { lesions: lesionAcc.report() } : {}),
    ...(gate && opts.teethModel
      ? {
          toothGate: {
            teethModel: `${opts.teethModel.meta.name}@${opts.teethModel.meta.version}`,
            marginPx: gate.marginPx,
            droppedRegions,
          },
        }
      : {}),
    failed,
  };
}

function cell(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(6);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The per-image CSV (`--per-image`): one row per scored image; numbering models add
 * `teeth_matched`, `teeth_predicted`, `teeth_true` and `chart_correct` (of 32).
 */
export function perImageCsv(rows: readonly ImageRow[]): string {
  const keys = [
    'image',
    'width',
    'height',
    'truthPx',
    'predPx',
    'tp',
    'fp',
    'fn',
    'dice',
    'iou',
    'accuracy',
    'precision',
    'recall',
    'hd95',
    // numbering models only
    ...(rows.some((r) => r.chartCorrect !== undefined)
      ? (['teethMatched', 'teethPredicted', 'teethTrue', 'chartCorrect'] as const)
      : []),
  ] as const;
  const head = keys.map((k) => k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)).join(',');
  return [head, ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n') + '\n';
}
