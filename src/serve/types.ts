/**
 * The shapes the HTTP API stores and returns for one analysis, shared by the store, the
 * routes and (as plain JSON) the web page.
 */
import { numberingScheme } from '../numbering/index.js';
import type { InputQuality } from '../imaging/panoramic.js';
import type { UploadFormat } from './sniff.js';

/** One connected region found in the mask (same fields as the inference pipeline's). */
export interface FindingJson {
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
}

/** The files kept on disk for an analysis. */
export const ANALYSIS_FILES = [
  'original.png',
  'mask.png',
  'overlay.png',
  'probability.png',
  'chart.png',
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
  record?: Pick<AnalysisRecord, 'model' | 'classes'>,
): AnalysisLinks {
  const self = `${API_PREFIX}/analyses/${id}`;
  return {
    self,
    original: `${self}/original.png`,
    mask: `${self}/mask.png`,
    overlay: `${self}/overlay.png`,
    probability: `${self}/probability.png`,
    ...(record && numbersTeeth(record) ? { chart: `${self}/chart.png` } : {}),
  };
}
