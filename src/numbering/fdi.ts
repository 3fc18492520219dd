/**
 * The FDI two-digit tooth notation (ISO 3950) for the 32 permanent teeth: names a dentist
 * reads ("lower left first molar"), tooth types for colouring, and which numbers are
 * missing from a chart. Pure: numbers in, plain data out.
 */
import { fdiNumber } from '../data/classes.js';

/** One FDI number of a permanent tooth: quadrant 1–4 × 10 + position 1–8 (11…48). */
export type Fdi = number;

/** The 32 permanent teeth, ascending: 11…18, 21…28, 31…38, 41…48. */
export const FDI_NUMBERS: readonly Fdi[] = Object.freeze(
  [1, 2, 3, 4].flatMap((q) => [1, 2, 3, 4, 5, 6, 7, 8].map((p) => q * 10 + p)),
);

/** Quadrants: 1 upper right, 2 upper left, 3 lower left, 4 lower right (the patient's sides). */
export type Quadrant = 1 | 2 | 3 | 4;

/** Tooth types, coarse enough for a colour legend; third molars apart (often absent or impacted). */
export const TOOTH_TYPES = ['incisor', 'canine', 'premolar', 'molar', 'third molar'] as const;
export type ToothType = (typeof TOOTH_TYPES)[number];

/** True for the 32 permanent FDI numbers (11–18, 21–28, 31–38, 41–48). */
export function isPermanentFdi(fdi: number): boolean {
  const q = Math.floor(fdi / 10);
  const p = fdi % 10;
  return Number.isInteger(fdi) && q >= 1 && q <= 4 && p >= 1 && p <= 8;
}

function check(fdi: number): void {
  if (!isPermanentFdi(fdi)) {
    throw new RangeError(`not a permanent FDI tooth number (11–18, 21–28, 31–38, 41–48): ${fdi}`);
  }
}

/** The quadrant (1–4) of a permanent FDI number. */
export function quadrantOf(fdi: Fdi): Quadrant {
  check(fdi);
  return Math.floor(fdi / 10) as Quadrant;
}

/** The position in the quadrant, 1 (central incisor, next to the midline) … 8 (third molar). */
export function positionOf(fdi: Fdi): number {
  check(fdi);
  return fdi % 10;
}

/** True for quadrants 1 and 2 (maxilla). */
export function isUpper(fdi: Fdi): boolean {
  return quadrantOf(fdi) <= 2;
}

/** True for the patient's right side (quadrants 1 and 4). */
export function isRight(fdi: Fdi): boolean {
  const q = quadrantOf(fdi);
  return q === 1 || q === 4;
}

/** The FDI number of `position` (1–8) in quadrant `q`. */
export function fdiOf(q: Quadrant, position: number): Fdi {
  const f = q * 10 + position;
  check(f);
  return f;
}

/** The quadrant on the given side of the midline and of the occlusal curve. */
export function quadrantFor(upper: boolean, right: boolean): Quadrant {
  return upper ? (right ? 1 : 2) : right ? 4 : 3;
}

/** Tooth type by position: 1–2 incisor, 3 canine, 4–5 premolar, 6–7 molar, 8 third molar. */
export function toothType(fdi: Fdi): ToothType {
  const p = positionOf(fdi);
  return p <= 2
    ? 'incisor'
    : p === 3
      ? 'canine'
      : p <= 5
        ? 'premolar'
        : p <= 7
          ? 'molar'
          : 'third molar';
}

const POSITION_NAMES = [
  'central incisor',
  'lateral incisor',
  'canine',
  'first premolar',
  'second premolar',
  'first molar',
  'second molar',
  'third molar',
] as const;

const QUADRANT_NAMES = ['upper right', 'upper left', 'lower left', 'lower right'] as const;

/** English name of a permanent tooth, e.g. 36 → "lower left first molar", 18 → "upper right third molar". */
export function toothName(fdi: Fdi): string {
  return `${QUADRANT_NAMES[quadrantOf(fdi) - 1]} ${POSITION_NAMES[positionOf(fdi) - 1]}`;
}

/**
 * The permanent teeth not in `present`, ascending (e.g. a chart with every tooth but the
 * third molars → [18, 28, 38, 48]). Numbers in `present` that are not permanent FDI
 * numbers are ignored.
 */
export function missingTeeth(present: Iterable<Fdi>): Fdi[] {
  const have = new Set(present);
  return FDI_NUMBERS.filter((f) => !have.has(f));
}

/**
 * How a model's classes map to FDI numbers: `fdiOfClass[i]` is class i's number (index 0,
 * background, is undefined) and `classOfFdi` the way back.
 */
export interface NumberingScheme {
  readonly fdiOfClass: readonly (Fdi | undefined)[];
  readonly classOfFdi: ReadonlyMap<Fdi, number>;
}

/**
 * The numbering scheme of a multi-class model, or undefined when it is not a numbering
 * model. A model numbers teeth when every class after the background names a distinct
 * permanent FDI number ("tooth 11", "11", "FDI-48"; ufba425's `classes_fdi.json` gives
 * "tooth 11"…"tooth 48"). It need not have all 32: a chart position without a class is
 * never predicted.
 */
export function numberingScheme(classes: readonly string[]): NumberingScheme | undefined {
  if (classes.length < 2) return undefined;
  const fdiOfClass: (Fdi | undefined)[] = [undefined];
  const classOfFdi = new Map<Fdi, number>();
  for (let i = 1; i < classes.length; i++) {
    const f = fdiNumber(classes[i]!);
    if (f === undefined || !isPermanentFdi(f) || classOfFdi.has(f)) return undefined;
    fdiOfClass.push(f);
    classOfFdi.set(f, i);
  }
  return { fdiOfClass, classOfFdi };
}

/**
 * One colour per tooth type for charts (RGB 0–255), distinct on a grey X-ray: incisors
 * sky blue, canines yellow, premolars green, molars orange, third molars magenta.
 */
export const TOOTH_TYPE_COLOURS: Readonly<Record<ToothType, readonly [number, number, number]>> =
  Object.freeze({
    incisor: [86, 180, 233],
    canine: [240, 228, 66],
    premolar: [0, 190, 120],
    molar: [230, 159, 0],
    'third molar': [204, 121, 167],
  });
