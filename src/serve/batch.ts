/**
 * `dentseg batch` over the shared queue: every X-ray of the inputs becomes a job whose id is
 * derived from the file's content and the model set, so a second run (or a second machine
 * running the same batch) finds what is done and enqueues only the rest. Outputs are the
 * files `predict` writes: X.mask.png, X.overlay.png, X.json and summary.csv.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DentsegError, isDentsegError } from '../errors.js';
import {
  expandInputs,
  lesionSummary,
  summaryCsv,
  uniqueStems,
  type PredictItem,
} from '../infer/index.js';
import { overlayFromStored } from './analyse.js';
import type { JobQueue } from './jobs.js';
import type { Store } from './store-api.js';
import { writeUpload } from './store-files.js';
import { numbersTeeth, type AnalysisRecord } from './types.js';

/** Options of {@link runBatch}. */
export interface BatchOptions {
  readonly inputs: readonly string[];
  readonly outputDir: string;
  readonly store: Store;
  readonly jobs: JobQueue;
  /** The model folder(s) the workers run (a set: in order): their files' hash keys the work. */
  readonly modelDir: string | readonly string[];
  /** Give up waiting after this long, ms (default 24 h). */
  readonly timeoutMs?: number;
  /** How often the store is polled for progress, ms (default 500). */
  readonly pollMs?: number;
  /** Called as analyses finish. */
  readonly onProgress?: (done: number, total: number, item: PredictItem) => void;
}

/** What a batch did. */
export interface BatchResult {
  readonly items: readonly PredictItem[];
  /** Jobs put on the queue by this run. */
  readonly enqueued: number;
  /** Inputs already analysed with this model set (nothing enqueued). */
  readonly alreadyDone: number;
  readonly failed: number;
  readonly summaryCsv: string;
}

/**
 * SHA-256 of every file of the model folder (names and contents, sorted); for several
 * folders (a model set, in order) the hash of their keys. One folder keys as it always did.
 */
export async function modelSetKey(modelDir: string | readonly string[]): Promise<string> {
  if (typeof modelDir !== 'string') {
    if (modelDir.length === 1) return modelSetKey(modelDir[0]!);
    const set = createHash('sha256');
    for (const dir of modelDir) set.update(`${await modelSetKey(dir)}\0`);
    return set.digest('hex');
  }
  const hash = createHash('sha256');
  const names = (await readdir(modelDir, { withFileTypes: true }))
    .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.endsWith('.md'))
    .map((e) => e.name)
    .sort();
  if (!names.includes('model.json') && !names.includes('model.onnx')) {
    throw new DentsegError('E_MODEL_INVALID', 'not a model folder (no model.json)', {
      file: modelDir,
    });
  }
  for (const name of names) {
    hash.update(`${name}\0`);
    hash.update(await readFile(path.join(modelDir, name)));
  }
  return hash.digest('hex');
}

/** A UUID (v4-shaped) derived from the content hash and the model set. */
export function batchId(content: Buffer, modelKey: string): string {
  const h = createHash('sha256').update(modelKey).update('\0').update(content).digest('hex');
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A stored analysis as its summary.csv row, with the columns `predict` fills from the same
 * set: regions, area and classes of the teeth model's own findings, `teeth`/`missing` for a
 * numbering model, and per lesion type its count and teeth (predict's own rule, shared).
 * A finding the dentist rejected is not counted; one drawn by the dentist is.
 */
export function batchItemOf(input: string, stem: string, record: AnalysisRecord): PredictItem {
  const kept = record.findings.filter((f) => f.review !== 'rejected');
  // Findings from before model sets name no model: they are all the one model's.
  const own = kept.filter((f) => f.model === undefined || f.model === record.model.name);
  const lesionTypes = (record.models ?? []).flatMap((m) =>
    m.role === 'lesion' && m.type !== undefined ? [m.type] : [],
  );
  return {
    input,
    ok: true,
    stem,
    width: record.image.width,
    height: record.image.height,
    regions: own.length,
    areaPx: own.reduce((s, f) => s + f.areaPx, 0),
    areaPct: Math.round(own.reduce((s, f) => s + f.areaPct, 0) * 1000) / 1000,
    classesPresent: [...new Set(own.map((f) => f.class))],
    ...(numbersTeeth(record)
      ? { teeth: record.teeth.map((t) => t.fdi), missing: record.missing }
      : {}),
    ...(lesionTypes.length > 0 ? { lesions: lesionSummary(lesionTypes, kept) } : {}),
    // The input check, as predict lists it in summary.csv (absent on older records).
    ...(record.quality ? { quality: record.quality } : {}),
    elapsedMs: record.elapsedMs,
    timings: record.timings,
  };
}

async function writeOutputs(store: Store, record: AnalysisRecord, base: string): Promise<void> {
  if (existsSync(`${base}.json`)) return; // written by an earlier run
  const [original, mask] = await Promise.all([
    store.readFile(record.id, 'original.png'),
    store.readFile(record.id, 'mask.png'),
  ]);
  if (!original || !mask) {
    throw new DentsegError('E_FILE_NOT_FOUND', `the images of analysis ${record.id} are missing`);
  }
  await writeFile(`${base}.mask.png`, mask);
  await writeFile(`${base}.overlay.png`, await overlayFromStored(record, original, mask));
  await writeFile(`${base}.json`, JSON.stringify(record, null, 2) + '\n');
}

/** Enqueue every input not yet done with this model set, wait for all, write the outputs. */
export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const { store, jobs } = options;
  const { files } = await expandInputs(options.inputs);
  if (files.length === 0) {
    throw new DentsegError('E_FILE_NOT_FOUND', 'no image files in the inputs given', {
      file: options.inputs.join(' '),
    });
  }
  const stems = uniqueStems(files);
  await mkdir(options.outputDir, { recursive: true });
  const modelKey = await modelSetKey(options.modelDir);
  const items: (PredictItem | undefined)[] = files.map(() => undefined);
  const pending = new Map<number, string>(); // input index → analysis id
  let enqueued = 0;
  let alreadyDone = 0;
  let done = 0;
  const finish = (i: number, item: PredictItem): void => {
    items[i] = item;
    done += 1;
    options.onProgress?.(done, files.length, item);
  };
  const fail = (i: number, code: string, message: string): void =>
    finish(i, {
      input: files[i] as string,
      ok: false,
      stem: stems[i] as string,
      error: { code, message },
    });

  for (const [i, file] of files.entries()) {
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (err) {
      fail(i, 'E_FILE_NOT_FOUND', `${file}: ${(err as Error).message}`);
      continue;
    }
    const id = batchId(buf, modelKey);
    if (await store.get(id)) {
      alreadyDone += 1;
      pending.set(i, id);
      continue;
    }
    const state = await store.status(id);
    if (!state) {
      await writeUpload(store.dataDir, id, buf);
      await store.addJob({
        id,
        user: null,
        filename: path.basename(file),
        created: new Date().toISOString(),
      });
    }
    if (state?.status !== 'failed') {
      await jobs.add(id); // idempotent: a job already there is left as it is
      enqueued += state ? 0 : 1;
    }
    pending.set(i, id);
  }

  const end = Date.now() + (options.timeoutMs ?? 24 * 3600 * 1000);
  while (pending.size > 0) {
    for (const [i, id] of [...pending]) {
      const record = await store.get(id);
      if (record) {
        pending.delete(i);
        try {
          await writeOutputs(store, record, path.join(options.outputDir, stems[i] as string));
          finish(i, batchItemOf(files[i] as string, stems[i] as string, record));
        } catch (err) {
          fail(i, isDentsegError(err) ? err.code : 'E_INTERNAL', (err as Error).message);
        }
        continue;
      }
      const state = await store.status(id);
      if (state?.status === 'failed') {
        pending.delete(i);
        fail(
          i,
          state.error?.code ?? 'E_INTERNAL',
          `${files[i]}: ${state.error?.message ?? 'failed'}`,
        );
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > end) {
      throw new DentsegError('E_TIMEOUT', `${pending.size} analyses still waiting on the queue`, {
        hint: 'are workers running (dentseg worker) on the same --queue?',
      });
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
  const all = items as PredictItem[];
  const summaryFile = path.join(options.outputDir, 'summary.csv');
  await writeFile(summaryFile, summaryCsv(all));
  return {
    items: all,
    enqueued,
    alreadyDone,
    failed: all.filter((it) => !it.ok).length,
    summaryCsv: summaryFile,
  };
}
