/**
 * `npm run bench:quality`: the panoramic check (src/imaging/panoramic.ts) on material it
 * was not fitted on — real panoramics (ufba425 val, samples/ including the edentulous
 * abdi-5, dc1000-caries/): false-rejection rate, target ≤ 1 %; negatives of another seed of
 * the generator (cut from ufba425 val and samples/ where a kind needs a panoramic):
 * detection rate, target ≥ 95 %. Writes bench/results/quality.json.
 *
 *   npm run bench:quality [-- --seed 2 --per-kind 40 --json bench/results/quality.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { GreyImage } from '../src/data/index.js';
import { NEGATIVE_KINDS, type NegativeKind } from '../src/imaging/negatives.js';
import { checkInput, type InputQuality } from '../src/imaging/panoramic.js';
import { REPO_ROOT } from '../test/helpers/paths.js';
import { heldOutPanoramics, load, negatives } from '../scripts/quality-data.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '2' },
    'per-kind': { type: 'string', default: '40' },
    json: { type: 'string', default: path.join(REPO_ROOT, 'bench/results/quality.json') },
  },
});
const seed = Number(args.seed);
const perKind = Number(args['per-kind']);
const started = performance.now();
const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

// Real panoramics: every one should pass.
const sets = heldOutPanoramics();
const positives: Record<string, { images: number; rejected: number }> = {};
const rejected: { set: string; file: string; quality: InputQuality }[] = [];
const issuesOnPanoramics: Record<string, number> = {};
for (const [set, files] of Object.entries(sets)) {
  let bad = 0;
  for (const file of files) {
    const q = checkInput(await load(file));
    for (const i of q.issues) issuesOnPanoramics[i] = (issuesOnPanoramics[i] ?? 0) + 1;
    if (!q.panoramic) {
      bad++;
      rejected.push({ set, file: path.basename(file), quality: q });
    }
  }
  positives[set] = { images: files.length, rejected: bad };
  console.error(`${set}: ${bad} of ${files.length} rejected`);
}
const realTotal = Object.values(positives).reduce((a, s) => a + s.images, 0);
const realRejected = rejected.length;

// Held-out negatives: every one should be flagged.
const sources = [...sets['ufba425-val']!, ...sets.samples!];
const perKindResult: Record<string, { images: number; detected: number }> = {};
const missed: { kind: NegativeKind; index: number; quality: InputQuality }[] = [];
const checked: { kind: NegativeKind; index: number; quality: InputQuality }[] = [];
await negatives(seed, perKind, sources, (kind: NegativeKind, image: GreyImage, index: number) => {
  checked.push({ kind, index, quality: checkInput(image) });
});
for (const kind of NEGATIVE_KINDS) {
  const mine = checked.filter((c) => c.kind === kind);
  const detected = mine.filter((c) => !c.quality.panoramic).length;
  perKindResult[kind] = { images: mine.length, detected };
  missed.push(...mine.filter((c) => c.quality.panoramic));
}
const negTotal = checked.length;
const negDetected = negTotal - missed.length;
const invertedFlagged = checked.filter(
  (c) => c.kind === 'inverted' && c.quality.issues.includes('inverted?'),
).length;

const result = {
  command: `npm run bench:quality -- --seed ${seed} --per-kind ${perKind}`,
  date: new Date().toISOString(),
  machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`,
  seconds: round((performance.now() - started) / 1000, 1),
  realPanoramics: {
    images: realTotal,
    rejected: realRejected,
    falseRejectionRate: round(realRejected / realTotal),
    target: '≤ 0.01',
    perSet: positives,
    rejectedImages: rejected,
    issuesRaised: issuesOnPanoramics,
  },
  heldOutNegatives: {
    seed,
    images: negTotal,
    detected: negDetected,
    detectionRate: round(negDetected / negTotal),
    target: '≥ 0.95',
    perKind: perKindResult,
    invertedNamedAsInverted: invertedFlagged,
    missed: missed.map((m) => ({ kind: m.kind, index: m.index, score: m.quality.score })),
  },
};
mkdirSync(path.dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
console.log(
  `real panoramics: ${realRejected}/${realTotal} rejected (${(100 * result.realPanoramics.falseRejectionRate).toFixed(2)} %); ` +
    `held-out negatives: ${negDetected}/${negTotal} detected (${(100 * result.heldOutNegatives.detectionRate).toFixed(2)} %); ` +
    `wrote ${args.json}`,
);
