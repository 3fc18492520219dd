/**
 * The shapes the HTTP API stores and returns for one analysis, shared by the store, the
 * routes and (as plain JSON) the web page.
 */
import { numberingScheme } from '../numbering/index.js';
import type { InputQuality } from '../imaging/panoramic.js';
import type { UploadFormat } from './sniff.js';

/**
 * Where a finding or tooth stands in the dentist's review: `suggested` (the model's output,
 * untouched), `accepted`, `rejected`, `edited` (tooth or type changed; the model's values
 * kept in `original`) or `added` (drawn by the dentist). Kept apart from the analysis'
 * processing `status`.
 */
export type ReviewState = 'suggested' | 'accepted' | 'rejected' | 'edited' | 'added';

/** Review states, in the order above. */
export const REVIEW_STATES: readonly ReviewState[] = [
  'suggested',
  'accepted',
  'rejected',
  'edited',
  'added',
];

/**
 * One connected region found in the mask (same fields as the inference pipeline's), or one
 * drawn by the dentist (`review: 'added'`), with its review state.
 */
export interface FindingJson {
  /**
   * Stable within the analysis: `f1`, `f2`, … in the model's order; drawn ones `a1`, `a2`, ….
   */
  readonly id: string;
  readonly review: ReviewState;
  /** What the finding is, e.g. `caries`: the class name unless the dentist changed it. */
  readonly type: string;
  /** FDI number (11–48) of the numbered tooth under the finding's centroid, else null. */
  readonly tooth: number | null;
  /** The dentist's note on this finding. */
  readonly note?: string;
  /** The model's type and tooth, once the dentist changed either. */
  readonly original?: { readonly type: string; readonly tooth: number | null };
  /** The model's class name (for drawn findings, the class matching `type`, else `type`). */
  readonly class: string;
  readonly classIndex: number;
  /** Region area in pixels of the original image. */
  readonly areaPx: number;
  /** Region area as a percentage (0–100) of the image. */
  readonly areaPct: number;
  /** [x, y, width, height] in original-image pixels. */
  readonly bbox: readonly [number, number, number, number];
  readonly centroid: readonly [number, number];
  readonly polygon: readonly (readonly [number, number])[];
}

/** One numbered tooth (same fields as `dentseg predict`'s `X.json`). */
export interface ToothJson {
  /** FDI number, 11–48. */
  readonly fdi: number;
  /** E.g. "lower left first molar". */
  readonly name: string;
  /** Area in pixels of the original image. */
  readonly areaPx: number;
  /** [x, y, width, height] over all of the tooth's pixels, original-image pixels. */
  readonly bbox: readonly [number, number, number, number];
  /** Mean pixel position [x, y]. */
  readonly centroid: readonly [number, number];
  /** Outline of the tooth's largest region as [x, y] points. */
  readonly polygon: readonly (readonly [number, number])[];
  /** Confidence of the number, 0–1. */
  readonly score: number;
  /** `suggested` as numbered by the model; `edited` once renumbered; `accepted`. */
  readonly review: ReviewState;
  /** The model's number, once the dentist renumbered the tooth. */
  readonly original?: { readonly fdi: number };
}

/** Who marked an analysis reviewed, when, and their note. */
export interface ReviewedJson {
  /** The reviewing user (null on a server without tokens). */
  readonly by: string | null;
  /** ISO 8601 time. */
  readonly at: string;
  readonly note: string;
}

/** Audit actions, one per kind of change. */
export type AuditAction =
  | 'finding.review'
  | 'finding.edit'
  | 'finding.add'
  | 'tooth.renumber'
  | 'tooth.present'
  | 'mask.correct'
  | 'analysis.review'
  | 'analysis.delete';

/** One append-only audit entry: who changed what, when, from what to what. */
export interface AuditEntry {
  /** ISO 8601 time of the change. */
  readonly at: string;
  /** The user who made it (null on a server without tokens). */
  readonly user: string | null;
  readonly action: AuditAction;
  /** The changed object before (null for additions). */
  readonly before: unknown;
  /** The changed object after (null for deletions). */
  readonly after: unknown;
}

/** What is stored for an analysis (links are added when it is sent). */
export interface AnalysisRecord {
  /** UUID v4. */
  readonly id: string;
  /** ISO 8601 time the analysis was stored. */
  readonly created: string;
  /** The uploaded file's name as the client sent it (may be empty). */
  readonly filename: string;
  /**
   * The user who created it (a name from the server's tokens; `admin` for `--token`), or
   * null on a server without tokens and for analyses stored before users existed.
   */
  readonly user: string | null;
  readonly image: {
    readonly width: number;
    readonly height: number;
    readonly format: UploadFormat;
  };
  readonly model: {
    readonly name: string;
    readonly version: string;
    readonly engine: string;
    readonly task: 'binary' | 'multiclass';
  };
  /** Class names; for binary the target's name. */
  readonly classes: readonly string[];
  /**
   * Probability threshold used for the stored mask and findings (0–1); 0 for multi-class
   * models, whose mask is the arg-max class.
   */
  readonly threshold: number;
  readonly findings: readonly FindingJson[];
  /**
   * The teeth found, ascending by FDI number; empty when the model does not number teeth
   * (and for analyses stored before numbering existed).
   */
  readonly teeth: readonly ToothJson[];
  /**
   * FDI numbers (11–48) not found, ascending: with `teeth`, every number exactly once.
   * Empty when the model does not number teeth.
   */
  readonly missing: readonly number[];
  /**
   * The input check: panoramic dental X-ray or not, a score 0…1, the issues in words, and
   * whether findings, teeth and missing were withheld for it. Absent on analyses stored
   * before the check existed.
   */
  readonly quality?: InputQuality & { readonly withheld: boolean };
  /** Total server-side time for the analysis, in milliseconds. */
  readonly elapsedMs: number;
  /** Milliseconds per pipeline stage. */
  readonly timings: Readonly<Record<string, number>>;
  /** Set when the dentist marked the whole analysis reviewed (the latest time wins). */
  readonly reviewed: ReviewedJson | null;
  /**
   * Corrections the dentist made: `masks` names the models whose mask was corrected (the
   * corrected mask is `mask.corrected.png` beside the model's untouched `mask.png`).
   */
  readonly corrections: { readonly masks: readonly string[] };
  /**
   * Only with `serve --keep-dicom-tags` and a DICOM upload: the original's patient, study and
   * reference tags (names as dcmjs spells them), so the DICOM exports file with its study.
   * Patient data: never logged, and not sent in the API's JSON.
   */
  readonly dicomTags?: Readonly<Record<string, string>>;
}

/** The files kept on disk for an analysis. */
export const ANALYSIS_FILES = [
  'original.png',
  'mask.png',
  'overlay.png',
  'probability.png',
  'chart.png',
  'mask.corrected.png',
] as const;
export type AnalysisFileName = (typeof ANALYSIS_FILES)[number];

/** Links sent with every analysis. */
export interface AnalysisLinks {
  readonly self: string;
  readonly original: string;
  readonly mask: string;
  readonly overlay: string;
  readonly probability: string;
  /** Only for analyses of a model that numbers teeth. */
  readonly chart?: string;
  /** Only once the dentist stored a corrected mask. */
  readonly maskCorrected?: string;
  /** The analysis' append-only audit. */
  readonly audit: string;
}

/** The API's base path. */
export const API_PREFIX = '/api/v1';

/**
 * Whether an analysis comes from a model that numbers teeth: multi-class with every class
 * after the background a permanent FDI number (the rule `segment` numbers by).
 */
export function numbersTeeth(record: Pick<AnalysisRecord, 'model' | 'classes'>): boolean {
  return record.model.task === 'multiclass' && numberingScheme(record.classes) !== undefined;
}

/** Links for analysis `id` (with `chart` when `record` numbers teeth). */
export function linksFor(
  id: string,
  record?: Pick<AnalysisRecord, 'model' | 'classes'> & Partial<Pick<AnalysisRecord, 'corrections'>>,
): AnalysisLinks {
  const self = `${API_PREFIX}/analyses/${id}`;
  return {
    self,
    original: `${self}/original.png`,
    mask: `${self}/mask.png`,
    overlay: `${self}/overlay.png`,
    probability: `${self}/probability.png`,
    ...(record && numbersTeeth(record) ? { chart: `${self}/chart.png` } : {}),
    ...(record?.corrections && record.corrections.masks.length > 0
      ? { maskCorrected: `${self}/mask.corrected.png` }
      : {}),
    audit: `${self}/audit`,
  };
}
