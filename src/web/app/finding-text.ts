/**
 * How the page words and colours findings, without the DOM (unit-tested in Node): the
 * sentence a dentist reads ("Caries — tooth 36 (distal), confidence 0.82"), areas in mm²
 * only when the X-ray says how large a pixel is, a colour per finding type, and which teeth
 * carry findings for the chart's marks.
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
}

/**
 * Whether a finding comes from a lesion model (it carries the model's confidence): one
 * region is one suspected lesion, worded with its tooth. Other findings are regions of the
 * teeth model's mask.
 */
export function isLesion(f: Pick<FindingText, 'score' | 'review'>): boolean {
  // A finding the dentist drew is a lesion too, without a model's confidence.
  return typeof f.score === 'number' || f.review === 'added';
}

/** `caries` → `Caries`. */
export function typeLabel(type: string): string {
  return type.length === 0 ? type : type[0]?.toUpperCase() + type.slice(1);
}

/**
 * The finding's line: "Caries — tooth 36 (distal), confidence 0.82"; a lesion on no
 * numbered tooth says so ("tooth not identified"); a region of a numbering model is already
 * named after its tooth ("tooth 36") and is not said twice.
 */
export function findingTitle(f: FindingText): string {
  const type = f.type ?? f.class;
  const lesion = isLesion(f);
  let where = '';
  if (typeof f.tooth === 'number' && !new RegExp(`\\b${f.tooth}$`).test(type)) {
    where = ` — tooth ${f.tooth}${f.surface ? ` (${f.surface})` : ''}`;
  } else if (lesion && (f.tooth === null || f.tooth === undefined)) {
    where = ' — tooth not identified';
  }
  const confidence = typeof f.score === 'number' ? `, confidence ${f.score.toFixed(2)}` : '';
  return `${lesion ? typeLabel(type) : type}${where}${confidence}`;
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

/** Colours of the finding types dentseg knows; others take one from `EXTRA_COLOURS`. */
const TYPE_COLOURS: Readonly<Record<string, string>> = { caries: '#e8364f' };
const EXTRA_COLOURS = ['#f08c00', '#7048e8', '#1098ad', '#d6336c', '#5c940d'] as const;

/** The CSS colour of a finding type (stable: the same type, the same colour). */
export function typeColour(type: string): string {
  const known = TYPE_COLOURS[type];
  if (known) return known;
  let h = 0;
  for (const ch of type) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return EXTRA_COLOURS[h % EXTRA_COLOURS.length] as string;
}

/**
 * The finding types on each tooth, for the chart's marks: lesion findings with a tooth, the
 * ones the dentist rejected left out; types sorted, each once.
 */
export function findingMarks(findings: readonly FindingText[]): Map<number, string[]> {
  const marks = new Map<number, string[]>();
  for (const f of findings) {
    if (!isLesion(f)) continue;
    if (typeof f.tooth !== 'number' || f.review === 'rejected') continue;
    const type = f.type ?? f.class;
    const types = marks.get(f.tooth) ?? [];
    if (!types.includes(type)) types.push(type);
    marks.set(f.tooth, types.sort());
  }
  return marks;
}
