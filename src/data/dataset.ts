/**
 * Data sets in either layout (COCO JSON + image folder, or image and mask folders with a
 * name pattern), split into train/val by a CSV, a second source or a seeded fraction.
 * Opening only lists files; `loadSample` decodes. Sample refs are plain JSON so they can
 * be posted to loader workers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DentsegError } from '../errors.js';
import { classesFromJson, DEFAULT_BINARY_CLASS, flipClassMapFor } from './classes.js';
import { parseCoco, type CocoShape } from './coco.js';
import { decodeImage } from '../imaging/decode.node.js';
import { fillSegmentation } from './rasterise.js';
import type { GreyImage } from '../imaging/types.js';
import { Rng } from '../rng.js';

/** Where a data set lives and how to split it (the flags of `dentseg data check`). */
export interface DatasetOptions {
  /** COCO JSON file (Roboflow/Kaggle layout); `file_name`s are relative to `images`. */
  readonly coco?: string | undefined;
  /** Image folder (both layouts; for COCO defaults to the JSON's folder). */
  readonly images?: string | undefined;
  /** Mask folder (folder layout). */
  readonly masks?: string | undefined;
  /**
   * Mask file name from the image's file name (default `{stem}.png`): `{stem}` (or its
   * older spelling `{name}`) is the name without extension, `{file}` the name with it.
   */
  readonly maskPattern?: string | undefined;
  /** CSV with a name column (stem/name/file_name/image) and a `split` column (train/val). */
  readonly split?: string | undefined;
  /** Second source used as validation: a COCO JSON, or a folder with images/ and masks/. */
  readonly val?: string | undefined;
  /** Without split/val: fraction of samples held out for validation (default 0.1). */
  readonly valFraction?: number | undefined;
  /** Seed for the valFraction split (default 42). */
  readonly seed?: number | undefined;
  /** Class names: a JSON file, or a comma list starting with the background. */
  readonly classes?: string | readonly string[] | undefined;
  /** Masks hold class indices (folder layout) / keep COCO categories apart. */
  readonly multiclass?: boolean | undefined;
}

/** One sample, JSON-serialisable (posted to workers). */
export type SampleRef =
  | {
      readonly id: string;
      readonly image: string;
      readonly kind: 'mask';
      readonly mask: string;
      readonly multiclass: boolean;
    }
  | {
      readonly id: string;
      readonly image: string;
      readonly kind: 'coco';
      readonly width: number;
      readonly height: number;
      readonly shapes: readonly CocoShape[];
      readonly multiclass: boolean;
    };

/** A problem found while listing a data set (the file is left out of train/val). */
export interface DatasetProblem {
  readonly code: 'E_MASK_MISMATCH' | 'E_FILE_NOT_FOUND' | 'E_IMAGE_FORMAT' | 'E_USAGE';
  readonly file: string;
  readonly message: string;
  /** The sample id (image stem) the file would have had. */
  readonly id?: string;
  /**
   * The part of the split the file would have been in (`train`, `val`, or another part
   * the split CSV names, e.g. `test`), when known: from `--split` or `--val`; unknown
   * with `--val-fraction` (the shuffle only sees usable samples) or when not in the CSV.
   */
  readonly part?: string;
}

export interface Dataset {
  readonly task: 'binary' | 'multiclass';
  /** Name of each mask value; index 0 is background. */
  readonly classes: string[];
  readonly train: SampleRef[];
  readonly val: SampleRef[];
  /** Class each index becomes under a horizontal flip (FDI left/right), when any changes. */
  readonly flipClassMap?: number[];
  /** Class each index becomes under a vertical flip (FDI upper/lower jaw), when any changes. */
  readonly vflipClassMap?: number[];
  /** Files left out while listing (missing masks, unreadable names, …). */
  readonly problems: DatasetProblem[];
  /**
   * What was left out on purpose but should still be said, one line each: split-CSV rows
   * marked other than train/val (e.g. `test`), with their count.
   */
  readonly warnings: string[];
}

const IMAGE_EXT = /\.(jpe?g|png|tiff?|bmp)$/i;

const stemOf = (file: string): string => path.basename(file).replace(/\.[^.]*$/, '');

/** The placeholders a mask pattern may use (at least one of them). */
const PATTERN_FIELDS = /\{(stem|name|file)\}/;

/**
 * The mask file name for image file `imageFile` under `pattern`: `{stem}` and `{name}`
 * become the name without extension (`X.jpg` → `X`), `{file}` the name with it (`X.jpg`),
 * so `'{file}_mask.png'` gives Roboflow/Kaggle's `X.jpg_mask.png`.
 */
export function maskFileName(pattern: string, imageFile: string): string {
  const file = path.basename(imageFile);
  const stem = stemOf(file);
  return pattern.replace(new RegExp(PATTERN_FIELDS.source, 'g'), (_, key: string) =>
    key === 'file' ? file : stem,
  );
}

function usage(message: string, hint?: string): never {
  throw new DentsegError('E_USAGE', message, hint !== undefined ? { hint } : {});
}

function mustExist(p: string, flag: string, dir: boolean): string {
  const abs = path.resolve(p);
  let ok = false;
  try {
    ok = statSync(abs).isDirectory() === dir;
  } catch {
    throw new DentsegError('E_FILE_NOT_FOUND', `${flag}: no such ${dir ? 'folder' : 'file'}`, {
      file: p,
    });
  }
  if (!ok) usage(`${flag} ${p}: expected a ${dir ? 'folder' : 'file'}`);
  return abs;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DentsegError('E_COCO_INVALID', `not valid JSON: ${(err as Error).message}`, { file });
  }
}

/** The split CSV as stem → 'train' | 'val' | other. */
export function readSplit(file: string): Map<string, string> {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const splitCol = header.indexOf('split');
  const nameCol = ['stem', 'name', 'file_name', 'filename', 'image', 'file', 'id']
    .map((n) => header.indexOf(n))
    .find((i) => i >= 0);
  if (splitCol < 0 || nameCol === undefined)
    usage(
      `--split ${file}: needs a header with a "split" column and a name column (stem, name, file_name or image)`,
    );
  const map = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',').map((c) => c.trim());
    const name = cells[nameCol];
    const split = (cells[splitCol] ?? '').toLowerCase();
    if (name) map.set(stemOf(name), split === 'valid' || split === 'validation' ? 'val' : split);
  }
  return map;
}

/** Rows of a split marked neither train nor val: how many, and `test (40), … ` by part. */
function otherParts(split: ReadonlyMap<string, string>): { total: number; parts: string } {
  const byPart = new Map<string, number>();
  for (const part of split.values())
    if (part !== 'train' && part !== 'val') byPart.set(part, (byPart.get(part) ?? 0) + 1);
  const parts = [...byPart]
    .sort((a, b) => b[1] - a[1])
    .map(([part, n]) => `${part === '' ? '(empty)' : `"${part}"`} (${n})`)
    .join(', ');
  return { total: [...byPart.values()].reduce((a, b) => a + b, 0), parts };
}

function resolveClasses(opts: DatasetOptions, fallbackDirs: string[]): string[] | undefined {
  const c = opts.classes;
  if (Array.isArray(c)) return [...c];
  if (typeof c === 'string') {
    if (/\.json$/i.test(c)) {
      const file = mustExist(c, '--classes', false);
      const names = classesFromJson(readJson(file));
      if (!names)
        usage(`--classes ${c}: expected a JSON array of names or an object {name: index}`);
      return names;
    }
    return c
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (!opts.multiclass) return undefined;
  for (const dir of fallbackDirs) {
    if (!existsSync(dir)) continue;
    const found = readdirSync(dir).filter((f) => /^classes.*\.json$/i.test(f));
    if (found.length === 1) return classesFromJson(readJson(path.join(dir, found[0]!)));
  }
  return undefined;
}

interface Listed {
  refs: SampleRef[];
  problems: DatasetProblem[];
  categories?: string[];
}

function listCoco(file: string, imagesDir: string | undefined, multiclass: boolean): Listed {
  const abs = mustExist(file, '--coco', false);
  const parsed = parseCoco(readJson(abs), file);
  const dir = imagesDir ?? path.dirname(abs);
  const refs: SampleRef[] = [];
  const problems: DatasetProblem[] = [];
  for (const im of parsed.images) {
    const image = path.resolve(dir, im.fileName);
    if (!existsSync(image)) {
      problems.push({
        code: 'E_FILE_NOT_FOUND',
        file: image,
        message: `image listed in ${file} is missing`,
        id: stemOf(im.fileName),
      });
      continue;
    }
    refs.push({
      id: stemOf(im.fileName),
      image,
      kind: 'coco',
      width: im.width,
      height: im.height,
      shapes: im.shapes,
      multiclass,
    });
  }
  return { refs, problems, categories: parsed.categories };
}

function listFolders(
  imagesDir: string,
  masksDir: string,
  pattern: string,
  multiclass: boolean,
): Listed {
  const refs: SampleRef[] = [];
  const problems: DatasetProblem[] = [];
  for (const f of readdirSync(imagesDir).sort()) {
    const image = path.join(imagesDir, f);
    if (f.startsWith('.') || !statSync(image).isFile()) continue;
    if (!IMAGE_EXT.test(f)) continue;
    const id = stemOf(f);
    const mask = path.join(masksDir, maskFileName(pattern, f));
    if (!existsSync(mask)) {
      problems.push({
        code: 'E_MASK_MISMATCH',
        file: image,
        message: `no mask (expected ${mask})`,
        id,
      });
      continue;
    }
    refs.push({ id, image, kind: 'mask', mask, multiclass });
  }
  return { refs, problems };
}

/**
 * List a data set from options. Throws for unusable options (E_USAGE, E_FILE_NOT_FOUND,
 * E_COCO_INVALID); per-file problems (missing mask, missing image) are returned in
 * `problems` and those files are left out. Pixels are not read here.
 */
export async function openDataset(opts: DatasetOptions): Promise<Dataset> {
  const multiclass = opts.multiclass === true;
  const pattern = opts.maskPattern ?? '{stem}.png';
  if (!PATTERN_FIELDS.test(pattern))
    usage(
      `--mask-pattern "${pattern}" must contain {stem} (or {name}: the image name without extension) or {file} (with it)`,
      "e.g. --mask-pattern '{stem}.png' for X.jpg ↔ X.png, '{file}_mask.png' for X.jpg ↔ X.jpg_mask.png",
    );
  const imagesDir =
    opts.images !== undefined ? mustExist(opts.images, '--images', true) : undefined;
  let main: Listed;
  let val: Listed | undefined;
  if (opts.coco !== undefined) {
    main = listCoco(opts.coco, imagesDir, multiclass);
    if (opts.val !== undefined) val = listCoco(opts.val, imagesDir, multiclass);
  } else {
    if (imagesDir === undefined || opts.masks === undefined)
      usage(
        'give --coco FILE, or --images DIR with --masks DIR',
        "e.g. --images data/images --masks data/masks --mask-pattern '{stem}.png'",
      );
    const masksDir = mustExist(opts.masks, '--masks', true);
    main = listFolders(imagesDir, masksDir, pattern, multiclass);
    if (opts.val !== undefined) {
      const v = mustExist(opts.val, '--val', true);
      val = listFolders(
        mustExist(path.join(v, 'images'), '--val (images/)', true),
        mustExist(
          path.join(v, path.basename(masksDir)),
          `--val (${path.basename(masksDir)}/)`,
          true,
        ),
        pattern,
        multiclass,
      );
    }
  }
  let problems = [...main.problems, ...(val?.problems ?? [])];
  const warnings: string[] = [];
  let train: SampleRef[];
  let valRefs: SampleRef[];
  if (opts.split !== undefined) {
    const split = readSplit(mustExist(opts.split, '--split', false));
    const all = [...main.refs, ...(val?.refs ?? [])];
    train = [];
    valRefs = [];
    for (const r of all) {
      const s = split.get(r.id);
      if (s === 'train') train.push(r);
      else if (s === 'val') valRefs.push(r);
      else if (s === undefined)
        problems.push({
          code: 'E_USAGE',
          file: r.image,
          message: `not listed in ${opts.split}`,
          id: r.id,
        });
    }
    problems = problems.map((p) => {
      const part = p.id !== undefined ? split.get(p.id) : undefined;
      return part !== undefined ? { ...p, part } : p;
    });
    const skipped = otherParts(split);
    if (skipped.total > 0)
      warnings.push(
        `--split ${opts.split}: ${skipped.total} row${skipped.total === 1 ? '' : 's'} left out, ` +
          `marked ${skipped.parts}; only train and val are used`,
      );
  } else if (val) {
    train = main.refs;
    valRefs = val.refs;
    problems = [
      ...main.problems.map((p) => ({ ...p, part: 'train' })),
      ...val.problems.map((p) => ({ ...p, part: 'val' })),
    ];
  } else {
    const frac = opts.valFraction ?? 0.1;
    if (!(frac >= 0 && frac < 1)) usage(`--val-fraction must be in [0, 1), got ${frac}`);
    const order = Rng.seeded(opts.seed ?? 42).shuffle(main.refs.map((_, i) => i));
    const nVal = Math.round(main.refs.length * frac);
    const valSet = new Set(order.slice(0, nVal));
    train = main.refs.filter((_, i) => !valSet.has(i));
    valRefs = main.refs.filter((_, i) => valSet.has(i));
  }

  const fallbackDirs =
    opts.masks !== undefined
      ? [path.resolve(opts.masks), path.dirname(path.resolve(opts.masks))]
      : [];
  let classes = resolveClasses(opts, fallbackDirs);
  if (opts.coco !== undefined && multiclass && classes === undefined)
    classes = ['background', ...(main.categories ?? [])];
  if (multiclass && classes === undefined)
    usage(
      '--multiclass with mask folders needs --classes (a JSON file or a comma list starting with background)',
    );
  if (!multiclass)
    classes =
      classes && classes.length === 2
        ? classes
        : ['background', classes?.[classes.length - 1] ?? DEFAULT_BINARY_CLASS];
  const names = classes!;
  const flip = multiclass ? flipClassMapFor(names, 'horizontal') : undefined;
  const vflip = multiclass ? flipClassMapFor(names, 'vertical') : undefined;
  return {
    task: multiclass ? 'multiclass' : 'binary',
    classes: names,
    train,
    val: valRefs,
    ...(flip ? { flipClassMap: flip } : {}),
    ...(vflip ? { vflipClassMap: vflip } : {}),
    problems,
    warnings,
  };
}

/** A binary mask's raw values as 0/1: {0,1} kept, otherwise ≥ 128 is foreground. */
export function binariseMask(values: Uint8Array | Uint16Array, bitDepth: 8 | 16): Uint8Array {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  const out = new Uint8Array(values.length);
  const cut = max <= 1 ? 1 : bitDepth === 16 ? 32768 : 128;
  for (let i = 0; i < values.length; i++) out[i] = values[i]! >= cut ? 1 : 0;
  return out;
}

/**
 * Decode a sample: the grey image and its mask at the image's size (binary: 0/1;
 * multiclass: class index). COCO shapes are rasterised in annotation order, so where
 * two overlap the later annotation wins. Throws E_MASK_MISMATCH when sizes differ.
 */
export async function loadSample(ref: SampleRef): Promise<{ image: GreyImage; mask: Uint8Array }> {
  const image = await decodeImage(ref.image);
  if (ref.kind === 'coco') {
    if (image.width !== ref.width || image.height !== ref.height) {
      throw new DentsegError(
        'E_MASK_MISMATCH',
        `image is ${image.width}×${image.height} but COCO says ${ref.width}×${ref.height}`,
        { file: ref.image },
      );
    }
    const mask = new Uint8Array(image.width * image.height);
    for (const s of ref.shapes)
      fillSegmentation(mask, image.width, image.height, s.segmentation, ref.multiclass ? s.cls : 1);
    return { image, mask };
  }
  const m = await decodeImage(ref.mask);
  if (m.width !== image.width || m.height !== image.height) {
    throw new DentsegError(
      'E_MASK_MISMATCH',
      `mask is ${m.width}×${m.height}, image is ${image.width}×${image.height}`,
      {
        file: ref.mask,
        hint: "re-create the mask at the image's size",
      },
    );
  }
  return { image, mask: maskValues(m, ref.multiclass ? 'multiclass' : 'binary') };
}

/** A decoded mask file as mask values: binary 0/1 (see `binariseMask`) or class indices. */
export function maskValues(m: GreyImage, task: 'binary' | 'multiclass'): Uint8Array {
  if (task === 'binary') return binariseMask(m.data, m.bitDepth);
  return m.data instanceof Uint8Array ? m.data : Uint8Array.from(m.data, (v) => Math.min(v, 255));
}
