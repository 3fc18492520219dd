/**
 * COCO JSON as Roboflow / Kaggle export it: parse, validate (errors name the field) and
 * turn into per-image sample shapes. Category rule: a category with supercategory "none"
 * that no annotation uses is the data set's own name (Roboflow's category 0), not a class.
 * `readCoco` keeps going past bad image and annotation entries and lists them all (for
 * `dentseg data masks`); `parseCoco` refuses the file at the first one (for training).
 */
import { DentsegError } from '../errors.js';
import { rleStringToCounts, type CocoSegmentation } from './rasterise.js';

export interface CocoShape {
  /** Class index (1-based; 0 is background). */
  readonly cls: number;
  readonly segmentation: CocoSegmentation;
}

export interface CocoImageEntry {
  readonly fileName: string;
  readonly width: number;
  readonly height: number;
  /** In annotation order: later shapes paint over earlier ones. */
  readonly shapes: CocoShape[];
}

export interface ParsedCoco {
  /** Foreground class names in category order (background not included). */
  readonly categories: string[];
  readonly images: CocoImageEntry[];
}

/** An image or annotation entry that `readCoco` left out, and why. */
export interface CocoProblem {
  readonly kind: 'image' | 'annotation';
  /** Position in its array (0-based). */
  readonly index: number;
  /** The entry's own `id`, when it has one. */
  readonly id: string | number | undefined;
  /** The field at fault, e.g. `annotations[3].segmentation`. */
  readonly field: string;
  readonly message: string;
  /** For an annotation whose image exists: that image's `file_name`. */
  readonly imageFile?: string;
}

/** What `readCoco` returns: the usable part of the file and the entries it left out. */
export interface CocoRead extends ParsedCoco {
  readonly problems: CocoProblem[];
}

function invalid(file: string, field: string, why: string): never {
  throw new DentsegError('E_COCO_INVALID', `${field}: ${why}`, {
    file,
    hint: 'validate the export (images, annotations and categories arrays as COCO defines them)',
  });
}

function isSegmentation(s: unknown): s is CocoSegmentation {
  if (Array.isArray(s))
    return s.every((p) => Array.isArray(p) && p.every((v) => typeof v === 'number'));
  if (typeof s !== 'object' || s === null) return false;
  const r = s as { size?: unknown; counts?: unknown };
  return (
    Array.isArray(r.size) &&
    r.size.length === 2 &&
    (typeof r.counts === 'string' ||
      (Array.isArray(r.counts) && r.counts.every((c) => typeof c === 'number')))
  );
}

/**
 * Why a well-typed segmentation cannot be painted on a `width`×`height` image, or
 * undefined. Polygons with fewer than 3 points cover no area and are skipped when painting;
 * an annotation made only of such polygons is refused, since it would paint nothing.
 */
function segmentationProblem(
  seg: CocoSegmentation,
  width: number,
  height: number,
): string | undefined {
  if (Array.isArray(seg)) {
    if (seg.length === 0) return 'no polygons';
    for (const [k, poly] of seg.entries()) {
      if (poly.length % 2 !== 0) return `polygon ${k} has an odd number of coordinates`;
      if (!poly.every(Number.isFinite)) return `polygon ${k} holds a non-finite coordinate`;
    }
    if (seg.every((p) => p.length < 6))
      return 'every polygon has fewer than 3 points (no area to fill)';
    return undefined;
  }
  const [h, w] = seg.size;
  if (h !== height || w !== width)
    return `RLE size [${String(h)}, ${String(w)}] is not the image's [height, width] [${height}, ${width}]`;
  const counts = typeof seg.counts === 'string' ? rleStringToCounts(seg.counts) : seg.counts;
  let sum = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) return `RLE counts hold an invalid run ${c}`;
    sum += c;
  }
  if (sum !== width * height)
    return `RLE runs add up to ${sum} pixels, the image has ${width * height}`;
  return undefined;
}

function idOf(e: Record<string, unknown>): string | number | undefined {
  return typeof e.id === 'string' || typeof e.id === 'number' ? e.id : undefined;
}

/**
 * Validate parsed COCO JSON from `file` (named in errors), keeping every usable entry:
 * images and annotations that are malformed or refer to what does not exist are left out
 * and listed in `problems`; annotations of a left-out image go with it. Throws
 * E_COCO_INVALID only when the file as a whole is unusable (no images, annotations or
 * categories array, a bad category).
 */
export function readCoco(json: unknown, file: string): CocoRead {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    invalid(file, '(root)', 'not an object');
  const root = json as Record<string, unknown>;
  const { images, annotations, categories } = root;
  if (!Array.isArray(images)) invalid(file, 'images', 'missing or not an array');
  if (!Array.isArray(annotations)) invalid(file, 'annotations', 'missing or not an array');
  if (!Array.isArray(categories)) invalid(file, 'categories', 'missing or not an array');

  const used = new Set<unknown>();
  for (const a of annotations as Record<string, unknown>[]) used.add(a?.category_id);
  const catIndex = new Map<unknown, number>();
  const names: string[] = [];
  categories.forEach((c: unknown, i: number) => {
    const cat = c as Record<string, unknown>;
    if (
      typeof cat !== 'object' ||
      cat === null ||
      cat.id === undefined ||
      typeof cat.name !== 'string'
    )
      invalid(file, `categories[${i}]`, 'needs an id and a name');
    if (catIndex.has(cat.id))
      invalid(file, `categories[${i}].id`, `duplicate id ${String(cat.id)}`);
    if (cat.supercategory === 'none' && !used.has(cat.id)) return;
    names.push(cat.name);
    catIndex.set(cat.id, names.length);
  });
  if (names.length > 255)
    invalid(file, 'categories', `${names.length} classes; at most 255 fit a mask`);

  const problems: CocoProblem[] = [];
  const byId = new Map<unknown, CocoImageEntry>();
  const leftOut = new Set<unknown>();
  const out: CocoImageEntry[] = [];
  images.forEach((im: unknown, i: number) => {
    const e = (typeof im === 'object' && im !== null ? im : {}) as Record<string, unknown>;
    const bad = (field: string, message: string): void => {
      problems.push({ kind: 'image', index: i, id: idOf(e), field, message });
      leftOut.add(e.id);
    };
    const w = e.width;
    const h = e.height;
    if (typeof im !== 'object' || im === null) bad(`images[${i}]`, 'not an object');
    else if (byId.has(e.id) || leftOut.has(e.id))
      bad(`images[${i}].id`, `duplicate id ${String(e.id)}`);
    else if (typeof e.file_name !== 'string' || e.file_name === '')
      bad(`images[${i}].file_name`, 'missing');
    else if (typeof w !== 'number' || typeof h !== 'number' || !(w > 0) || !(h > 0))
      bad(`images[${i}].width/height`, 'must be positive numbers');
    else {
      const entry: CocoImageEntry = { fileName: e.file_name, width: w, height: h, shapes: [] };
      byId.set(e.id, entry);
      out.push(entry);
    }
  });
  annotations.forEach((an: unknown, i: number) => {
    const a = (typeof an === 'object' && an !== null ? an : {}) as Record<string, unknown>;
    const entry = typeof an === 'object' && an !== null ? byId.get(a.image_id) : undefined;
    const bad = (field: string, message: string): void => {
      problems.push({
        kind: 'annotation',
        index: i,
        id: idOf(a),
        field,
        message,
        ...(entry ? { imageFile: entry.fileName } : {}),
      });
    };
    if (typeof an !== 'object' || an === null) return bad(`annotations[${i}]`, 'not an object');
    if (!entry) {
      // Its image is already reported; one line per cause is enough.
      if (leftOut.has(a.image_id)) return;
      return bad(`annotations[${i}].image_id`, `no image with id ${String(a.image_id)}`);
    }
    const cls = catIndex.get(a.category_id);
    if (cls === undefined)
      return bad(`annotations[${i}].category_id`, `no category with id ${String(a.category_id)}`);
    if (!isSegmentation(a.segmentation))
      return bad(
        `annotations[${i}].segmentation`,
        'must be polygons [[x,y,…]] or RLE {size, counts}',
      );
    const why = segmentationProblem(a.segmentation, entry.width, entry.height);
    if (why !== undefined) return bad(`annotations[${i}].segmentation`, why);
    entry.shapes.push({ cls, segmentation: a.segmentation });
  });
  return { categories: names, images: out, problems };
}

/** Validate parsed COCO JSON from `file`; the first bad entry refuses the file (E_COCO_INVALID). */
export function parseCoco(json: unknown, file: string): ParsedCoco {
  const { categories, images, problems } = readCoco(json, file);
  const first = problems[0];
  if (first) invalid(file, first.field, first.message);
  return { categories, images };
}
