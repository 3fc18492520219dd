/**
 * Training speed on this machine: time a fixed number of U-Net training steps on real
 * ufba425 batches (256², batch 8, augmentation, loader workers) at several encoder widths,
 * and extrapolate the epoch time over the training images. Also reports the share of step
 * time spent waiting for data. Timings are perturbed by other jobs on the shared cores.
 *
 *   tsx bench/train-step.ts [--widths 1,0.25] [--steps 3] [--size 256] [--batch 8]
 *     [--channels 3] [--normalise caffe] [--decoder-filters 128,64,32,16,16]
 *     [--backend torch] [--augment default|seed|none]
 *     [--multiclass [--masks DIR] [--classes-file FILE]] [--ab] [--rounds 1]
 *     [--phases] [--profile] [--json bench/results/train-step.json]
 *
 * `--multiclass` times the class-index task (default ufba425 `masks_fdi` with
 * `classes_fdi.json`: 33 classes, softmax head, CE + soft Dice, flip class swap);
 * `--ab` times it against its binary twin (same network but a 1-class head on `masks`),
 * alternating binary and multi-class `--rounds` times so that load from other jobs falls on
 * both alike. `--phases` splits a step (on the last batch) into target tensor, forward,
 * loss + its gradient w.r.t. the prediction, batch counts, and the rest (backward through
 * the network and Adam); it also times one sample's decode + augment in this thread.
 * `--profile` adds the heaviest kernels of one step (tf.profile).
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bareJsonToStdout, writeJsonSync } from '../src/cli/json-output.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import { DEFAULT_AUGMENT } from '../src/augment/config.js';
import { normaliseAugmentConfig, type AugmentConfig } from '../src/augment/config.js';
import {
  createLoader,
  openDataset,
  validatePreprocessConfig,
  type Dataset,
} from '../src/data/index.node.js';
import { prepareSample } from '../src/data/pipeline.js';
import { initEngine, tf, type BackendName } from '../src/engine/index.js';
import { buildUnet } from '../src/model/index.js';
import { CallbackList } from '../src/train/callbacks.js';
import { batchCounts, segmentationLoss, targetTensor } from '../src/train/losses.js';
import { SEED_AUGMENT } from '../src/train/seed-augment.js';
import { Trainer, type Batch, type CheckpointSink } from '../src/train/trainer.js';

const ufba = path.resolve(import.meta.dirname, '../../shared/data/ufba425');
const { values: args } = parseArgs({
  // `--json [FILE]`: a bare --json prints to stdout, as in the dentseg commands
  args: bareJsonToStdout(process.argv.slice(2)),
  options: {
    widths: { type: 'string', default: '1,0.25' },
    steps: { type: 'string', default: '3' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '8' },
    channels: { type: 'string', default: '3' },
    normalise: { type: 'string', default: 'caffe' },
    'decoder-filters': { type: 'string', default: '' },
    backend: { type: 'string' },
    augment: { type: 'string', default: 'default' },
    multiclass: { type: 'boolean', default: false },
    masks: { type: 'string' },
    'classes-file': { type: 'string' },
    ab: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    phases: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    json: { type: 'string', default: path.resolve(import.meta.dirname, 'results/train-step.json') },
  },
});
const widths = args.widths.split(',').map(Number);
const steps = Number(args.steps);
const size = Number(args.size);
const batch = Number(args.batch);
const channels = Number(args.channels) as 1 | 3;
const rounds = Math.max(1, Number(args.rounds));
// e.g. --decoder-filters 128,64,32,16,16 (default: 256,128,64,32,16 × width)
const decoderArg = args['decoder-filters'];
const decoderFilters = decoderArg ? decoderArg.split(',').map(Number) : undefined;
const augments: Record<string, AugmentConfig | undefined> = {
  default: DEFAULT_AUGMENT,
  seed: SEED_AUGMENT,
  none: undefined,
};
if (!(args.augment in augments)) throw new Error('--augment must be default, seed or none');
const augment = augments[args.augment];

const engine = await initEngine({
  log: true,
  ...(args.backend ? { backend: args.backend as BackendName } : {}),
});
type Task = 'binary' | 'multiclass';
const tasks: Task[] = args.ab
  ? ['binary', 'multiclass']
  : [args.multiclass ? 'multiclass' : 'binary'];
const datasets = new Map<Task, Dataset>();
for (const task of tasks) {
  const multiclass = task === 'multiclass';
  datasets.set(
    task,
    await openDataset({
      images: path.join(ufba, 'images'),
      masks: multiclass ? (args.masks ?? path.join(ufba, 'masks_fdi')) : path.join(ufba, 'masks'),
      split: path.join(ufba, 'split.csv'),
      ...(multiclass
        ? { multiclass: true, classes: args['classes-file'] ?? path.join(ufba, 'classes_fdi.json') }
        : {}),
    }),
  );
}
const preprocess = validatePreprocessConfig({
  size: [size, size],
  channels,
  normalise: args.normalise as 'caffe',
});
const noSink: CheckpointSink = {
  saveLast: async () => {},
  saveBest: async () => {},
  epochDone: async () => {},
};
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (t0: number): number => performance.now() - t0;

/** Median milliseconds of `fn` over `n` calls after one warm-up. */
async function timeIt(fn: () => unknown, n = 3): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(ms(t0));
  }
  return median(out);
}

interface Row {
  task: Task;
  round: number;
  width: number;
  classes: number;
  decoderFilters: string;
  params: number;
  stepsTimed: number;
  secondsPerStep: number;
  stepSeconds: number[];
  secondsPerImage: number;
  epochMinutes: number;
  dataWaitShare: number;
  loadavg1: number;
  phasesMs?: Record<string, number>;
  profile?: { kernel: string; ms: number; share: number }[];
}

async function phases(
  trainer: Trainer,
  b: Batch,
  classes: number,
  ds: Dataset,
): Promise<Record<string, number>> {
  const model = trainer.model;
  const loss = segmentationLoss({ classes });
  const x = tf.tensor4d(b.images, [b.size, size, size, channels]);
  const y = targetTensor(b.masks, b.size, size, size, classes);
  const out: Record<string, number> = {};
  out.target = await timeIt(() => targetTensor(b.masks, b.size, size, size, classes).dispose());
  out.forward = await timeIt(() =>
    tf.tidy(() => {
      (model.apply(x, { training: true }) as Tensor).dataSync();
    }),
  );
  const pred = tf.tidy(() => model.apply(x, { training: false }) as Tensor);
  out.lossForward = await timeIt(() => tf.tidy(() => loss(y, pred).dataSync()));
  out.lossWithGradient = await timeIt(() =>
    tf.tidy(() => {
      tf.grad((p: Tensor) => loss(y, p))(pred).dataSync();
    }),
  );
  out.counts = await timeIt(() => tf.tidy(() => batchCounts(y, pred).dataSync()));
  out.step = await timeIt(() => trainer.trainBatch(b));
  out.rest = out.step - out.target - out.forward - out.lossWithGradient - out.counts;
  // One sample's decode + pre-process + augment + normalise in this thread (the loader
  // runs this in workers, so it costs step time only when they cannot keep up).
  const norm = augment
    ? normaliseAugmentConfig({
        transforms: augment.transforms,
        ...(ds.flipClassMap ? { flipClassMap: ds.flipClassMap } : {}),
        ...(ds.vflipClassMap ? { vflipClassMap: ds.vflipClassMap } : {}),
      })
    : undefined;
  const sampleRuns: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    await prepareSample(ds.train[i]!, i, preprocess, norm, 1, 0);
    if (i > 0) sampleRuns.push(ms(t0));
  }
  out.samplePrepare = median(sampleRuns);
  tf.dispose([x, y, pred]);
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10) / 10;
  return out;
}

async function profileStep(trainer: Trainer, b: Batch): Promise<NonNullable<Row['profile']>> {
  const prof = await tf.profile(async () => {
    await trainer.trainBatch(b);
  });
  const byKernel = new Map<string, number>();
  for (const k of prof.kernels) {
    if (k.name.endsWith('__op')) continue; // custom-gradient wrappers repeat their kernel's time
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + t);
  }
  const total = sum([...byKernel.values()]);
  return [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 14)
    .map(([kernel, t]) => ({
      kernel,
      ms: Math.round(t),
      share: Math.round((t / total) * 1000) / 1000,
    }));
}

async function run(task: Task, width: number, round: number): Promise<Row> {
  const ds = datasets.get(task)!;
  const classes = task === 'multiclass' ? ds.classes.length : 1;
  const model = buildUnet({
    inputSize: [size, size],
    channels,
    classes,
    width,
    ...(decoderFilters ? { decoderFilters } : {}),
  });
  const trainer = new Trainer(
    model,
    { epochs: 1, learningRate: 1e-4, classes, input: [size, size, channels] },
    new CallbackList([]),
    noSink,
  );
  const loader = createLoader({
    samples: ds.train,
    batchSize: batch,
    preprocess,
    augment,
    seed: 1 + round,
    epoch: 0,
    shuffle: true,
    flipClassMap: ds.flipClassMap,
    vflipClassMap: ds.vflipClassMap,
  });
  const it = loader[Symbol.asyncIterator]();
  const times: number[] = [];
  let waitS = 0;
  let last: Batch | undefined;
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const next = await it.next();
    const t1 = performance.now();
    if (next.done) break;
    await trainer.trainBatch(next.value);
    const t2 = performance.now();
    last = next.value;
    if (s > 0) {
      // step 0 is warm-up (kernel set-up, first allocations)
      times.push((t2 - t0) / 1000);
      waitS += (t1 - t0) / 1000;
    }
    console.error(
      `${task} width ${width}: step ${s} ${((t2 - t0) / 1000).toFixed(2)} s (data ${((t1 - t0) / 1000).toFixed(2)} s)${s === 0 ? ' warm-up' : ''}`,
    );
  }
  await it.return?.();
  const perStep = sum(times) / times.length;
  const stepsPerEpoch = Math.ceil(ds.train.length / batch);
  const r: Row = {
    task,
    round,
    width,
    classes,
    decoderFilters: decoderArg || 'default (256,128,64,32,16 × width)',
    params: model.countParams(),
    stepsTimed: times.length,
    secondsPerStep: perStep,
    stepSeconds: times.map((t) => Math.round(t * 1000) / 1000),
    secondsPerImage: perStep / batch,
    epochMinutes: (perStep * stepsPerEpoch) / 60,
    dataWaitShare: waitS / sum(times),
    loadavg1: os.loadavg()[0]!,
  };
  if (args.phases && last) r.phasesMs = await phases(trainer, last, classes, ds);
  if (args.profile && last) r.profile = await profileStep(trainer, last);
  console.error(JSON.stringify(r));
  model.dispose();
  return r;
}

const results: Row[] = [];
for (const width of widths) {
  for (let round = 0; round < rounds; round++) {
    for (const task of tasks) results.push(await run(task, width, round));
  }
}
const summary = tasks.map((task) => {
  const rows = results.filter((r) => r.task === task);
  return {
    task,
    medianSecondsPerStep: median(rows.flatMap((r) => r.stepSeconds)),
    minSecondsPerStep: Math.min(...rows.flatMap((r) => r.stepSeconds)),
  };
});
const out = {
  what: 'U-Net VGG16 training step on ufba425 train batches (augmentation in loader workers)',
  date: new Date().toISOString(),
  cpu: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`,
  backend: engine.backend,
  threads: engine.threads,
  size,
  batch,
  channels,
  normalise: args.normalise,
  augment: args.augment,
  trainImages: datasets.get(tasks[0]!)!.train.length,
  loadAverage: os.loadavg(),
  note: 'shared cores; other engineers\u2019 jobs perturb these timings',
  summary,
  results,
};
// The JSON goes to stdout in any case; a bare --json (`-`) means stdout only.
if (args.json !== '-') writeJsonSync(args.json, out);
console.log(JSON.stringify(out, null, 2));
process.exit(0);
