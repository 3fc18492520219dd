/**
 * COCO JSON as Roboflow / Kaggle export it: parse, validate (errors name the field) and
 * turn into per-image sample shapes. Category rule: a category with supercategory "none"
 * that no annotation uses is the data set's own name (Roboflow's category 0), not a class.
 */
import { DentsegError } from '../errors.js';
import type { CocoSegmentation } from './rasterise.js';

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

/** Validate parsed COCO JSON from `file` (named in errors). */
export function parseCoco(json: unknown, file: string): ParsedCoco {
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

  const byId = new Map<unknown, CocoImageEntry>();
  const out: CocoImageEntry[] = [];
  images.forEach((im: unknown, i: number) => {
    const e = im as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) invalid(file, `images[${i}]`, 'not an object');
    if (typeof e.file_name !== 'string') invalid(file, `images[${i}].file_name`, 'missing');
    const w = e.width;
    const h = e.height;
    if (typeof w !== 'number' || typeof h !== 'number' || !(w > 0) || !(h > 0))
      invalid(file, `images[${i}].width/height`, 'must be positive numbers');
    if (byId.has(e.id)) invalid(file, `images[${i}].id`, `duplicate id ${String(e.id)}`);
    const entry: CocoImageEntry = { fileName: e.file_name, width: w, height: h, shapes: [] };
    byId.set(e.id, entry);
    out.push(entry);
  });
  annotations.forEach((an: unknown, i: number) => {
    const a = an as Record<string, unknown>;
    if (typeof a !== 'object' || a === null) invalid(file, `annotations[${i}]`, 'not an object');
    const entry = byId.get(a.image_id);
    if (!entry)
      invalid(file, `annotations[${i}].image_id`, `no image with id ${String(a.image_id)}`);
    const cls = catIndex.get(a.category_id);
    if (cls === undefined)
      invalid(
        file,
        `annotations[${i}].category_id`,
        `no category with id ${String(a.category_id)}`,
      );
    if (!isSegmentation(a.segmentation))
      invalid(
        file,
        `annotations[${i}].segmentation`,
        'must be polygons [[x,y,…]] or RLE {size, counts}',
      );
    entry.shapes.push({ cls, segmentation: a.segmentation });
  });
  return { categories: names, images: out };
}
