/**
 * Cross-validation folds: the seeded, lesion-balanced assignment, and the committed
 * dc1000-caries 5-fold files (every image once, 12 per fold, split files that `--split`
 * reads, reproduced by scripts/make-folds.ts's rule from the masks).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSample, openDataset } from '../../src/data/index.node.js';
import {
  assignFolds,
  foldsCsv,
  foldSplitCsv,
  parseFoldsCsv,
  type FoldItem,
} from '../../src/data/folds.js';
import { matchLesions } from '../../src/evaluate/index.js';
import { CARIES, REPO_ROOT } from '../helpers/paths.js';

const FOLDS = path.join(REPO_ROOT, 'data', 'folds', 'dc1000-caries-5fold.csv');
const FOLD_DIR = path.join(REPO_ROOT, 'data', 'folds', 'dc1000-caries-5fold');
const HAS_CARIES = existsSync(path.join(CARIES, 'masks'));

describe('assignFolds', () => {
  const items: FoldItem[] = Array.from({ length: 23 }, (_, i) => ({
    name: `img${i}.png`,
    weight: i % 7 === 0 ? 20 : i % 3,
  }));

  it('is seeded, sizes differ by at most one, weights spread evenly', () => {
    const a = assignFolds(items, 5, 1);
    expect(assignFolds([...items].reverse(), 5, 1)).toEqual(a); // input order does not matter
    expect(assignFolds(items, 5, 2)).not.toEqual(a);
    const sizes = [1, 2, 3, 4, 5].map((f) => [...a.values()].filter((v) => v === f).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const weights = [1, 2, 3, 4, 5].map((f) =>
      items.filter((it) => a.get(it.name) === f).reduce((s, it) => s + it.weight, 0),
    );
    expect(Math.max(...weights) - Math.min(...weights)).toBeLessThanOrEqual(20);
    expect(() => assignFolds(items, 1, 1)).toThrow(RangeError);
  });

  it('writes a name,fold CSV and per-fold name,split CSVs', () => {
    const a = assignFolds(items, 5, 1);
    expect(parseFoldsCsv(foldsCsv(a))).toEqual(a);
    const split = foldSplitCsv(a, 3).trim().split('\n');
    expect(split[0]).toBe('name,split');
    expect(split.filter((l) => l.endsWith(',val'))).toHaveLength(
      [...a.values()].filter((v) => v === 3).length,
    );
  });
});

describe('the committed dc1000-caries folds', () => {
  const folds = parseFoldsCsv(readFileSync(FOLDS, 'utf8'));

  it('put each of the 60 images in exactly one of 5 folds of 12', () => {
    expect(folds.size).toBe(60);
    for (let f = 1; f <= 5; f++)
      expect([...folds.values()].filter((v) => v === f)).toHaveLength(12);
    for (let f = 1; f <= 5; f++) {
      const text = readFileSync(path.join(FOLD_DIR, `fold-${f}.csv`), 'utf8');
      expect(text).toBe(foldSplitCsv(folds, f));
    }
  });

  it.skipIf(!HAS_CARIES)('name exactly the data set images, and --split reads fold k', async () => {
    const images = readdirSync(path.join(CARIES, 'images')).filter((f) => f.endsWith('.png'));
    expect([...folds.keys()].sort()).toEqual(images.sort());
    const ds = await openDataset({
      images: path.join(CARIES, 'images'),
      masks: path.join(CARIES, 'masks'),
      split: path.join(FOLD_DIR, 'fold-2.csv'),
    });
    expect(ds.train).toHaveLength(48);
    expect(ds.val).toHaveLength(12);
    expect(ds.problems).toEqual([]);
    for (const r of ds.val) expect(folds.get(path.basename(r.image))).toBe(2);
  });

  it.skipIf(!HAS_CARIES)(
    'are what scripts/make-folds.ts computes (k 5, seed 19, 20 px)',
    async () => {
      const ds = await openDataset({
        images: path.join(CARIES, 'images'),
        masks: path.join(CARIES, 'masks'),
        valFraction: 0,
      });
      const items: FoldItem[] = [];
      for (const ref of [...ds.train, ...ds.val]) {
        const { image, mask } = await loadSample(ref);
        const zero = new Uint8Array(mask.length);
        const { truth } = matchLesions(zero, mask, image.width, image.height, 20);
        items.push({ name: path.basename(ref.image), weight: truth });
      }
      expect(foldsCsv(assignFolds(items, 5, 19))).toBe(readFileSync(FOLDS, 'utf8'));
    },
    60_000,
  );
});
