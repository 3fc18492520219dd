/**
 * What each anatomical numbering step can repair, before a numbering model exists: the
 * annotated ufba425 FDI masks get the label errors such a model makes (neighbours swapped,
 * a tooth given its mirror's or the other jaw's number, a duplicate number, the end of a
 * tooth given the neighbour's number), then each `--numbering` setting post-processes them
 * and `TeethAccumulator` scores the result against the clean mask. The clean masks are run
 * through all steps too: anatomy must not damage a correct chart. Seeded, CPU only (~15 ms
 * per mask and setting). The real measurement is `dentseg evaluate --numbering …` with the
 * trained model.
 *
 *   npx tsx bench/numbering-steps.ts [-- --subset val|train|all --seed 1 --fragment-share 0.25]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Rng } from '../src/augment/index.js';
import { TeethAccumulator } from '../src/evaluate/index.js';
import {
  FDI_NUMBERS,
  NUMBERING_MODES,
  defaultMinToothPx,
  numberTeeth,
  numberingScheme,
} from '../src/numbering/index.js';
import { UFBA } from '../test/helpers/paths.js';

const { values: args } = parseArgs({
  options: {
    subset: { type: 'string', default: 'val' },
    seed: { type: 'string', default: '1' },
    'fragment-share': { type: 'string' },
  },
});
const scheme = numberingScheme(['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)])!;
const cls = (fdi: number): number => scheme.classOfFdi.get(fdi)!;
const MIRROR: Record<number, number> = { 1: 2, 2: 1, 3: 4, 4: 3 };
const OTHER_JAW: Record<number, number> = { 1: 4, 2: 3, 3: 2, 4: 1 };

const stems = readFileSync(path.join(UFBA, 'split.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','))
  .filter((c) => args.subset === 'all' || c[2] === args.subset)
  .map((c) => c[0]!);

/** Inject label errors into a copy of `truth`; returns it and the errors' names. */
function corrupt(truth: Uint8Array, width: number, rng: Rng): [Uint8Array, string[]] {
  const present = FDI_NUMBERS.filter((f) => truth.includes(cls(f)));
  const pred = truth.slice();
  const done: string[] = [];
  const pick = (): number => present[rng.int(present.length)]!;
  const neighbour = (f: number): number => (f % 10 < 8 ? f + 1 : f - 1);
  const relabel = (from: number, to: number, where?: (i: number) => boolean): void => {
    for (let i = 0; i < truth.length; i++)
      if (truth[i] === cls(from) && (!where || where(i))) pred[i] = cls(to);
  };
  if (present.length === 0) return [pred, done];
  if (rng.next() < 0.4) {
    const a = pick();
    const b = neighbour(a);
    if (present.includes(b)) {
      relabel(a, b);
      relabel(b, a);
      done.push('swap');
    }
  }
  if (rng.next() < 0.3) {
    const a = pick();
    relabel(a, MIRROR[Math.floor(a / 10)]! * 10 + (a % 10));
    done.push('mirror');
  }
  if (rng.next() < 0.3) {
    const a = pick();
    relabel(a, OTHER_JAW[Math.floor(a / 10)]! * 10 + (a % 10));
    done.push('other jaw');
  }
  if (rng.next() < 0.4) {
    const a = pick();
    relabel(a, neighbour(a));
    done.push('duplicate');
  }
  if (rng.next() < 0.5) {
    // the quarter of a tooth farthest from the occlusal plane given the neighbour's number
    const a = pick();
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i] !== cls(a)) continue;
      const y = Math.floor(i / width);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    const upper = Math.floor(a / 10) <= 2;
    const cut = upper ? y0 + (y1 - y0) / 4 : y1 - (y1 - y0) / 4;
    relabel(a, neighbour(a), (i) =>
      upper ? Math.floor(i / width) < cut : Math.floor(i / width) > cut,
    );
    done.push('fragment');
  }
  return [pred, done];
}

const rng = Rng.seeded(Number(args.seed));
const opts =
  args['fragment-share'] !== undefined ? { fragmentShare: Number(args['fragment-share']) } : {};
const clean = new TeethAccumulator(scheme);
const byMode = new Map(NUMBERING_MODES.map((m) => [m, new TeethAccumulator(scheme)]));
const injected: Record<string, number> = {};
const ms: Record<string, number> = {};
let images = 0;
for (const stem of stems) {
  const file = path.join(UFBA, 'masks_fdi', `${stem}.png`);
  let raw;
  try {
    raw = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch {
    continue; // not every split entry has an FDI mask
  }
  const { width, height } = raw.info;
  const truth = new Uint8Array(raw.data);
  const minPx = defaultMinToothPx(width, height);
  clean.add(numberTeeth(truth, width, height, scheme, opts).mask, truth, minPx);
  const [pred, errors] = corrupt(truth, width, rng);
  for (const e of errors) injected[e] = (injected[e] ?? 0) + 1;
  for (const [mode, acc] of byMode) {
    const t0 = performance.now();
    const r = numberTeeth(pred, width, height, scheme, { ...opts, mode });
    ms[mode] = (ms[mode] ?? 0) + performance.now() - t0;
    acc.add(r.mask, truth, minPx);
  }
  images++;
}
const f = (v: number): string => v.toFixed(4);
console.log(`${images} ${args.subset} masks (seed ${args.seed}); errors injected:`, injected);
console.log('| steps | teeth.f1 | precision | recall | chartAccuracy | meanToothDice | ms/mask |');
console.log('|---|---|---|---|---|---|---|');
const row = (name: string, acc: TeethAccumulator, t: number | undefined): void => {
  const m = acc.report().teeth;
  console.log(
    `| ${name} | ${f(m.f1)} | ${f(m.precision)} | ${f(m.recall)} | ${f(m.chartAccuracy)} | ` +
      `${f(m.meanToothDice)} | ${t === undefined ? '' : (t / images).toFixed(1)} |`,
  );
};
row('clean masks, arch', clean, undefined);
for (const [mode, acc] of byMode) row(mode, acc, ms[mode]);
