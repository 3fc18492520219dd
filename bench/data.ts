/**
 * `npm run bench:data`: how fast the loader feeds training. Images/s for decode +
 * pre-process + augment to 256² on ufba425 (512² JPEG) and on the full-size samples/
 * (≈ 2900×1300 PNG), in this thread and with 1 and 2 workers, plus a per-stage split.
 *
 *   npm run bench:data [-- --epochs 2 --size 256 --batch 8 --workers 0,1,2]
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bareJsonToStdout, writeJsonSync } from '../src/cli/json-output.js';
import { augmentSample, normaliseAugmentConfig, Rng } from '../src/augment/index.js';
import {
  createLoader,
  decodeImage,
  DEFAULT_AUGMENT,
  fillSegmentation,
  loadSample,
  maskToInput,
  normaliseGrey,
  openDataset,
  parseCoco,
  prepareGrey,
  validatePreprocessConfig,
  type SampleRef,
} from '../src/data/index.node.js';
import { SAMPLES, UFBA } from '../test/helpers/paths.js';

const { values: args } = parseArgs({
  // `--json [FILE]`: a bare --json prints to stdout, as in the dentseg commands
  args: bareJsonToStdout(process.argv.slice(2)),
  options: {
    epochs: { type: 'string', default: '1' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '8' },
    workers: { type: 'string', default: '0,1,2' },
    'step-ms': { type: 'string', default: '400' },
    json: { type: 'string' },
  },
});
const size = Number(args.size);
const batchSize = Number(args.batch);
const epochs = Number(args.epochs);
const workerCounts = args.workers.split(',').map(Number);
const preprocess = validatePreprocessConfig({
  size: [size, size],
  channels: 3,
  normalise: 'caffe',
});
const augment = normaliseAugmentConfig(DEFAULT_AUGMENT);

interface Row {
  data: string;
  workers: number | string;
  images: number;
  seconds: number;
  perSecond: number;
}

async function timeLoader(name: string, samples: SampleRef[], workers: number): Promise<Row> {
  const t0 = performance.now();
  let n = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const loader = createLoader({
      samples,
      batchSize,
      preprocess,
      augment: DEFAULT_AUGMENT,
      seed: 1,
      epoch,
      shuffle: true,
      workers,
    });
    for await (const b of loader) n += b.size;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { data: name, workers, images: n, seconds, perSecond: n / seconds };
}

/**
 * The consumer as a trainer: the main thread is busy `stepMs` per batch (a stand-in for a
 * training step); returns the share of wall time it waited in next().
 */
async function waitShare(
  samples: SampleRef[],
  workers: number,
  stepMs: number,
): Promise<Record<string, string | number>> {
  const loader = createLoader({
    samples,
    batchSize,
    preprocess,
    augment: DEFAULT_AUGMENT,
    seed: 1,
    epoch: 0,
    shuffle: true,
    workers,
  });
  const t0 = performance.now();
  let first = 0;
  let tFirst = 0;
  for await (const _ of loader) {
    void _;
    if (!tFirst) {
      tFirst = performance.now();
      first = loader.stats().waitMs;
    }
    const until = performance.now() + stepMs;
    while (performance.now() < until); // busy, like a synchronous training step
  }
  const rest = performance.now() - tFirst;
  const steady = loader.stats().waitMs - first;
  return {
    workers,
    'step ms': stepMs,
    batches: loader.length,
    'first batch ms': first.toFixed(0),
    'then waited ms': steady.toFixed(0),
    'wait share after the first batch': `${((100 * steady) / rest).toFixed(1)}%`,
    'wait share overall': `${((100 * loader.stats().waitMs) / (performance.now() - t0)).toFixed(1)}%`,
  };
}

/** In this thread, one sample at a time: where the time goes. */
async function stages(
  name: string,
  samples: SampleRef[],
): Promise<Record<string, number | string>> {
  const ms = { decode: 0, resize: 0, augment: 0, normalise: 0 };
  for (const [i, ref] of samples.entries()) {
    let t = performance.now();
    const { image, mask } = await loadSample(ref);
    ms.decode += performance.now() - t;
    t = performance.now();
    const { grey, geometry } = prepareGrey(image, preprocess);
    const m = maskToInput(mask, geometry);
    ms.resize += performance.now() - t;
    t = performance.now();
    const out = augmentSample(grey, m, size, size, augment, Rng.seeded(1, 0, i));
    ms.augment += performance.now() - t;
    t = performance.now();
    normaliseGrey(out.grey, preprocess);
    ms.normalise += performance.now() - t;
  }
  const per = (v: number): string => (v / samples.length).toFixed(2);
  return {
    data: name,
    'decode+mask ms': per(ms.decode),
    'resize ms': per(ms.resize),
    'augment ms': per(ms.augment),
    'normalise ms': per(ms.normalise),
  };
}

const ufba = await openDataset({
  images: path.join(UFBA, 'images'),
  masks: path.join(UFBA, 'masks'),
  split: path.join(UFBA, 'split.csv'),
});
const full = await openDataset({
  images: path.join(SAMPLES, 'images'),
  masks: path.join(SAMPLES, 'masks_teeth'),
  valFraction: 0,
});
// The 6 full-size panoramics repeated to 48 samples so the workers have a steady stream.
const fullSamples = Array.from({ length: 8 }, () => full.train).flat();
const sets: [string, SampleRef[]][] = [
  ['ufba425 train (512² JPEG)', ufba.train],
  ['samples/ (≈2900×1300 PNG) ×8', fullSamples],
];

const rows: Row[] = [];
for (const [name, samples] of sets)
  for (const w of workerCounts) rows.push(await timeLoader(name, samples, w));
const split = [
  await stages('ufba425', ufba.train.slice(0, 64)),
  await stages('samples/', full.train),
];

/** Rasterised COCO polygons vs ufba425/masks over all 382 images: mean and min IoU. */
async function cocoIou(): Promise<{ images: number; meanIoU: number; minIoU: number }> {
  const ious: number[] = [];
  for (const f of ['train_annotations.coco.json', 'valid_annotations.coco.json']) {
    const file = path.join(UFBA, 'coco', f);
    for (const im of parseCoco(JSON.parse(readFileSync(file, 'utf8')), file).images) {
      const truth = await decodeImage(
        path.join(UFBA, 'masks', im.fileName.replace(/\.[^.]+$/, '.png')),
      );
      const out = new Uint8Array(im.width * im.height);
      for (const s of im.shapes) fillSegmentation(out, im.width, im.height, s.segmentation, 1);
      let inter = 0;
      let union = 0;
      for (let i = 0; i < out.length; i++) {
        const t = truth.data[i]! > 127;
        if (t && out[i]) inter++;
        if (t || out[i]) union++;
      }
      ious.push(union ? inter / union : 1);
    }
  }
  return {
    images: ious.length,
    meanIoU: ious.reduce((a, b) => a + b, 0) / ious.length,
    minIoU: Math.min(...ious),
  };
}
const coco = await cocoIou();
const stepMs = Number(args['step-ms']);
const waits = [];
for (const w of workerCounts) waits.push(await waitShare(ufba.train.slice(0, 128), w, stepMs));

if (args.json !== undefined)
  writeJsonSync(args.json, { size, batchSize, epochs, cpus: os.cpus().length, rows, split });
// The tables print unless the JSON took stdout.
if (args.json !== '-') {
  console.log(
    `decode + pre-process + augment to ${size}², batch ${batchSize}, ${epochs} epoch(s), ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
  );
  console.log('\n| data | workers | images | s | images/s |\n|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.data} | ${r.workers} | ${r.images} | ${r.seconds.toFixed(2)} | ${r.perSecond.toFixed(1)} |`,
    );
  console.log('\nPer sample, in this thread:\n');
  const keys = Object.keys(split[0]!);
  console.log(`| ${keys.join(' | ')} |\n|${keys.map(() => '---').join('|')}|`);
  for (const s of split) console.log(`| ${keys.map((k) => s[k]).join(' | ')} |`);
  console.log(
    `\nWaiting for data while the main thread is busy ${stepMs} ms per batch of ${batchSize} (ufba425, 128 samples):\n`,
  );
  const wk = Object.keys(waits[0]!);
  console.log(`| ${wk.join(' | ')} |\n|${wk.map(() => '---').join('|')}|`);
  for (const r of waits) console.log(`| ${wk.map((k) => r[k]).join(' | ')} |`);
  console.log(
    `\nCOCO polygons rasterised vs ufba425/masks: ${coco.images} images, mean IoU ${coco.meanIoU.toFixed(4)}, min ${coco.minIoU.toFixed(4)}`,
  );
}
