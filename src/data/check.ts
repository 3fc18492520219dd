/**
 * `dentseg data check`: decode every image and mask of a data set and report every
 * problem with the file it concerns (not just the first), plus counts a trainer needs
 * (split sizes, image sizes, pixels per class).
 */
import { isDentsegError } from '../errors.js';
import { decodeImage } from '../imaging/decode.node.js';
import { loadSample, maskValues, type Dataset, type SampleRef } from './dataset.js';

export interface CheckIssue {
  readonly code: string;
  readonly file: string;
  readonly message: string;
}

export interface CheckReport {
  readonly task: Dataset['task'];
  readonly classes: string[];
  readonly train: number;
  readonly val: number;
  /** Samples decoded without error. */
  readonly ok: number;
  readonly errors: CheckIssue[];
  /** "W×H" → count of images of that size. */
  readonly sizes: Record<string, number>;
  /** Pixels per class over all good samples (index = class). */
  readonly classPixels: number[];
  /** What the data set leaves out on purpose (e.g. split rows marked `test`), one line each. */
  readonly warnings: string[];
}

function issueFrom(err: unknown, fallbackFile: string): CheckIssue {
  if (isDentsegError(err)) {
    const file = err.file ?? fallbackFile;
    const message = err.message.startsWith(`${file}: `)
      ? err.message.slice(file.length + 2)
      : err.message;
    return { code: err.code, file, message };
  }
  return { code: 'E_IMAGE_DECODE', file: fallbackFile, message: String(err) };
}

/** Raw mask values that are not allowed: binary {0,255} or {0,1}; multiclass < K. */
function badMaskValues(
  values: Uint8Array | Uint16Array,
  task: Dataset['task'],
  k: number,
): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) seen.add(values[i]!);
  const vals = [...seen].sort((a, b) => a - b);
  if (task === 'multiclass') return vals.filter((v) => v >= k);
  const ok = vals.every((v) => v === 0 || v === 255) || vals.every((v) => v === 0 || v === 1);
  return ok ? [] : vals.filter((v) => v !== 0 && v !== 255).slice(0, 8);
}

function tally(report: CheckReport, width: number, height: number, mask: Uint8Array): void {
  const key = `${width}×${height}`;
  report.sizes[key] = (report.sizes[key] ?? 0) + 1;
  const counts = report.classPixels;
  for (let i = 0; i < mask.length; i++) counts[mask[i]!] = (counts[mask[i]!] ?? 0) + 1;
}

async function checkOne(ref: SampleRef, ds: Dataset, report: CheckReport): Promise<CheckIssue[]> {
  if (ref.kind === 'coco') {
    try {
      const { image, mask } = await loadSample(ref);
      tally(report, image.width, image.height, mask);
      return [];
    } catch (err) {
      return [issueFrom(err, ref.image)];
    }
  }
  // Decode both separately so that a bad image and a bad mask are both named.
  const issues: CheckIssue[] = [];
  const [img, mask] = await Promise.allSettled([decodeImage(ref.image), decodeImage(ref.mask)]);
  if (img.status === 'rejected') issues.push(issueFrom(img.reason, ref.image));
  if (mask.status === 'rejected') issues.push(issueFrom(mask.reason, ref.mask));
  if (img.status === 'rejected' || mask.status === 'rejected') return issues;
  const i = img.value;
  const m = mask.value;
  if (i.width !== m.width || i.height !== m.height) {
    return [
      {
        code: 'E_MASK_MISMATCH',
        file: ref.mask,
        message: `mask is ${m.width}×${m.height}, image is ${i.width}×${i.height}`,
      },
    ];
  }
  const bad = badMaskValues(m.data, ds.task, ds.classes.length);
  if (bad.length > 0) {
    return [
      {
        code: 'E_MASK_VALUES',
        file: ref.mask,
        message:
          ds.task === 'binary'
            ? `binary mask holds values other than 0/255: ${bad.join(', ')}`
            : `class indices ≥ ${ds.classes.length} (the number of classes): ${bad.join(', ')}`,
      },
    ];
  }
  tally(report, i.width, i.height, maskValues(m, ds.task));
  return [];
}

/**
 * Decode and validate every sample of `ds` (`concurrency` at a time). Problems found
 * while listing (`ds.problems`) are included. `onProgress(done, total)` is optional.
 */
export async function checkDataset(
  ds: Dataset,
  opts: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<CheckReport> {
  const report: CheckReport = {
    task: ds.task,
    classes: ds.classes,
    train: ds.train.length,
    val: ds.val.length,
    ok: 0,
    errors: ds.problems.map((p) => ({ code: p.code, file: p.file, message: p.message })),
    sizes: {},
    classPixels: ds.classes.map(() => 0),
    warnings: ds.warnings,
  };
  const all = [...ds.train, ...ds.val];
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < all.length) {
      const ref = all[next++]!;
      const issues = await checkOne(ref, ds, report);
      if (issues.length === 0) (report as { ok: number }).ok++;
      report.errors.push(...issues);
      opts.onProgress?.(++done, all.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  report.errors.sort((a, b) => a.file.localeCompare(b.file));
  return report;
}
