/**
 * How the page words and colours findings, without the DOM (unit-tested in Node): the
 * sentence a dentist reads ("Caries — tooth 36 (distal), confidence 0.82"), areas in mm²
 * only when the X-ray says how large a pixel is, and which teeth carry findings for the
 * chart's marks. A finding type's colour is `findingTypeColour` (imaging/palette.ts), the
 * one `X.findings.png` uses.
 */

/** The fields of a finding these helpers read (server findings and browser ones alike). */
export interface FindingText {
  readonly class: string;
  readonly type?: string | undefined;
  readonly tooth?: number | null | undefined;
  readonly surface?: string | null | undefined;
  readonly score?: number | undefined;
  readonly areaPx: number;
  readonly review?: string | undefined;
  /** The model that found it (absent on findings stored before model sets). */
  readonly model?: string | undefined;
}

/** The fields that tell a lesion from a region of the teeth model. */
export type LesionKey = Pick<FindingText, 'model' | 'review'>;

/**
 * Whether a finding is a lesion: found by one of `lesionModels` (the names of the set's
 * lesion models, from the analysis' `models`), or drawn by the dentist. Other findings are
 * regions of the teeth model's mask (a tooth, or all teeth).
 */
export function isLesion(f: LesionKey, lesionModels: ReadonlySet<string>): boolean {
  return f.review === 'added' || (f.model !== undefined && lesionModels.has(f.model));
}

/** The names of the lesion models among an analysis' `models` (none before model sets). */
export function lesionModelNames(
  models: readonly { readonly name: string; readonly role: string }[] | undefined,
): Set<string> {
  return new Set((models ?? []).filter((m) => m.role === 'lesion').map((m) => m.name));
}

/** `caries` → `Caries`. */
export function typeLabel(type: string): string {
  return type.length === 0 ? type : type[0]?.toUpperCase() + type.slice(1);
}

/**
 * The finding's line. A lesion: "Caries — tooth 36 (distal), confidence 0.82", or "tooth not
 * identified" when it lies on no numbered tooth (no confidence for one the dentist drew). A
 * region of the teeth model keeps its class ("tooth 36", "teeth"), with its tooth when the
 * class does not already name it.
 */
export function findingTitle(f: FindingText, lesion: boolean): string {
  const type = f.type ?? f.class;
  let where = '';
  if (typeof f.tooth === 'number' && !new RegExp(`\\b${f.tooth}$`).test(type)) {
    where = ` — tooth ${f.tooth}${lesion && f.surface ? ` (${f.surface})` : ''}`;
  } else if (lesion && typeof f.tooth !== 'number') {
    where = ' — tooth not identified';
  }
  if (!lesion) return `${type}${where}`;
  const confidence = typeof f.score === 'number' ? `, confidence ${f.score.toFixed(2)}` : '';
  return `${typeLabel(type)}${where}${confidence}`;
}

/**
 * An area for the page: mm² (two decimals) when `spacingMm` ([row, column] mm per pixel,
 * from a DICOM) is known, else pixels — never mm² guessed from a picture without a scale.
 */
export function areaText(areaPx: number, spacingMm?: readonly number[] | undefined): string {
  const [row, col] = spacingMm ?? [];
  if (row !== undefined && col !== undefined && row > 0 && col > 0) {
    return `${(areaPx * row * col).toFixed(2)} mm²`;
  }
  return `${areaPx.toLocaleString('en-GB')} px`;
}

/**
 * The finding types on each tooth, for the chart's marks: lesions (see {@link isLesion})
 * with a tooth, the ones the dentist rejected left out; types sorted, each once.
 */
export function findingMarks(
  findings: readonly FindingText[],
  lesionModels: ReadonlySet<string>,
): Map<number, string[]> {
  const marks = new Map<number, string[]>();
  for (const f of findings) {
    if (!isLesion(f, lesionModels)) continue;
    if (typeof f.tooth !== 'number' || f.review === 'rejected') continue;
    const type = f.type ?? f.class;
    const types = marks.get(f.tooth) ?? [];
    if (!types.includes(type)) types.push(type);
    marks.set(f.tooth, types.sort());
  }
  return marks;
}
