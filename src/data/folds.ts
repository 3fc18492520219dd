/**
 * Cross-validation folds for small data sets without a split (dc1000-caries: 60 images):
 * a seeded, lesion-balanced assignment of file names to k folds, written as one
 * `name,fold` CSV and, per fold, a `name,split` CSV that `--split` reads (fold k = val).
 * Pure: the script `scripts/make-folds.ts` does the I/O.
 */
import { Rng } from '../rng.js';

/** An image to place in a fold, weighted by what should be balanced (e.g. its lesions). */
export interface FoldItem {
  /** File name, e.g. `1008.png`. */
  readonly name: string;
  /** Balanced across folds (≥ 0), e.g. the image's lesion count. */
  readonly weight: number;
}

/**
 * Assign `items` to folds 1…k: a seeded shuffle, a stable sort by weight (heaviest first),
 * then dealt in a snake (1…k, k…1, …), so fold sizes differ by at most one and the weights
 * spread evenly. Same items, k and seed → same folds. Returns name → fold.
 */
export function assignFolds(
  items: readonly FoldItem[],
  k: number,
  seed: number,
): Map<string, number> {
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`k must be an integer ≥ 2, got ${k}`);
  if (items.length < k) throw new RangeError(`${items.length} items cannot fill ${k} folds`);
  const sorted = [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const order = Rng.seeded(seed).shuffle(sorted.map((_, i) => i));
  const dealt = order.map((i) => sorted[i]!).sort((a, b) => b.weight - a.weight);
  const out = new Map<string, number>();
  dealt.forEach((it, i) => {
    const round = Math.floor(i / k);
    const pos = i % k;
    out.set(it.name, round % 2 === 0 ? pos + 1 : k - pos);
  });
  return out;
}

const byName = (folds: ReadonlyMap<string, number>): [string, number][] =>
  [...folds.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** `name,fold` CSV, rows sorted by name. */
export function foldsCsv(folds: ReadonlyMap<string, number>): string {
  return ['name,fold', ...byName(folds).map(([n, f]) => `${n},${f}`)].join('\n') + '\n';
}

/** `name,split` CSV for fold `k`: its images `val`, all others `train`. */
export function foldSplitCsv(folds: ReadonlyMap<string, number>, k: number): string {
  return (
    ['name,split', ...byName(folds).map(([n, f]) => `${n},${f === k ? 'val' : 'train'}`)].join(
      '\n',
    ) + '\n'
  );
}

/** Parse a `name,fold` CSV back into name → fold. */
export function parseFoldsCsv(text: string): Map<string, number> {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const out = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const [name, fold] = line.split(',').map((c) => c.trim());
    if (name && fold) out.set(name, Number(fold));
  }
  return out;
}
