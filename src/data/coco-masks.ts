/**
 * `dentseg data masks`: rasterise a COCO export to one PNG mask per image, so a COCO data
 * set can be used (and looked at) as a mask folder. Bad entries are named, the rest written.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DentsegError, isDentsegError } from '../errors.js';
import { readCoco, type CocoProblem } from './coco.js';
import { decodeImage } from '../imaging/decode.node.js';
import { fillSegmentation } from './rasterise.js';

/** What `writeCocoMasks` needs. */
export interface CocoMasksOptions {
  /** COCO JSON file. */
  readonly coco: string;
  /** Folder the `file_name`s are relative to (default: the JSON's folder). */
  readonly images?: string | undefined;
  /** Output folder (created when missing). */
  readonly out: string;
  /** Class index per pixel (1…K in category order) instead of binary 0/255. */
  readonly multiclass?: boolean | undefined;
  /** Called after each image, written or not. */
  readonly onImage?: (done: number, total: number) => void;
}

/** A bad entry or image, named by file (and annotation id). */
export interface CocoMasksIssue {
  readonly code: string;
  readonly file: string;
  readonly message: string;
}

/** What `writeCocoMasks` did. */
export interface CocoMasksReport {
  /** Mask files written, in the JSON's image order. */
  readonly written: string[];
  /** Mask value → class name (background first); binary: `['background', 'foreground']`. */
  readonly classes: string[];
  /** `classes.json` beside the masks (multi-class only). */
  readonly classesFile: string | undefined;
  /** Everything left out; empty when all went well. */
  readonly issues: CocoMasksIssue[];
}

/** Name of the class list written beside multi-class masks (found by `--multiclass`). */
export const CLASSES_FILE = 'classes.json';

const stemOf = (file: string): string => path.basename(file).replace(/\.[^.]*$/, '');

/** Write `data` to `file` through a temporary file in the same folder, so no half file is seen. */
async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function describe(p: CocoProblem): string {
  const who =
    p.kind === 'annotation'
      ? `annotation ${p.id !== undefined ? `id ${String(p.id)}` : '(no id)'}`
      : `image ${p.id !== undefined ? `id ${String(p.id)}` : '(no id)'}`;
  const effect =
    p.kind === 'image'
      ? '; no mask written'
      : p.imageFile !== undefined
        ? `; mask of ${p.imageFile} written without it`
        : '';
  return `${who} (${p.field}): ${p.message}${effect}`;
}

/**
 * Rasterise every image of a COCO file to `out/{stem}.png` at the image's size: binary
 * 0/255, or class indices with `multiclass` (then `out/classes.json` lists the names,
 * background first). Overlaps: the later annotation wins, as in training. Each image is
 * decoded to check its size against the JSON. Bad entries, missing or mismatched images
 * and clashing stems are returned in `issues` (the rest is written); only an unreadable
 * or unusable JSON throws.
 */
export async function writeCocoMasks(opts: CocoMasksOptions): Promise<CocoMasksReport> {
  const json = path.resolve(opts.coco);
  if (!existsSync(json) || !statSync(json).isFile())
    throw new DentsegError('E_FILE_NOT_FOUND', '--coco: no such file', { file: opts.coco });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(json, 'utf8'));
  } catch (err) {
    throw new DentsegError('E_COCO_INVALID', `not valid JSON: ${(err as Error).message}`, {
      file: opts.coco,
    });
  }
  const coco = readCoco(raw, opts.coco);
  const dir = opts.images !== undefined ? path.resolve(opts.images) : path.dirname(json);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new DentsegError('E_FILE_NOT_FOUND', '--images: no such folder', {
      file: opts.images ?? dir,
    });
  const multiclass = opts.multiclass === true;
  const issues: CocoMasksIssue[] = coco.problems.map((p) => ({
    code: 'E_COCO_INVALID',
    file: opts.coco,
    message: describe(p),
  }));
  await mkdir(opts.out, { recursive: true });
  const written: string[] = [];
  const stems = new Map<string, string>();
  let done = 0;
  for (const im of coco.images) {
    const image = path.resolve(dir, im.fileName);
    const stem = stemOf(im.fileName);
    const clash = stems.get(stem);
    try {
      if (clash !== undefined)
        throw new DentsegError(
          'E_COCO_INVALID',
          `${im.fileName} and ${clash} both give ${stem}.png; only the first is written`,
          { file: opts.coco },
        );
      stems.set(stem, im.fileName);
      const file = path.resolve(opts.out, `${stem}.png`);
      // A PNG X-ray in the output folder has its mask's name: never write over the image.
      if (file === image)
        throw new DentsegError(
          'E_USAGE',
          `the mask ${stem}.png would overwrite the image itself; give --out another folder`,
          { file: image },
        );
      if (!existsSync(image))
        throw new DentsegError('E_FILE_NOT_FOUND', `image listed in ${opts.coco} is missing`, {
          file: image,
        });
      const { width, height } = await decodeImage(image);
      if (width !== im.width || height !== im.height)
        throw new DentsegError(
          'E_MASK_MISMATCH',
          `image is ${width}×${height} but ${opts.coco} says ${im.width}×${im.height}; no mask written`,
          { file: image },
        );
      const mask = new Uint8Array(width * height);
      for (const s of im.shapes)
        fillSegmentation(mask, width, height, s.segmentation, multiclass ? s.cls : 255);
      const png = await sharp(mask, { raw: { width, height, channels: 1 } })
        .png()
        .toBuffer();
      await writeAtomic(file, png);
      written.push(file);
    } catch (err) {
      if (!isDentsegError(err)) throw err;
      const file = err.file ?? image;
      const message = err.message.startsWith(`${file}: `)
        ? err.message.slice(file.length + 2)
        : err.message;
      issues.push({ code: err.code, file, message });
    }
    opts.onImage?.(++done, coco.images.length);
  }
  const classes = ['background', ...(multiclass ? coco.categories : ['foreground'])];
  let classesFile: string | undefined;
  if (multiclass) {
    classesFile = path.join(opts.out, CLASSES_FILE);
    await writeAtomic(classesFile, JSON.stringify(classes, null, 1) + '\n');
  }
  return { written, classes, classesFile, issues };
}
