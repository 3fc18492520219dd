/**
 * Training speed on this machine: time a fixed number of U-Net training steps on real
 * ufba425 batches (256², batch 8, default augmentation, loader workers) at several encoder
 * widths, and extrapolate the epoch time over the 339 training images. Also reports the
 * share of step time spent waiting for data. Timings are perturbed by other jobs on the
 * two shared cores. Usage: tsx bench/train-step.ts [--widths 1,0.25] [--steps 3] [--size 256]
 * [--batch 8] [--channels 3] [--decoder-filters 128,64,32,16,16]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_AUGMENT } from '../src/augment/config.js';
import { createLoader, openDataset, validatePreprocessConfig } from '../src/data/index.js';
import { initEngine } from '../src/engine/index.js';
import { buildUnet } from '../src/model/index.js';
import { CallbackList } from '../src/train/callbacks.js';
import { Trainer, type CheckpointSink } from '../src/train/trainer.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const widths = arg('widths', '1,0.25').split(',').map(Number);
const steps = Number(arg('steps', '3'));
const size = Number(arg('size', '256'));
const batch = Number(arg('batch', '8'));
const channels = Number(arg('channels', '3')) as 1 | 3;
// e.g. --decoder-filters 128,64,32,16,16 (default: 256,128,64,32,16 × width)
const decoderArg = arg('decoder-filters', '');
const decoderFilters = decoderArg ? decoderArg.split(',').map(Number) : undefined;
const ufba = path.resolve(import.meta.dirname, '../../shared/data/ufba425');

const engine = await initEngine({ log: true });
const ds = await openDataset({
  images: path.join(ufba, 'images'),
  masks: path.join(ufba, 'masks'),
  split: path.join(ufba, 'split.csv'),
});
const preprocess = validatePreprocessConfig({ size: [size, size], channels, normalise: 'caffe' });
const noSink: CheckpointSink = {
  saveLast: async () => {},
  saveBest: async () => {},
  epochDone: async () => {},
};
const results = [];
for (const width of widths) {
  const model = buildUnet({
    inputSize: [size, size],
    channels,
    classes: 1,
    width,
    ...(decoderFilters ? { decoderFilters } : {}),
  });
  const trainer = new Trainer(
    model,
    { epochs: 1, learningRate: 1e-4, classes: 1, input: [size, size, channels] },
    new CallbackList([]),
    noSink,
  );
  const loader = createLoader({
    samples: ds.train,
    batchSize: batch,
    preprocess,
    augment: DEFAULT_AUGMENT,
    seed: 1,
    epoch: 0,
    shuffle: true,
  });
  const it = loader[Symbol.asyncIterator]();
  const times: number[] = [];
  let waitS = 0;
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const next = await it.next();
    const t1 = performance.now();
    if (next.done) break;
    await trainer.trainBatch(next.value);
    const t2 = performance.now();
    if (s > 0) {
      // step 0 is warm-up (kernel set-up, first allocations)
      times.push((t2 - t0) / 1000);
      waitS += (t1 - t0) / 1000;
    }
    console.error(
      `width ${width}: step ${s} ${((t2 - t0) / 1000).toFixed(2)} s (data ${((t1 - t0) / 1000).toFixed(2)} s)${s === 0 ? ' warm-up' : ''}`,
    );
  }
  await it.return?.();
  const perStep = times.reduce((a, b) => a + b, 0) / times.length;
  const stepsPerEpoch = Math.ceil(ds.train.length / batch);
  const r = {
    width,
    decoderFilters: decoderArg || 'default (256,128,64,32,16 × width)',
    params: model.countParams(),
    stepsTimed: times.length,
    secondsPerStep: perStep,
    secondsPerImage: perStep / batch,
    epochMinutes: (perStep * stepsPerEpoch) / 60,
    dataWaitShare: waitS / times.reduce((a, b) => a + b, 0),
  };
  console.error(JSON.stringify(r));
  results.push(r);
  model.dispose();
}
const out = {
  what: 'U-Net VGG16 training step on ufba425 train batches (default augmentation, loader workers)',
  date: new Date().toISOString(),
  backend: engine.backend,
  threads: engine.threads,
  size,
  batch,
  channels,
  trainImages: ds.train.length,
  loadAverage: os.loadavg(),
  note: 'two shared cores; other engineers\u2019 jobs perturb these timings',
  results,
};
mkdirSync(path.resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  path.resolve(import.meta.dirname, 'results/train-step.json'),
  JSON.stringify(out, null, 2) + '\n',
);
console.log(JSON.stringify(out, null, 2));
process.exit(0);
