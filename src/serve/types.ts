/**
 * The shapes the HTTP API stores and returns for one analysis, shared by the store, the
 * routes and (as plain JSON) the web page.
 */
import { numberingScheme } from '../numbering/index.js';
import type { InputQuality } from '../imaging/panoramic.js';
import type { UploadFormat } from './sniff.js';
import { DentsegError } from '../errors.js';
import { FIXED_FILES, LESION_FILE_PATTERN, reviewStateSchema } from './schemas.js';
import type { AnalysisJson, AnalysisLinks, Assert, ReviewState } from './wire.js';

export type {
  AnalysisLinks,
  AuditAction,
  AuditEntry,
  FindingJson,
  ReviewState,
  ReviewedJson,
  ToothJson,
} from './wire.js';

/** Review states, in the schema's order: suggested, accepted, rejected, edited, added. */
export const REVIEW_STATES: readonly ReviewState[] = reviewStateSchema.enum;

/**
 * What is stored for an analysis: the API's analysis (wire.ts) without what is added when it
 * is sent (`links`, `status`), with the fields the server always sets made required, and the
 * DICOM tags that are never sent.
 */
export interface AnalysisRecord extends Omit<
  AnalysisJson,
  'links' | 'status' | 'filename' | 'elapsedMs' | 'timings' | 'quality'
> {
  /** The uploaded file's name as the client sent it (may be empty). */
  readonly filename: string;
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
  /**
   * Only with `serve --keep-dicom-tags` and a DICOM upload: the original's patient, study and
   * reference tags (names as dcmjs spells them), so the DICOM exports file with its study.
   * Patient data: never logged, and not sent in the API's JSON.
   */
  readonly dicomTags?: Readonly<Record<string, string>>;
}

// The schema's image formats are the ones an upload is sniffed as.
type _SameFormats = Assert<
  [UploadFormat, AnalysisJson['image']['format']] extends [
    AnalysisJson['image']['format'],
    UploadFormat,
  ]
    ? true
    : false
>;

/** The files every analysis may keep on disk (the file route also serves lesion masks). */
export const ANALYSIS_FILES = FIXED_FILES;

/** A lesion model's mask (`caries.png`) or its correction (`caries.corrected.png`). */
export type LesionFileName = `${string}.png`;

/** A file kept on disk for an analysis: the ones the file route serves. */
export type AnalysisFileName = (typeof ANALYSIS_FILES)[number] | LesionFileName;

const LESION_FILE = new RegExp(LESION_FILE_PATTERN);

/** The names of the analysis' own files, which no finding type may take (`mask`…). */
const RESERVED_TYPES: readonly string[] = [...new Set(ANALYSIS_FILES.map((f) => f.split('.')[0]!))];

/** Whether `name` is one of the fixed files or a well-formed lesion mask name (safe as a path). */
export function isAnalysisFileName(name: string): name is AnalysisFileName {
  return (ANALYSIS_FILES as readonly string[]).includes(name) || LESION_FILE.test(name);
}

/**
 * The mask file of a lesion model whose findings are of type `type` (`caries` →
 * `caries.png`; `corrected`: the dentist's correction beside it). E_MODEL_INVALID when the
 * type cannot name a file or would take the name of one of the analysis' own files.
 */
export function lesionMaskFile(type: string, corrected = false): LesionFileName {
  const name = `${type}${corrected ? '.corrected' : ''}.png` as const;
  if (
    !LESION_FILE.test(name) ||
    (ANALYSIS_FILES as readonly string[]).some((f) => f.startsWith(`${type}.`))
  ) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `Expected a lesion model's finding type (postprocess.lesion) of 1 to 32 lower-case letters, digits and dashes, starting with a letter, and none of ${RESERVED_TYPES.join(', ')}, but received ${JSON.stringify(type)}`,
      { hint: "rename the type in the model's dentseg.json" },
    );
  }
  return name;
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

/**
 * Links for analysis `id` (with `chart` when `record` numbers teeth, `maskCorrected` once its
 * teeth model's mask was corrected, and `masks`, each model's mask, for a model set's).
 */
export function linksFor(
  id: string,
  record?: Pick<AnalysisRecord, 'model' | 'classes'> &
    Partial<Pick<AnalysisRecord, 'corrections' | 'models'>>,
): AnalysisLinks {
  const self = `${API_PREFIX}/analyses/${id}`;
  return {
    self,
    original: `${self}/original.png`,
    mask: `${self}/mask.png`,
    overlay: `${self}/overlay.png`,
    probability: `${self}/probability.png`,
    ...(record && numbersTeeth(record) ? { chart: `${self}/chart.png` } : {}),
    // A lesion model's correction is its own file (`caries.corrected.png`), not this one.
    ...(record?.corrections?.masks.includes(record.model.name)
      ? { maskCorrected: `${self}/mask.corrected.png` }
      : {}),
    audit: `${self}/audit`,
    ...(record?.models
      ? { masks: Object.fromEntries(record.models.map((m) => [m.name, `${self}/${m.mask}`])) }
      : {}),
  };
}
