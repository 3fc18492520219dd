/**
 * `npm run bench:robustness`: pooled Dice of a model under each degradation of a fixed grid
 * (noise, blur, motion, contrast, gamma, downscale, JPEG at three or two levels; the middle
 * one is "the middle level"), on ufba425 val and samples/, with and without enhancement.
 * Writes the table as JSON and as a PNG chart.
 *
 *   npm run bench:robustness [-- --quick --model DIR --enhance none,auto --seed 0
 *     --json bench/results/robustness.json --png bench/results/robustness.png]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bareJsonToStdout, writeJsonSync } from '../src/cli/json-output.js';
import { openDataset, type Dataset } from '../src/data/index.node.js';
import { initEngine, type BackendName } from '../src/engine/index.js';
import { evaluateModel, type Subset } from '../src/evaluate/index.js';
import { DEFAULT_MODEL_DIR, loadModel, type LoadedModel } from '../src/infer/index.js';
import { imagingPlanFromCli, withEnhance } from '../src/cli/imaging-options.js';
import { REPO_ROOT, SAMPLES, UFBA } from '../test/helpers/paths.js';
import { renderRobustness, type RobustnessPanel } from './robustness-chart.js';

/** The fixed grid: kind → levels, mild to strong; `--quick` takes the middle one. */
export const GRID: Readonly<Record<string, readonly number[]>> = {
  noise: [0.02, 0.05, 0.1],
  blur: [1, 2, 3],
  motion: [5, 10, 20],
  contrast: [0.7, 0.5, 0.3],
  gamma: [0.6, 1.6],
  downscale: [2, 3, 4],
  jpeg: [50, 30, 15],
};

/** The middle level of a kind (of two, the second: gamma 1.6 darkens, as underexposure). */
const middle = (levels: readonly number[]): number => levels[Math.floor(levels.length / 2)]!;

const { values: args } = parseArgs({
  // `--json [FILE]`: a bare --json prints to stdout, as in the dentseg commands
  args: bareJsonToStdout(process.argv.slice(2)),
  options: {
    model: { type: 'string' },
    quick: { type: 'boolean', default: false },
    enhance: { type: 'string', default: 'none' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string' },
    json: { type: 'string', default: path.join(REPO_ROOT, 'bench/results/robustness.json') },
    png: { type: 'string', default: path.join(REPO_ROOT, 'bench/results/robustness.png') },
    'chart-only': { type: 'boolean', default: false },
  },
});

interface Row {
  spec: string;
  enhance: string;
  dice: number;
  perImageDice: number | null;
  deltaVsClean: number;
  ms: number;
}
interface SetResult {
  dataset: string;
  images: number;
  clean: Record<string, number>;
  rows: Row[];
}

/** Draw the chart of a results file (also after each data set, so a late failure loses nothing). */
async function writeChart(
  name: string,
  version: string,
  results: readonly SetResult[],
): Promise<void> {
  const panels: RobustnessPanel[] = results.map((r) => ({
    title: `${name} ${version}: ${r.dataset} (${r.images} images), pooled Dice`,
    clean: r.clean,
    points: r.rows.filter((x) => x.spec !== 'clean'),
  }));
  writeFileSync(args.png, await renderRobustness(panels));
}

if (args['chart-only']) {
  const saved = JSON.parse(readFileSync(args.json, 'utf8')) as {
    model: { name: string; version: string };
    results: SetResult[];
  };
  await writeChart(saved.model.name, saved.model.version, saved.results);
  console.log(JSON.stringify({ png: args.png }));
  process.exit(0);
}

const specs = Object.entries(GRID).flatMap(([kind, levels]) =>
  (args.quick ? [middle(levels)] : levels).map((l) => `${kind}:${l}`),
);
const modes = args.enhance.split(',').map((m) => m.trim());
const load = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);
const loadBefore = load();
await initEngine({ ...(args.backend ? { backend: args.backend as BackendName } : {}), log: true });
const modelDir = args.model ?? DEFAULT_MODEL_DIR;
const model: LoadedModel = await loadModel(modelDir);

const sets: { name: string; subset: Subset; open: () => Promise<Dataset> }[] = [
  {
    name: 'ufba425 val',
    subset: 'val',
    open: () =>
      openDataset({
        images: path.join(UFBA, 'images'),
        masks: path.join(UFBA, 'masks'),
        split: path.join(UFBA, 'split.csv'),
      }),
  },
  {
    name: 'samples',
    subset: 'all',
    open: () =>
      openDataset({
        images: path.join(SAMPLES, 'images'),
        masks: path.join(SAMPLES, 'masks_teeth'),
      }),
  },
];

if (args['chart-only'] && args.json === '-')
  throw new Error('--chart-only reads the results from --json FILE, not stdout');
const toStdout = args.json === '-';
if (!toStdout) mkdirSync(path.dirname(args.json), { recursive: true });
const t0 = performance.now();
const results: SetResult[] = [];
for (const set of sets) {
  const dataset = await set.open();
  const clean: Record<string, number> = {};
  const rows: Row[] = [];
  let images = 0;
  for (const spec of ['none', ...specs]) {
    for (const enhance of modes) {
      const plan = imagingPlanFromCli({ degrade: spec, degradeSeed: args.seed, enhance });
      const t = performance.now();
      const { report } = await evaluateModel(withEnhance(model, plan.enhance), dataset, {
        subset: set.subset,
        ...(plan.transform ? { transformImage: plan.transform } : {}),
      });
      images = report.images;
      const dice = report.pooled.dice;
      if (spec === 'none') clean[enhance] = dice;
      const row: Row = {
        spec: spec === 'none' ? 'clean' : spec,
        enhance,
        dice: Math.round(dice * 10000) / 10000,
        perImageDice:
          report.perImage.dice === null ? null : Math.round(report.perImage.dice * 10000) / 10000,
        deltaVsClean: Math.round((dice - (clean.none ?? clean[enhance]!)) * 10000) / 10000,
        ms: Math.round(performance.now() - t),
      };
      rows.push(row);
      console.error(
        `${set.name} ${row.spec.padEnd(14)} enhance ${enhance.padEnd(5)} Dice ${row.dice.toFixed(4)} ` +
          `(${row.deltaVsClean >= 0 ? '+' : ''}${row.deltaVsClean.toFixed(4)}) ${row.ms} ms`,
      );
    }
  }
  results.push({ dataset: set.name, images, clean, rows });
  if (!toStdout) writeJsonSync(args.json, output());
  await writeChart(model.meta.name, model.meta.version, results);
}
model.dispose();

/** The JSON document so far. */
function output(): Record<string, unknown> {
  return {
    benchmark: 'robustness',
    model: {
      dir: path.relative(REPO_ROOT, modelDir),
      name: model.meta.name,
      version: model.meta.version,
    },
    engine: model.engine.name,
    quick: args.quick,
    seed: Number(args.seed),
    enhance: modes,
    grid: GRID,
    note: 'pooled Dice; deltaVsClean against the clean score without enhancement',
    loadavgBefore: loadBefore,
    loadavgAfter: load(),
    elapsedMs: Math.round(performance.now() - t0),
    results,
  };
}
if (toStdout) writeJsonSync('-', output());
else
  console.log(
    JSON.stringify({
      json: args.json,
      png: args.png,
      elapsedMs: Math.round(performance.now() - t0),
    }),
  );
