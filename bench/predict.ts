/**
 * `npm run bench:predict`: end-to-end milliseconds per full-size samples/ X-ray, split by
 * stage (decode, pre-process, forward, resize back, post-process + findings, encode
 * outputs), and images/s over the folder at concurrency 1 and 2. Uses the bundled model
 * when present, else a width-0.25 random-init U-Net at 256² (the JSON says which).
 *
 *   npm run bench:predict [-- --model DIR --repeat 1 --concurrency 1,2 --backend wasm]
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine, type BackendName } from '../src/engine/index.js';
import { encodeMaskPng, loadModel, predictBatch, segment } from '../src/infer/index.js';
import { REPO_ROOT, SAMPLES } from '../test/helpers/paths.js';
import { modelUnderTest } from './model-under-test.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,2' },
    backend: { type: 'string' },
  },
});

const info = await initEngine({
  ...(args.backend ? { backend: args.backend as BackendName } : {}),
  log: true,
});
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-bench-predict-'));

const { dir, description } = await modelUnderTest(args.model, tmp);
const model = await loadModel(dir);
const files = readdirSync(path.join(SAMPLES, 'images'))
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => path.join(SAMPLES, 'images', f));
const repeat = Math.max(1, Number(args.repeat));

// Warm-up: first-call kernel compilation and allocation are not what a user waits for twice.
await segment(model, files[0]!);

const STAGES = [
  'decode',
  'quality',
  'preprocess',
  'forward',
  'restore',
  'postprocess',
  'findings',
  'encode',
];
const perImage: Record<string, unknown>[] = [];
const sums: Record<string, number> = Object.fromEntries(STAGES.map((s) => [s, 0]));
let totalSum = 0;
for (let r = 0; r < repeat; r++) {
  for (const file of files) {
    const t0 = performance.now();
    const res = await segment(model, file);
    const te = performance.now();
    await Promise.all([encodeMaskPng(res), res.overlay()]);
    JSON.stringify(res.findings);
    const encode = performance.now() - te;
    const total = performance.now() - t0;
    const stages: Record<string, number> = { ...res.timings, encode: Math.round(encode * 10) / 10 };
    for (const s of STAGES) sums[s]! += stages[s] ?? 0;
    totalSum += total;
    perImage.push({
      image: path.basename(file),
      width: res.width,
      height: res.height,
      totalMs: Math.round(total),
      stages,
    });
  }
}
const n = files.length * repeat;
const meanStages = Object.fromEntries(STAGES.map((s) => [s, Math.round(sums[s]! / n)]));

const throughput: {
  concurrency: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
}[] = [];
for (const c of args.concurrency!.split(',').map(Number)) {
  const out = path.join(tmp, `out-${c}`);
  const t0 = performance.now();
  const res = await predictBatch(model, {
    inputs: [path.join(SAMPLES, 'images')],
    outputDir: out,
    threshold: 0.5,
    tta: false,
    concurrency: c,
    keepDicomTags: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  throughput.push({
    concurrency: c,
    images: res.items.length,
    seconds: Math.round(seconds * 100) / 100,
    imagesPerSecond: Math.round((res.items.length / seconds) * 100) / 100,
  });
}
model.dispose();
rmSync(tmp, { recursive: true, force: true });

const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')} at the end`,
  note: 'measured on a shared machine while other jobs ran: timings are perturbed',
  backend: info.backend,
  threads: info.threads,
  model: description,
  modelMeta: {
    name: model.meta.name,
    version: model.meta.version,
    width: model.meta.architecture.width,
    inputSize: model.meta.input.size,
    metrics: model.meta.metrics ?? null,
  },
  preprocessSize: model.meta.preprocess.size,
  images: files.length,
  repeat,
  meanMsPerImage: Math.round(totalSum / n),
  meanStagesMs: meanStages,
  perImage,
  throughput,
};
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
const outFile = path.join(REPO_ROOT, 'bench', 'results', `predict-${info.backend}.json`);
writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');

console.log(`model: ${description}; backend ${info.backend} (${info.threads} threads)`);
console.log(`end-to-end per full-size sample: ${result.meanMsPerImage} ms (mean of ${n})`);
console.log('  stages (ms): ' + STAGES.map((s) => `${s} ${meanStages[s]}`).join(', '));
for (const t of throughput) {
  console.log(
    `  concurrency ${t.concurrency}: ${t.imagesPerSecond} images/s (${t.images} in ${t.seconds} s)`,
  );
}
console.log(`written: ${path.relative(process.cwd(), outFile)}`);
