/**
 * Stored analyses back into training data (`dentseg data export`): the dentist's
 * corrections applied, written in the layouts `dentseg train` reads: `images/`,
 * `masks_teeth/` (the teeth mask), `masks_caries/` (0/255), `coco.json` and `classes.json`.
 * The store is read, never written: an export may run beside a live server.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { fillPolygons } from '../data/rasterise.js';
import { DentsegError } from '../errors.js';
import { FDI_NUMBERS, numberingScheme } from '../numbering/index.js';
import { recordOf, type StoredRow } from './store-api.js';
import { labelComponents, type Components } from '../imaging/components.js';
import {
  lesionMaskFile,
  numbersTeeth,
  type AnalysisFileName,
  type AnalysisRecord,
  type FindingJson,
} from './types.js';

/** What to export. */
export interface ExportOptions {
  /** The server's `--data-dir` (SQLite database and `analyses/`). */
  readonly dataDir: string;
  /** Output folder (created; files in it are replaced). */
  readonly out: string;
  /** Only analyses marked reviewed. */
  readonly reviewedOnly?: boolean;
  /** Only analyses created on or after this day (UTC), `YYYY-MM-DD`. */
  readonly since?: string;
  /** A PostgreSQL store (`postgres://…`) instead of SQLite; images still from `dataDir`. */
  readonly db?: string;
}

/** What an export wrote. */
export interface ExportReport {
  /** Analysis ids exported, oldest first (each is the file stem in every folder). */
  readonly ids: string[];
  /** `fdi` (class index per FDI number), `binary` (0/255) or `none` (no teeth model). */
  readonly teethMasks: 'fdi' | 'binary' | 'none';
  /** Names of classes.json (background first). */
  readonly classes: string[];
  /** Findings and teeth written as COCO annotations; rejected findings listed apart. */
  readonly annotations: number;
  readonly rejected: number;
  /** Analyses with a mask the dentist corrected (teeth or caries), exported as corrected. */
  readonly corrected: number;
  /** Things left out, one line each. */
  readonly warnings: string[];
}

/** Review states whose findings count as the dentist's positive diagnosis. */
const CONFIRMED = new Set(['accepted', 'edited', 'added']);

/** Class names of an FDI teeth export: background, then `tooth 11` … `tooth 48`. */
export const FDI_EXPORT_CLASSES: readonly string[] = [
  'background',
  ...FDI_NUMBERS.map((f) => `tooth ${f}`),
];

interface Source {
  records(): Promise<AnalysisRecord[]>;
  close(): Promise<void>;
}

function sqliteSource(dataDir: string): Source {
  const file = path.join(dataDir, 'dentseg.sqlite');
  if (!existsSync(file)) {
    throw new DentsegError('E_DATA_DIR_INVALID', `${dataDir} holds no dentseg store`, {
      file: dataDir,
      hint: 'pass the --data-dir the server ran with (it holds dentseg.sqlite and analyses/); for PostgreSQL add --db URL',
    });
  }
  // Read-only: no start-up cleaning, nothing a running server is writing is touched.
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return {
    records: async () =>
      (db.prepare('SELECT record, user FROM analyses ORDER BY seq').all() as StoredRow[]).map(
        recordOf,
      ),
    close: async () => {
      db.close();
    },
  };
}

async function pgSource(url: string, dataDir: string): Promise<Source> {
  const { PgStore } = await import('./store-pg.js');
  const store = await PgStore.open(url, dataDir);
  return {
    records: async () => {
      const all: AnalysisRecord[] = [];
      for (let offset = 0; ; offset += 100) {
        const page = await store.list(100, offset);
        all.push(...page.items);
        if (page.items.length < 100) break;
      }
      return all.reverse(); // oldest first, as from SQLite
    },
    close: () => store.close(),
  };
}

async function readStored(dataDir: string, id: string, name: AnalysisFileName): Promise<Buffer> {
  return readFile(path.join(dataDir, 'analyses', id, name));
}

async function maskPixels(png: Buffer): Promise<Uint8Array> {
  const raw = await sharp(png).extractChannel(0).raw().toBuffer();
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

const grey = (data: Uint8Array, width: number, height: number): Promise<Buffer> =>
  sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();

/**
 * The teeth mask of a numbering model's analysis in FDI export classes: the corrected mask
 * as the dentist painted it, else the model's mask with the renumbering applied (a tooth
 * renumbered 11 → 12 is class `tooth 12`; teeth marked missing become background).
 */
function fdiMask(record: AnalysisRecord, pixels: Uint8Array, corrected: boolean): Uint8Array {
  const scheme = numberingScheme(record.classes);
  const lut = new Uint8Array(256);
  for (let c = 1; c < record.classes.length; c++) {
    const fdi = scheme?.fdiOfClass[c];
    if (fdi === undefined) continue;
    if (!corrected && record.missing.includes(fdi)) continue; // background
    lut[c] = FDI_NUMBERS.indexOf(fdi) + 1;
  }
  if (!corrected && scheme) {
    for (const t of record.teeth) {
      const from = scheme.classOfFdi.get(t.original?.fdi ?? t.fdi);
      if (from !== undefined) lut[from] = FDI_NUMBERS.indexOf(t.fdi) + 1;
    }
  }
  return pixels.map((v) => lut[v] ?? 0);
}

/** Flat COCO polygon of `[x, y]` points. */
const flat = (poly: readonly (readonly [number, number])[]): number[] => poly.flat();

/**
 * A finding's pixels, `width*height` 0/1: its outline filled, and for a finding of the
 * model's (`regions`: its lesion mask labelled) the whole region that most of the outline
 * covers. The stored outline is simplified through pixel centres, so alone it would lose
 * the region's edge pixels (a 6×6 lesion would become 5×5).
 */
function findingPixels(
  f: FindingJson,
  width: number,
  height: number,
  regions: Components | undefined,
): Uint8Array {
  const m = new Uint8Array(width * height);
  if (f.polygon.length >= 3) fillPolygons(m, width, height, [flat(f.polygon)], 1);
  if (!regions) return m;
  const votes = new Map<number, number>();
  for (let i = 0; i < m.length; i++) {
    const label = m[i] ? (regions.labels[i] as number) : 0;
    if (label > 0) votes.set(label, (votes.get(label) ?? 0) + 1);
  }
  let region = 0;
  let most = 0;
  for (const [label, n] of votes) if (n > most) [region, most] = [label, n];
  if (region > 0) for (let i = 0; i < m.length; i++) if (regions.labels[i] === region) m[i] = 1;
  return m;
}

/**
 * One analysis' lesion mask of `type` for training, 0/255. When the dentist stored a
 * corrected mask of the set's model of that type (`<type>.corrected.png`), it wins over the
 * findings: taken as painted, then findings the dentist drew (`added`) are filled in and
 * those rejected are erased (a verdict on a region stands even where the painting kept
 * it). Otherwise the `accepted`, `edited` and `added` findings; suggested and rejected
 * ones are left out.
 */
async function lesionMask(
  dataDir: string,
  record: AnalysisRecord,
  type: string,
): Promise<{ pixels: Uint8Array; corrected: boolean }> {
  const { width, height } = record.image;
  const ofType = record.findings.filter((f) => f.type === type);
  const model = record.models?.find((m) => m.role === 'lesion' && m.type === type);
  // The model's own regions, for the findings it found (absent before model sets).
  const own = model
    ? await readStored(dataDir, record.id, lesionMaskFile(type)).catch(() => undefined)
    : undefined;
  const regions = own
    ? labelComponents(
        (await maskPixels(own)).map((v) => (v ? 1 : 0)),
        width,
        height,
      )
    : undefined;
  const pixelsOf = (f: FindingJson): Uint8Array =>
    findingPixels(f, width, height, f.model === model?.name ? regions : undefined);
  const isCorrected = model !== undefined && record.corrections.masks.includes(model.name);
  const pixels = isCorrected
    ? (await maskPixels(await readStored(dataDir, record.id, lesionMaskFile(type, true)))).map(
        (v) => (v ? 255 : 0),
      )
    : new Uint8Array(width * height);
  for (const f of ofType) {
    const paint = isCorrected ? f.review === 'added' : CONFIRMED.has(f.review);
    const erase = isCorrected && f.review === 'rejected';
    if (!paint && !erase) continue;
    const m = pixelsOf(f);
    for (let i = 0; i < m.length; i++) if (m[i]) pixels[i] = paint ? 255 : 0;
  }
  return { pixels, corrected: isCorrected };
}

/** Export the stored analyses (see the module comment). */
export async function exportDataset(options: ExportOptions): Promise<ExportReport> {
  const dataDir = path.resolve(options.dataDir);
  if (!existsSync(dataDir)) {
    throw new DentsegError('E_DATA_DIR_INVALID', 'the data dir does not exist', {
      file: options.dataDir,
      hint: 'pass the --data-dir the server ran with',
    });
  }
  let since: string | undefined;
  if (options.since !== undefined) {
    const day = /^\d{4}-\d{2}-\d{2}$/.test(options.since)
      ? Date.parse(`${options.since}T00:00:00Z`)
      : NaN;
    if (Number.isNaN(day)) {
      throw new DentsegError(
        'E_USAGE',
        `--since expects a date YYYY-MM-DD; received "${options.since}"`,
      );
    }
    since = new Date(day).toISOString();
  }
  const source =
    options.db === undefined ? sqliteSource(dataDir) : await pgSource(options.db, dataDir);
  let records: AnalysisRecord[];
  try {
    records = (await source.records()).filter(
      (r) =>
        (!options.reviewedOnly || r.reviewed !== null) &&
        (since === undefined || r.created >= since),
    );
  } finally {
    await source.close();
  }

  const warnings: string[] = [];
  // One kind of teeth mask per export (training reads one): FDI classes when any analysis
  // numbers teeth, else 0/255 from binary models whose target is not a finding type.
  const isTeethBinary = (r: AnalysisRecord): boolean =>
    r.model.task === 'binary' && r.classes[0] !== 'caries';
  const teethMasks = records.some(numbersTeeth)
    ? 'fdi'
    : records.some(isTeethBinary)
      ? 'binary'
      : 'none';
  const binaryName = records.find(isTeethBinary)?.classes[0] ?? 'teeth';
  const classes = teethMasks === 'fdi' ? [...FDI_EXPORT_CLASSES] : ['background', binaryName];

  const out = path.resolve(options.out);
  for (const dir of ['images', 'masks_teeth', 'masks_caries']) {
    await mkdir(path.join(out, dir), { recursive: true });
  }
  const categories = new Map<string, number>();
  const category = (name: string, supercategory: string): number => {
    let id = categories.get(name);
    if (id === undefined) {
      id = categories.size + 1;
      categories.set(name, id);
      categoryList.push({ id, name, supercategory });
    }
    return id;
  };
  const categoryList: { id: number; name: string; supercategory: string }[] = [];
  const images: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const rejected: Record<string, unknown>[] = [];
  const ids: string[] = [];
  let corrected = 0;

  for (const record of records) {
    const { id } = record;
    const { width, height } = record.image;
    let original: Buffer;
    try {
      original = await readStored(dataDir, id, 'original.png');
    } catch {
      warnings.push(`${id}: no original.png in the data dir; left out`);
      continue;
    }
    const stem = `${id}.png`;
    await writeFile(path.join(out, 'images', stem), original);

    const hasCorrected = record.corrections.masks.includes(record.model.name);
    const maskFile: AnalysisFileName = hasCorrected ? 'mask.corrected.png' : 'mask.png';
    if (hasCorrected) corrected += 1;
    const fits =
      (teethMasks === 'fdi' && numbersTeeth(record)) ||
      (teethMasks === 'binary' && isTeethBinary(record));
    if (fits) {
      const pixels = await maskPixels(await readStored(dataDir, id, maskFile));
      const teeth =
        teethMasks === 'fdi'
          ? fdiMask(record, pixels, hasCorrected)
          : pixels.map((v) => (v ? 255 : 0));
      await writeFile(path.join(out, 'masks_teeth', stem), await grey(teeth, width, height));
    } else if (teethMasks !== 'none') {
      warnings.push(`${id}: its model (${record.model.name}) gives no ${teethMasks} teeth mask`);
    }

    const lesion = await lesionMask(dataDir, record, 'caries');
    if (lesion.corrected && !hasCorrected) corrected += 1;
    await writeFile(path.join(out, 'masks_caries', stem), await grey(lesion.pixels, width, height));

    const imageId = images.length + 1;
    images.push({ id: imageId, file_name: stem, width, height, analysis: id });
    for (const f of record.findings) {
      const ann = {
        id: annotations.length + rejected.length + 1,
        image_id: imageId,
        category_id: category(f.type, 'finding'),
        segmentation: [flat(f.polygon)],
        bbox: f.bbox,
        area: f.areaPx,
        iscrowd: 0,
        attributes: {
          review: f.review,
          finding: f.id,
          tooth: f.tooth,
          ...(f.note ? { note: f.note } : {}),
          ...(f.original ? { original: f.original } : {}),
        },
      };
      if (f.review === 'rejected') rejected.push(ann);
      else if (f.polygon.length >= 3) annotations.push(ann);
    }
    for (const t of record.teeth) {
      if (t.polygon.length < 3) continue; // marked present, never outlined
      annotations.push({
        id: annotations.length + rejected.length + 1,
        image_id: imageId,
        category_id: category(`tooth ${t.fdi}`, 'tooth'),
        segmentation: [flat(t.polygon)],
        bbox: t.bbox,
        area: t.areaPx,
        iscrowd: 0,
        attributes: {
          review: t.review,
          fdi: t.fdi,
          ...(t.original ? { original: t.original } : {}),
        },
      });
    }
    ids.push(id);
  }

  const coco = {
    info: {
      description: 'dentseg data export: reviewed analyses, corrections applied',
      date_created: new Date().toISOString(),
    },
    images,
    categories: categoryList,
    annotations,
    // Rejected findings stay out of training; listed so that the export shows the verdict.
    rejected,
  };
  await writeFile(path.join(out, 'coco.json'), `${JSON.stringify(coco, null, 1)}\n`);
  await writeFile(path.join(out, 'classes.json'), `${JSON.stringify(classes)}\n`);
  return {
    ids,
    teethMasks,
    classes,
    annotations: annotations.length,
    rejected: rejected.length,
    corrected,
    warnings,
  };
}
