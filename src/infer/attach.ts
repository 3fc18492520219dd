/**
 * Attaching findings to teeth, the one rule for `predict`, the server and the page: a region
 * belongs to the tooth holding most of its pixels (a point is a one-pixel region), and a
 * lesion's surface follows from where it lies within that tooth. Platform-free: typed arrays
 * in, plain data out. Re-exported by ./model-set.ts, whose API it is part of.
 */
import { labelComponents, type Components } from '../imaging/components.js';
import { describeRegions, type Finding } from '../imaging/findings.js';
import {
  isRight,
  isUpper,
  numberingScheme,
  type Fdi,
  type NumberingScheme,
} from '../numbering/index.js';

/** A tooth surface a lesion sits on, from its position within the tooth. */
export type Surface = 'mesial' | 'distal' | 'occlusal';

/**
 * One finding of a set: a region of a model's mask with today's fields (class, classIndex,
 * areaPx, areaPct, bbox, centroid, polygon) and what a dentist reads it by.
 */
export interface SetFinding extends Finding {
  /** Stable id within the analysis: `f1`, `f2`, … in the set's order (teeth model first). */
  readonly id: string;
  /** Finding type: a lesion model's `postprocess.lesion` (e.g. `"caries"`), else the class. */
  readonly type: string;
  /**
   * FDI number of the tooth the region overlaps most (most pixels of one number), or null
   * without a numbering model or without overlap.
   */
  readonly tooth: Fdi | null;
  /** Lesions: the surface of `tooth` it sits on, or null when not decidable (or no tooth). */
  readonly surface: Surface | null;
  /** Mean probability of the region's class over its pixels, 0…1 (3 decimals). */
  readonly score: number;
  /** Name of the model that found it (dentseg.json `name`). */
  readonly model: string;
}

/** Where teeth are, to attach lesions to: the numbering model's class map at image size. */
export interface TeethMap {
  /** `width*height` class indices of the numbering model. */
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly scheme: NumberingScheme;
  /**
   * Each tooth's box `[x, y, w, h]` (e.g. from `ToothReport.bbox`), when known: the surface
   * rule then scans only there instead of the whole image.
   */
  readonly boxes?: ReadonlyMap<Fdi, readonly [number, number, number, number]>;
}

/** The most frequent tooth among class-index counts `hist` (index = class), or null. */
function mostOverlapped(hist: ArrayLike<number>, scheme: NumberingScheme): Fdi | null {
  let best = 0;
  let bestN = 0;
  for (let c = 1; c < hist.length; c++) {
    const n = hist[c]!;
    if (n > bestN && scheme.fdiOfClass[c] !== undefined) {
      bestN = n;
      best = c;
    }
  }
  return bestN > 0 ? (scheme.fdiOfClass[best] ?? null) : null;
}

/**
 * The tooth a region overlaps most: the FDI number holding most of `pixels` (indices into
 * `teeth.mask`), ties to the lower class index; null when none lies on a tooth. The one rule
 * for attaching anything to a tooth ({@link toothAt} is it for a single point).
 */
export function toothOfRegion(pixels: Iterable<number>, teeth: TeethMap): Fdi | null {
  const hist = new Uint32Array(256);
  for (const i of pixels) hist[teeth.mask[i] ?? 0]!++;
  return mostOverlapped(hist, teeth.scheme);
}

/**
 * The FDI number (11–48) of the numbered tooth under `centroid` (image pixels, clamped to
 * the image) in a class-index `mask`, or null when the pixel is background or the classes
 * are not FDI numbers — {@link toothOfRegion} for a one-pixel region.
 */
export function toothAt(
  centroid: readonly [number, number],
  mask: Uint8Array,
  width: number,
  height: number,
  classes: readonly string[],
): Fdi | null {
  const scheme = numberingScheme(classes);
  if (scheme === undefined) return null;
  const x = Math.min(width - 1, Math.max(0, Math.round(centroid[0])));
  const y = Math.min(height - 1, Math.max(0, Math.round(centroid[1])));
  return toothOfRegion([y * width + x], { mask, width, height, scheme });
}

/**
 * Share of a tooth's width at either side that counts as its mesial or distal surface, and
 * share of its height at the crown end that counts as occlusal (between: not decidable).
 */
const SIDE_SHARE = 0.3;
const CROWN_SHARE = 0.5;

/**
 * The surface of tooth `fdi` that a lesion with centroid `centroid` and box `bbox` sits on:
 * `mesial` or `distal` when it lies in the outer 30 % of the tooth's width in the lesion's
 * rows (mesial towards the midline: a panoramic shows the patient's right on the image's
 * left), else `occlusal` when it lies in the crown half (upper teeth point down, lower teeth
 * up), else null. Null when the tooth has no pixels.
 */
export function surfaceOf(
  fdi: Fdi,
  centroid: readonly [number, number],
  bbox: readonly [number, number, number, number],
  teeth: TeethMap,
): Surface | null {
  const c = teeth.scheme.classOfFdi.get(fdi);
  if (c === undefined) return null;
  const { mask, width, height } = teeth;
  // The tooth's height over all of it, its width within the lesion's rows (teeth tilt).
  const box = teeth.boxes?.get(fdi) ?? [0, 0, width, height];
  const [bx0, by0] = [Math.max(0, box[0]), Math.max(0, box[1])];
  const [bx1, by1] = [Math.min(width, box[0] + box[2]), Math.min(height, box[1] + box[3])];
  let y0 = height;
  let y1 = -1;
  let x0 = width;
  let x1 = -1;
  const r0 = bbox[1];
  const r1 = bbox[1] + bbox[3] - 1;
  for (let y = by0; y < by1; y++) {
    const o = y * width;
    const inRows = y >= r0 && y <= r1;
    for (let x = bx0; x < bx1; x++) {
      if (mask[o + x] !== c) continue;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (inRows) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  if (y1 < 0) return null;
  const [cx, cy] = centroid;
  if (x1 > x0) {
    const u = (cx - x0) / (x1 - x0);
    const towardMidline = isRight(fdi) ? u : 1 - u; // 1 at the mesial edge
    if (towardMidline >= 1 - SIDE_SHARE) return 'mesial';
    if (towardMidline <= SIDE_SHARE) return 'distal';
  }
  const v = y1 > y0 ? (cy - y0) / (y1 - y0) : 0.5;
  const towardCrown = isUpper(fdi) ? v : 1 - v; // 1 at the occlusal end
  return towardCrown >= CROWN_SHARE ? 'occlusal' : null;
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * The findings of one lesion model: each 8-connected region of its binary `mask` (0/1) of
 * at least `minAreaPx`, with today's fields, `type`, the tooth it overlaps most and its
 * surface (when `teeth` is given), and `score` (mean of `probabilities`, one per pixel,
 * over it). Ids are left to the caller (`''` here). `labelled`: the mask's labelling when the
 * caller holds it already (the tooth gate's, `GatedLesions.components`); else the mask
 * is labelled here — once, for the regions and their scores alike.
 */
export function lesionFindings(
  mask: Uint8Array,
  probabilities: ArrayLike<number>,
  width: number,
  height: number,
  type: string,
  model: string,
  minAreaPx: number,
  teeth?: TeethMap,
  labelled?: Components,
): SetFinding[] {
  const n = width * height;
  if (mask.length !== n || (labelled !== undefined && labelled.labels.length !== n)) {
    throw new RangeError(`lesion mask or labels do not hold ${width}×${height} = ${n} values`);
  }
  const comp = labelled ?? labelComponents(mask, width, height);
  const regions = describeRegions(comp, width, height, () => type, { minAreaPx });
  if (regions.length === 0) return [];
  // Per described region (the components of at least minAreaPx, in order) the probability
  // sum and how many of its pixels lie on each class of the teeth map.
  const slot = new Int32Array(comp.count).fill(-1);
  let kept = 0;
  for (let i = 0; i < comp.count; i++) if (comp.area[i]! >= minAreaPx) slot[i] = kept++;
  const probSum = new Float64Array(kept);
  const hist = teeth ? new Uint32Array(kept * 256) : undefined;
  const labels = comp.labels;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l === 0) continue;
    const s = slot[l - 1]!;
    if (s < 0) continue;
    probSum[s]! += probabilities[i]!;
    if (hist && teeth) hist[s * 256 + teeth.mask[i]!]!++;
  }
  return regions.map((r, s) => {
    const tooth =
      hist && teeth ? mostOverlapped(hist.subarray(s * 256, s * 256 + 256), teeth.scheme) : null;
    return {
      ...r,
      id: '',
      type,
      tooth,
      surface: tooth !== null && teeth ? surfaceOf(tooth, r.centroid, r.bbox, teeth) : null,
      score: round3(probSum[s]! / r.areaPx),
      model,
    };
  });
}

/** Per lesion type: how many regions, and the FDI numbers they sit on (ascending, unique). */
export type LesionSummary = Record<string, { count: number; teeth: Fdi[] }>;

/**
 * The per-type lesion summary that `X.json`'s `summary.lesions` and summary.csv's `caries` /
 * `caries_teeth` columns hold: for each of `types` (the set's lesion types, in order; a
 * type that ran and found nothing counts 0), its findings among `findings` and the teeth
 * they are on. Findings of other types (the teeth model's) are not counted.
 */
export function lesionSummary(
  types: readonly string[],
  findings: readonly { readonly type: string; readonly tooth: Fdi | null }[],
): LesionSummary {
  const out: LesionSummary = {};
  for (const type of types) {
    const found = findings.filter((f) => f.type === type);
    const teeth = [...new Set(found.map((f) => f.tooth).filter((t): t is Fdi => t !== null))];
    out[type] = { count: found.length, teeth: teeth.sort((a, b) => a - b) };
  }
  return out;
}
