/**
 * Fit the panoramic check (src/imaging/panoramic.ts): logistic regression on the features
 * of src/imaging/panoramic-features.ts, positives = ufba425 TRAIN panoramics (each also once
 * lightly varied: crop, gamma, mirror, noise), negatives = seed 1 of the negative generator
 * cut from / drawn beside those same TRAIN images. Writes the weights JSON the check loads.
 * Nothing held out by bench/quality.ts (ufba425 val, samples/, dc1000-caries/, seed 2) is
 * touched here.
 *
 *   npx tsx scripts/train-quality.ts [--seed 1 --per-kind 60 --out src/imaging/panoramic-weights.json]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import type { GreyImage } from '../src/data/index.js';
import { toUnit } from '../src/imaging/image.js';
import { logisticFit, logisticPredict } from '../src/imaging/logistic.js';
import { featureNames, panoramicFeatures } from '../src/imaging/panoramic-features.js';
import { Rng } from '../src/rng.js';
import { REPO_ROOT } from '../test/helpers/paths.js';
import { features, load, negatives, ufbaSplit, type Sample } from './quality-data.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    'per-kind': { type: 'string', default: '60' },
    l2: { type: 'string', default: '0.003' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'src/imaging/panoramic-weights.json') },
  },
});
const seed = Number(args.seed);
const perKind = Number(args['per-kind']);
const l2 = Number(args.l2);

/** A lightly varied copy of a panoramic (crop 0…6 % per side, gamma, mirror, noise). */
function vary(image: GreyImage, rng: Rng): Float64Array[] {
  const u = toUnit(image);
  const { width, height } = image;
  const [l, r, t, b] = [0, 0, 0, 0].map(() => rng.uniform(0, 0.06));
  const x0 = Math.round(l! * width);
  const x1 = width - Math.round(r! * width);
  const y0 = Math.round(t! * height);
  const y1 = height - Math.round(b! * height);
  const gamma = Math.exp(rng.uniform(Math.log(0.7), Math.log(1.4)));
  const sigma = rng.next() < 0.5 ? rng.uniform(0, 0.03) : 0;
  const mirror = rng.next() < 0.5;
  const w = x1 - x0;
  const h = y1 - y0;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const sx = mirror ? x1 - 1 - x : x0 + x;
      const v = u[(y0 + y) * width + sx]! ** gamma + sigma * rng.normal();
      out[y * w + x] = Math.min(1, Math.max(0, v));
    }
  return [out, Float64Array.of(w, h)];
}

const started = performance.now();
const train = ufbaSplit('train');
const rng = Rng.seeded(seed, 7);
const samples: Sample[] = [];
for (const file of train) {
  const image = await load(file);
  samples.push({ name: path.basename(file), kind: 'panoramic', vector: features(image) });
  const [v, size] = vary(image, rng);
  samples.push({
    name: `${path.basename(file)} (varied)`,
    kind: 'panoramic',
    vector: panoramicFeatures(v!, size![0]!, size![1]!).vector,
  });
}
console.error(
  `positives: ${samples.length} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
samples.push(...(await negatives(seed, perKind, train)));
console.error(`all: ${samples.length} in ${((performance.now() - started) / 1000).toFixed(0)} s`);

const ys = samples.map((s) => (s.kind === 'panoramic' ? 1 : 0));
const model = logisticFit(
  samples.map((s) => s.vector),
  ys,
  { l2, steps: 3000 },
);
const round = (x: number): number => Math.round(x * 1e6) / 1e6;
let wrong = 0;
for (const s of samples) {
  const p = logisticPredict(model, s.vector);
  if (p >= 0.5 !== (s.kind === 'panoramic')) {
    wrong++;
    console.error(`  training sample misread: ${s.name} p=${p.toFixed(3)}`);
  }
}
const positives = ys.filter((y) => y === 1).length;
const weights = {
  about:
    'Logistic regression of the panoramic check (src/imaging/panoramic.ts) on the features of src/imaging/panoramic-features.ts.',
  command: `npx tsx scripts/train-quality.ts --seed ${seed} --per-kind ${perKind} --l2 ${l2}`,
  trainedOn: {
    positives: `${positives} (${train.length} ufba425 train panoramics, each also once varied)`,
    negatives: `${samples.length - positives} (negative generator seed ${seed}, ${perKind} per kind)`,
    misreadInTraining: wrong,
  },
  threshold: 0.5,
  features: featureNames(),
  mean: model.mean.map(round),
  std: model.std.map(round),
  weights: model.weights.map(round),
  bias: round(model.bias),
};
// Written as the repository's formatter would (so that `npm run lint` passes as is).
const options = await prettier.resolveConfig(args.out);
writeFileSync(
  args.out,
  await prettier.format(JSON.stringify(weights), { ...options, filepath: args.out }),
);
console.error(
  `wrote ${args.out}: ${samples.length} samples, ${wrong} misread in training, ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
