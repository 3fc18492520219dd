/**
 * The plain data a report or a DICOM export is made from, apart from any store or HTTP
 * shape: the server and `dentseg predict --report` both map their results onto these.
 */

/** Review state of a finding or tooth (`suggested` until a dentist acts on it). */
export type ReportReviewState = 'suggested' | 'accepted' | 'rejected' | 'edited' | 'added';

/** One finding as the report lists it and the SEG exports it. */
export interface ReportFinding {
  /** Stable id, e.g. `f1` (model) or `a1` (drawn). */
  readonly id: string;
  /** Finding type, e.g. `caries`. */
  readonly type: string;
  /** FDI number (11–48) of the tooth under it, or null. */
  readonly tooth: number | null;
  /** Area in pixels of the original image. */
  readonly areaPx: number;
  /** Area as a percentage (0–100) of the image. */
  readonly areaPct: number;
  readonly review: ReportReviewState;
  /** Outline as [x, y] points in original-image pixels (for the SEG). */
  readonly polygon: readonly (readonly [number, number])[];
}

/** One numbered tooth. */
export interface ReportTooth {
  /** FDI number, 11–48. */
  readonly fdi: number;
  readonly review: ReportReviewState;
  /** Outline as [x, y] points in original-image pixels (for the SEG). */
  readonly polygon: readonly (readonly [number, number])[];
}

/** A model that contributed to the analysis. */
export interface ReportModel {
  readonly name: string;
  readonly version: string;
}

/** Everything one report page shows. */
export interface ReportData {
  /** The uploaded file's name (may be empty). */
  readonly filename: string;
  /** ISO 8601 time of the analysis. */
  readonly created: string;
  /** Analysis id, printed small for traceability (optional for `predict`). */
  readonly id?: string;
  readonly image: { readonly width: number; readonly height: number };
  readonly models: readonly ReportModel[];
  readonly findings: readonly ReportFinding[];
  /** Numbered teeth (empty when the model does not number teeth). */
  readonly teeth: readonly ReportTooth[];
  /** FDI numbers not found; null when the model does not number teeth. */
  readonly missing: readonly number[] | null;
  /** The dentist's note ('' for none). */
  readonly note: string;
  /** Who marked the analysis reviewed and when (ISO 8601), or null: not reviewed. */
  readonly reviewed: { readonly by: string | null; readonly at: string } | null;
  /** The overlay as PNG or JPEG bytes (JPEG embeds without re-encoding: faster, smaller). */
  readonly overlay: Uint8Array;
  /** The dental chart as PNG or JPEG bytes, for models that number teeth. */
  readonly chart?: Uint8Array | undefined;
}

/** Page size of the report. */
export type Paper = 'a4' | 'letter';

/** The notice every report and export carries. */
export const RESEARCH_NOTICE = 'Research use only; not a medical device.';
