/**
 * How much Dice a one-pixel disagreement on the outlines costs on a data set: the ground
 * truth scored against itself grown or shrunk by 1 px (4-neighbourhood), pooled like
 * `dentseg evaluate`. On thin structures (ufba425 lower incisors are ~10 px wide at 512², the
 * panoramics having been squeezed ~4.8× horizontally) this bounds what a Dice target asks
 * of the boundaries. Usage (data-set flags as `dentseg data check`):
 *   npx tsx scripts/boundary-tolerance.ts --images DIR --masks DIR [--split CSV --subset val]
 */
import { parseArgs } from 'node:util';
import { loadSample, openDataset } from '../src/data/index.node.js';
import { samplesOf, SUBSETS, type Subset } from '../src/evaluate/index.js';

/** `mask` (0/1) grown (`grow`) or shrunk by one pixel in the 4-neighbourhood. */
function morph(mask: Uint8Array, w: number, h: number, grow: boolean): Uint8Array {
  const out = new Uint8Array(mask.length);
  const at = (x: number, y: number): number =>
    x < 0 || y < 0 || x >= w || y >= h ? 0 : mask[y * w + x]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const n = [at(x, y), at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1)];
      out[y * w + x] = grow ? Math.max(...n) : Math.min(...n);
    }
  }
  return out;
}

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    masks: { type: 'string' },
    split: { type: 'string' },
    subset: { type: 'string', default: 'all' },
  },
});
const subset = values.subset as Subset;
if (!SUBSETS.includes(subset)) throw new Error(`--subset must be one of ${SUBSETS.join(', ')}`);
const dataset = await openDataset({
  images: values.images,
  masks: values.masks,
  split: values.split,
});
const sums = { grown: { both: 0, total: 0 }, shrunk: { both: 0, total: 0 } };
let boundary = 0;
let area = 0;
const samples = samplesOf(dataset, subset);
for (const ref of samples) {
  const { image, mask } = await loadSample(ref);
  const { width: w, height: h } = image;
  const shrunk = morph(mask, w, h, false);
  const others = { grown: morph(mask, w, h, true), shrunk };
  for (const kind of ['grown', 'shrunk'] as const) {
    const other = others[kind];
    let both = 0;
    let total = 0;
    for (let i = 0; i < mask.length; i++) {
      both += mask[i]! & other[i]!;
      total += mask[i]! + other[i]!;
    }
    sums[kind].both += 2 * both;
    sums[kind].total += total;
  }
  for (let i = 0; i < mask.length; i++) {
    area += mask[i]!;
    boundary += mask[i]! - shrunk[i]!;
  }
}
console.log(
  JSON.stringify({
    images: samples.length,
    subset,
    diceTruthVsGrown1px: +(sums.grown.both / sums.grown.total).toFixed(4),
    diceTruthVsShrunk1px: +(sums.shrunk.both / sums.shrunk.total).toFixed(4),
    boundaryPxPerImage: Math.round(boundary / samples.length),
    targetPxPerImage: Math.round(area / samples.length),
  }),
);
