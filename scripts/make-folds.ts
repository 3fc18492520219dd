/**
 * Write seeded, lesion-balanced k-fold files for a data set without a split (committed for
 * dc1000-caries, so every fold run and its evaluation use the same images):
 *   OUT.csv           name,fold (1…k)
 *   OUT/fold-K.csv    name,split — fold K is `val`, the rest `train` (for `--split`)
 * Each image's weight is its lesion count (8-connected regions ≥ --min-area px).
 * Usage:
 *   npx tsx scripts/make-folds.ts --images ../shared/data/dc1000-caries/images \
 *     --masks ../shared/data/dc1000-caries/masks --k 5 --seed 19 \
 *     --out data/folds/dc1000-caries-5fold
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSample, openDataset } from '../src/data/index.node.js';
import { assignFolds, foldsCsv, foldSplitCsv, type FoldItem } from '../src/data/folds.js';
import { DEFAULT_LESION_MIN_AREA, matchLesions } from '../src/evaluate/index.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    masks: { type: 'string' },
    'mask-pattern': { type: 'string', default: '{name}.png' },
    k: { type: 'string', default: '5' },
    seed: { type: 'string', default: '19' },
    'min-area': { type: 'string', default: String(DEFAULT_LESION_MIN_AREA) },
    out: { type: 'string' },
  },
});
if (!values.images || !values.masks || !values.out) {
  console.error('usage: make-folds.ts --images DIR --masks DIR --out PREFIX [--k 5 --seed 19]');
  process.exit(64);
}
const k = Number(values.k);
const seed = Number(values.seed);
const minArea = Number(values['min-area']);
const ds = await openDataset({
  images: values.images,
  masks: values.masks,
  maskPattern: values['mask-pattern'],
  valFraction: 0,
});
const items: FoldItem[] = [];
for (const ref of [...ds.train, ...ds.val]) {
  const { image, mask } = await loadSample(ref);
  // lesions = truth regions matched against nothing
  const { truth } = matchLesions(
    new Uint8Array(mask.length),
    mask,
    image.width,
    image.height,
    minArea,
  );
  items.push({ name: path.basename(ref.image), weight: truth });
}
const folds = assignFolds(items, k, seed);
const out = path.resolve(values.out);
mkdirSync(out, { recursive: true });
writeFileSync(`${out}.csv`, foldsCsv(folds));
for (let f = 1; f <= k; f++) writeFileSync(path.join(out, `fold-${f}.csv`), foldSplitCsv(folds, f));
for (let f = 1; f <= k; f++) {
  const inFold = items.filter((it) => folds.get(it.name) === f);
  const lesions = inFold.reduce((s, it) => s + it.weight, 0);
  console.log(`fold ${f}: ${inFold.length} images, ${lesions} lesions`);
}
console.log(`wrote ${path.relative(process.cwd(), out)}.csv and ${k} split files in it`);
