/**
 * The shapes of `predictBatch`'s options and per-input outcome, and how those options
 * become the segmentation's, apart from ./batch.ts so that the single-model and the
 * model-set writers (./predict-set.ts) share them without importing each other.
 */
import type { InputQuality } from '../imaging/panoramic.js';
import type { Paper } from '../report/index.js';

/** Options of `predictBatch` (validated by the CLI). */
export interface PredictBatchOptions {
  /** Files and folders as the user gave them. */
  readonly inputs: readonly string[];
  /** Output folder (created). */
  readonly outputDir: string;
  /** Binary threshold 0…1; undefined: each model's own (`postprocess.threshold`, else 0.5). */
  readonly threshold?: number;
  /** Average with the mirrored X-ray's prediction; undefined: each model's `postprocess.tta`. */
  readonly tta?: boolean;
  /** Inputs in flight at once (≥ 1). */
  readonly concurrency: number;
  /** Write DICOM patient tags into `X.json` (off by default: privacy). */
  readonly keepDicomTags: boolean;
  /** Also write `X.report.pdf` on this paper (default: no report). */
  readonly report?: Paper;
  /** Minimum finding area in pixels (default per image: `defaultMinArea`). */
  readonly minAreaPx?: number;
  /** Keep findings and teeth of inputs the check says are not panoramic X-rays (`--force`). */
  readonly force?: boolean;
  /** Called after each input, in completion order. */
  readonly onItem?: (item: PredictItem, done: number, total: number) => void;
}

/** What happened to one input. */
export interface PredictItem {
  /** The path as given (folder + file name for folder members). */
  readonly input: string;
  readonly ok: boolean;
  /** Output stem `X` (unique within the batch). */
  readonly stem: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly width?: number;
  readonly height?: number;
  readonly regions?: number;
  readonly areaPx?: number;
  readonly areaPct?: number;
  readonly classesPresent?: readonly string[];
  /** Numbering models: FDI numbers of the teeth found, and of those missing (11–48). */
  readonly teeth?: readonly number[];
  readonly missing?: readonly number[];
  /** Model sets: per lesion type, its regions and the FDI numbers they sit on. */
  readonly lesions?: Readonly<
    Record<string, { readonly count: number; readonly teeth: readonly number[] }>
  >;
  /** Model sets without a teeth model: no `X.mask.png` was written. */
  readonly noMask?: boolean;
  /** The input check: panoramic or not, score and issues. */
  readonly quality?: InputQuality;
  readonly elapsedMs?: number;
  /** Per-stage ms: segment's stages plus `encode` (writing the three outputs). */
  readonly timings?: Readonly<Record<string, number>>;
}

/**
 * The options `segment` and `segmentSet` take from a batch's: threshold, TTA, the minimum
 * area when given, and `--force` as not withholding the findings of an input the check
 * says is not a panoramic X-ray.
 */
export function segmentOptionsOf(opts: PredictBatchOptions): {
  readonly threshold?: number;
  readonly tta?: boolean;
  readonly minAreaPx?: number;
  readonly withholdIfNotPanoramic: boolean;
} {
  return {
    ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
    ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
    ...(opts.minAreaPx !== undefined ? { minAreaPx: opts.minAreaPx } : {}),
    withholdIfNotPanoramic: opts.force !== true,
  };
}
