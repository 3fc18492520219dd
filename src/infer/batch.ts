/**
 * Batch prediction behind `dentseg predict`: expand files and folders, segment each input
 * with a bounded number in flight, write `X.mask.png`, `X.overlay.png`, `X.json` and one
 * `summary.csv`. A bad input never stops the batch: it is reported with its path (as given)
 * and reason, and the caller turns "any failed" into exit code 2.
 */
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sniffFormat } from '../data/index.js';
import { DentsegError, isDentsegError } from '../errors.js';
import type { ToothReport } from '../numbering/index.js';
import type { InputQuality } from '../imaging/panoramic.js';
import { encodeMaskPng } from './overlay.js';
import { findingsMinAreaPx } from './pipeline.js';
import { segment } from './segment.js';
import type { LoadedModel, SegmentResult } from './types.js';
import {
  areaPercent,
  dicomSummary,
  maskArea,
  perClassSummary,
  presentClasses,
} from './predict-json.js';
import { segmentOptionsOf, type PredictBatchOptions, type PredictItem } from './predict-types.js';
import type { LoadedModelSet } from './model-set.node.js';
import { predictSetOne } from './predict-set.js';
import { BUNDLED_SET } from './bundled-set.js';

/**
 * File name endings always taken from folders, even when their content is not recognised
 * (so a damaged X-ray fails with a reason instead of vanishing). Other folder members are
 * taken when their first bytes are an accepted format (DICOM files often have no extension
 * at all); explicit file arguments are always tried.
 */
export const IMAGE_EXTENSIONS = [
  '.png',
  '.jpg',
  '.jpeg',
  '.tif',
  '.tiff',
  '.bmp',
  '.dcm',
  '.dicom',
];

/** dentseg's own outputs, never taken as inputs from a folder (a second run over `out/`). */
const OUTPUT_SUFFIXES = [
  '.mask.png',
  '.overlay.png',
  '.teeth.png',
  '.chart.png',
  '.findings.png',
  // Each bundled lesion model's mask, `X.<type>.png`.
  ...BUNDLED_SET.lesions.map((type) => `.${type}.png`),
];

export type { PredictBatchOptions, PredictItem } from './predict-types.js';

/** The outcome of a batch. */
export interface PredictBatchResult {
  readonly items: readonly PredictItem[];
  readonly failed: number;
  readonly summaryCsv: string;
  /** Files skipped in folders: neither an image extension nor image content. */
  readonly skipped: number;
}

/** Whether a file starts like a format dentseg reads (the "DICM" marker sits at byte 128). */
async function looksLikeImage(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(132);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return sniffFormat(head.subarray(0, bytesRead)) !== undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Expand inputs: files stay as given; folders give their image files (non-recursive,
 * sorted): those with an image extension, and any other file whose content is an accepted
 * format (e.g. a DICOM named `IM0001`). dentseg's own outputs, hidden files and files that
 * are neither are skipped (counted); missing paths are kept so that they fail with a clear
 * reason.
 */
export async function expandInputs(
  inputs: readonly string[],
): Promise<{ files: string[]; skipped: number }> {
  const files: string[] = [];
  let skipped = 0;
  for (const input of inputs) {
    const st = await stat(input).catch(() => undefined);
    if (!st?.isDirectory()) {
      files.push(input);
      continue;
    }
    const names = (await readdir(input, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    for (const name of names) {
      const lower = name.toLowerCase();
      const ours = OUTPUT_SUFFIXES.some((s) => lower.endsWith(s));
      const file = path.join(input, name);
      if (!ours && (IMAGE_EXTENSIONS.includes(path.extname(lower)) || (await looksLikeImage(file))))
        files.push(file);
      else skipped++;
    }
  }
  return { files, skipped };
}

/**
 * Output stems: the file name without its image extension (other endings are kept: DICOM
 * files are often named by UID, `1.2.840.….17`), made unique with `-2`, `-3`…
 */
export function uniqueStems(files: readonly string[]): string[] {
  const used = new Map<string, number>();
  return files.map((f) => {
    const ext = path.extname(f);
    const known = IMAGE_EXTENSIONS.includes(ext.toLowerCase());
    const base = (known ? path.basename(f, ext) : path.basename(f)) || 'image';
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

function outputJson(
  input: string,
  model: LoadedModel,
  r: SegmentResult,
  minAreaPx: number,
  keepDicomTags: boolean,
  timings: Record<string, number>,
  elapsedMs: number,
  chart: { teeth: readonly ToothReport[]; missing: readonly number[] } | undefined,
): unknown {
  const foreground = maskArea(r.mask);
  return {
    input,
    model: { name: model.meta.name, version: model.meta.version, engine: model.engine.name },
    task: r.task,
    classes: r.classes,
    threshold: r.threshold,
    tta: r.tta,
    image: { width: r.width, height: r.height, bitDepth: r.bitDepth },
    // Not a panoramic X-ray: findings (and teeth, missing) are empty unless --force.
    ...(r.quality ? { quality: { ...r.quality, withheld: r.withheld === true } } : {}),
    elapsedMs,
    timings,
    summary: {
      regions: r.findings.length,
      maskAreaPx: foreground,
      maskAreaPct: areaPercent(foreground, r.width * r.height),
      minAreaPx,
      /** Classes with at least one region (multi-class: e.g. which FDI teeth are present). */
      classesPresent: presentClasses(r.findings),
      perClass: perClassSummary(r.findings, r.width * r.height),
    },
    findings: r.findings,
    ...(chart ? { teeth: chart.teeth, missing: chart.missing } : {}),
    ...(r.dicom ? { dicom: dicomSummary(r.dicom) } : {}),
    ...(r.dicom && keepDicomTags ? { dicomTags: r.dicom.patientTags } : {}),
  };
}

async function predictOne(
  model: LoadedModel,
  input: string,
  stem: string,
  opts: PredictBatchOptions,
): Promise<PredictItem> {
  const t0 = performance.now();
  try {
    const r = await segment(model, input, segmentOptionsOf(opts));
    const tEncode = performance.now();
    const base = path.join(opts.outputDir, stem);
    const chart = r.teeth && r.missing ? { teeth: r.teeth, missing: r.missing } : undefined;
    const writes: Promise<void>[] = [];
    const chartPng = r.chart ? r.chart() : undefined;
    if (chartPng) writes.push(chartPng.then((png) => writeFile(`${base}.chart.png`, png)));
    const [maskBuf, overlayBuf] = await Promise.all([encodeMaskPng(r), r.overlay()]);
    if (opts.report) {
      const paper = opts.report;
      // Loaded on first use: only reports need pdf-lib.
      const { predictReportPdf } = await import('./predict-report.js');
      writes.push(
        (chartPng ?? Promise.resolve(undefined))
          .then((chart) => predictReportPdf(input, model, r, overlayBuf, chart, paper))
          .then((pdf) => writeFile(`${base}.report.pdf`, pdf)),
      );
    }
    const minAreaPx = findingsMinAreaPx(model.meta, r.width, r.height, opts.minAreaPx);
    await Promise.all([
      writeFile(`${base}.mask.png`, maskBuf),
      writeFile(`${base}.overlay.png`, overlayBuf),
      ...writes,
    ]);
    const encode = Math.round((performance.now() - tEncode) * 10) / 10;
    const timings = { ...r.timings, encode };
    const elapsedMs = Math.round((performance.now() - t0) * 10) / 10;
    const json = outputJson(
      input,
      model,
      r,
      minAreaPx,
      opts.keepDicomTags,
      timings,
      elapsedMs,
      chart,
    );
    await writeFile(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
    const areaPx = maskArea(r.mask);
    return {
      input,
      ok: true,
      stem,
      width: r.width,
      height: r.height,
      regions: r.findings.length,
      areaPx,
      areaPct: areaPercent(areaPx, r.width * r.height),
      classesPresent: presentClasses(r.findings),
      ...(chart ? { teeth: chart.teeth.map((t) => t.fdi), missing: chart.missing } : {}),
      ...(r.quality ? { quality: r.quality } : {}),
      elapsedMs,
      timings,
    };
  } catch (err) {
    return failedItem(input, stem, err);
  }
}

function csvField(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The `quality` column: `ok` for a good panoramic, else the issues separated by `; `. */
export function qualityText(q: InputQuality): string {
  return q.issues.length === 0 ? 'ok' : q.issues.join('; ');
}

/** `summary.csv`: one row per input, in input order. */
export function summaryCsv(items: readonly PredictItem[]): string {
  // The bundled set's lesion types always, then any other lesion type met, in order.
  const types: string[] = [...BUNDLED_SET.lesions];
  for (const it of items)
    for (const t of Object.keys(it.lesions ?? {})) if (!types.includes(t)) types.push(t);
  const head = [
    'input',
    'status',
    'mask',
    'overlay',
    'json',
    'width',
    'height',
    'regions',
    'mask_area_px',
    'mask_area_pct',
    'classes_present',
    'elapsed_ms',
    'error_code',
    'error',
    'teeth',
    'missing',
    'quality',
    'quality_score',
    ...types.flatMap((t) => [t, `${t}_teeth`]),
  ];
  const rows = items.map((it) =>
    [
      it.input,
      it.ok ? 'ok' : 'failed',
      it.ok && it.noMask !== true ? `${it.stem}.mask.png` : '',
      it.ok ? `${it.stem}.overlay.png` : '',
      it.ok ? `${it.stem}.json` : '',
      it.width,
      it.height,
      it.regions,
      it.areaPx,
      it.areaPct,
      it.classesPresent?.join(';'),
      it.elapsedMs,
      it.error?.code,
      it.error?.message,
      // Numbering models: FDI numbers, space-separated (empty for other models).
      it.teeth?.join(' '),
      it.missing?.join(' '),
      // The check's verdict: `ok`, or its issues (e.g. "not a panoramic X-ray; noisy").
      it.quality ? qualityText(it.quality) : '',
      it.quality?.score,
      // Model sets: per lesion type its count and the teeth it is on (`16;36`); empty when
      // the type's model did not run.
      ...types.flatMap((t) => {
        const l = it.lesions?.[t];
        return l ? [l.count, l.teeth.join(';')] : ['', ''];
      }),
    ]
      .map(csvField)
      .join(','),
  );
  return [head.join(','), ...rows].join('\n') + '\n';
}

/** A failure of one input as its item (DentsegErrors keep their code; others E_INTERNAL). */
function failedItem(input: string, stem: string, err: unknown): PredictItem {
  if (!isDentsegError(err)) {
    // Unexpected failures are still reported per file, never with a stack trace.
    const message = err instanceof Error ? err.message : String(err);
    return {
      input,
      ok: false,
      stem,
      error: { code: 'E_INTERNAL', message: `${input}: ${message}` },
    };
  }
  return { input, ok: false, stem, error: { code: err.code, message: err.message } };
}

/**
 * Segment every input and write the outputs; never throws for a bad input. `model` is one
 * model (today's outputs) or a set (the bundled set, several `--model`: ./predict-set.ts).
 */
export async function predictBatch(
  model: LoadedModel | LoadedModelSet,
  opts: PredictBatchOptions,
): Promise<PredictBatchResult> {
  if (!(opts.concurrency >= 1)) throw new DentsegError('E_USAGE', '--concurrency must be ≥ 1');
  await mkdir(opts.outputDir, { recursive: true });
  const { files, skipped } = await expandInputs(opts.inputs);
  const stems = uniqueStems(files);
  const items: PredictItem[] = new Array<PredictItem>(files.length);
  let nextIndex = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = nextIndex++;
      if (i >= files.length) return;
      const item =
        'models' in model
          ? await predictSetOne(model, files[i]!, stems[i]!, opts).catch((err: unknown) =>
              failedItem(files[i]!, stems[i]!, err),
            )
          : await predictOne(model, files[i]!, stems[i]!, opts);
      items[i] = item;
      done++;
      opts.onItem?.(item, done, files.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency, Math.max(1, files.length)) }, worker),
  );
  const summaryFile = path.join(opts.outputDir, 'summary.csv');
  await writeFile(summaryFile, summaryCsv(items));
  return { items, failed: items.filter((i) => !i.ok).length, summaryCsv: summaryFile, skipped };
}
