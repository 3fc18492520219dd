/**
 * Cross-validation summary: with 60 images a single split says little, so lesion models are
 * reported as the mean ± sample standard deviation over folds of each fold's pooled numbers
 * (the `dentseg evaluate --subset val` report of each fold). Pure.
 */

/** The parts of an evaluation report (JSON) a fold summary reads. */
export interface FoldReport {
  readonly pooled: { readonly dice: number | null; readonly [k: string]: number | null };
  readonly lesions?: {
    readonly sensitivity: number | null;
    readonly precision: number | null;
    readonly fpPerImage: number;
  };
}

/** One metric over the folds. */
export interface FoldStat {
  /** Value of each fold, in the order given (null where a fold had none). */
  readonly perFold: readonly (number | null)[];
  /** Mean over folds with a value; null when none has one. */
  readonly mean: number | null;
  /** Sample standard deviation (n − 1) over folds with a value; null under two values. */
  readonly sd: number | null;
}

/** Metrics summarised: pooled Dice, IoU, precision, recall and, when present, the lesion ones. */
export const FOLD_METRICS = [
  'pooled.dice',
  'pooled.iou',
  'pooled.precision',
  'pooled.recall',
  'lesions.sensitivity',
  'lesions.precision',
  'lesions.fpPerImage',
] as const;
export type FoldMetric = (typeof FOLD_METRICS)[number];

function valueOf(r: FoldReport, metric: FoldMetric): number | null {
  const [block, key] = metric.split('.') as ['pooled' | 'lesions', string];
  const v = (r[block] as Record<string, number | null> | undefined)?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Mean ± sd of each metric over `reports` (one per fold). */
export function summariseFolds(reports: readonly FoldReport[]): Record<FoldMetric, FoldStat> {
  const out = {} as Record<FoldMetric, FoldStat>;
  for (const m of FOLD_METRICS) {
    const perFold = reports.map((r) => valueOf(r, m));
    const xs = perFold.filter((v): v is number => v !== null);
    const mean = xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : null;
    const sd =
      xs.length > 1 && mean !== null
        ? Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1))
        : null;
    out[m] = { perFold, mean, sd };
  }
  return out;
}

/** A Markdown table: one row per metric, one column per fold, then mean ± sd. */
export function foldsTable(summary: Record<FoldMetric, FoldStat>, digits = 3): string {
  const n = Math.max(...Object.values(summary).map((s) => s.perFold.length));
  const f = (v: number | null): string => (v === null ? '—' : v.toFixed(digits));
  const head = `| metric | ${Array.from({ length: n }, (_, i) => `fold ${i + 1}`).join(' | ')} | mean ± sd |`;
  const rule = `|---|${'---|'.repeat(n)}---|`;
  const rows = FOLD_METRICS.filter((m) => summary[m].mean !== null).map((m) => {
    const s = summary[m];
    return `| \`${m}\` | ${s.perFold.map(f).join(' | ')} | ${f(s.mean)} ± ${f(s.sd)} |`;
  });
  return [head, rule, ...rows].join('\n') + '\n';
}
