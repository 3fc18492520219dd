/**
 * `npm run bench:int8`: the int8 ONNX file (`dentseg export --int8`) against its float
 * twin on one model folder, in one run: file sizes, ONNX Runtime for Node forward time at
 * the model's size (fp32 and int8 alternated, A B A B, so that load from other jobs falls
 * on both), ONNX Runtime Web in headless Chromium when it starts here, and the pooled Dice
 * of both on a data set's val part (a numbering model: on its FDI masks, with the union Dice,
 * mean tooth Dice, F1 and chart accuracy of both; int8-dice.ts). The CPU's flags (AVX-512,
 * VNNI) are recorded, since the int8 speed-up depends on them.
 *
 *   npm run bench:int8 -- [--model models/teeth-binary] [--pairs 10] [--web-pairs 3]
 *                         [--data ../shared/data/ufba425] [--no-dice] [--no-web]
 *                         [--json bench/results/int8.json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DEFAULT_MODEL_DIR, onnxMetadata } from '../src/infer/index.js';
import { INT8_ONNX_FILE, ONNX_FILE, onnxEngine } from '../src/infer/onnx-engine.node.js';
import { cpuFlags } from './cpu-flags.js';
import { int8Dice, type Int8DiceResult } from './int8-dice.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    pairs: { type: 'string', default: '10' },
    'web-pairs': { type: 'string', default: '3' },
    data: { type: 'string', default: path.resolve('../shared/data/ufba425') },
    'no-dice': { type: 'boolean', default: false },
    'no-web': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
};
const spread = (xs: readonly number[], d = 1) => ({
  median: round(quantile(xs, 0.5), d),
  min: round(Math.min(...xs), d),
  p25: round(quantile(xs, 0.25), d),
  p75: round(quantile(xs, 0.75), d),
  max: round(Math.max(...xs), d),
});
const load = (): number => round(os.loadavg()[0] ?? 0, 2);

const dir = path.resolve(args.model);
const files = { fp32: path.join(dir, ONNX_FILE), int8: path.join(dir, INT8_ONNX_FILE) };
if (!existsSync(files.int8)) {
  console.error(
    `no ${files.int8}: run dentseg export --model ${dir} --int8 --calibration IMAGES first`,
  );
  process.exit(1);
}
const meta = JSON.parse(readFileSync(path.join(dir, 'dentseg.json'), 'utf8')) as {
  input: { size: [number, number]; channels: number };
};
const [h, w] = meta.input.size;
const c = meta.input.channels;
const bytes = { fp32: readFileSync(files.fp32), int8: readFileSync(files.int8) };
const loadBefore = load();

// Input: a smooth pattern in the zscore range; speed does not depend on the values.
const x = new Float32Array(h * w * c).map((_, i) => Math.sin(i * 0.0007) * 1.5);

// --- ORT-node, A/B alternated
const pairs = Number(args.pairs);
const threads = Number(process.env.DENTSEG_THREADS ?? os.availableParallelism());
const fp32 = await onnxEngine(files.fp32, { threads });
const int8 = await onnxEngine(files.int8, { threads });
// CPU time of this process (ORT's threads included) beside wall time: on a shared machine
// waiting for a core inflates wall time, while CPU time counts only the work done.
const cpu = { fp32: [] as number[], int8: [] as number[], ratio: [] as number[] };
const time = async (e: typeof fp32, into?: number[]): Promise<number> => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await e.run(x, 1, h, w, c);
  const ms = performance.now() - t0;
  const used = process.cpuUsage(c0);
  into?.push((used.user + used.system) / 1000);
  return ms;
};
await time(fp32);
await time(int8);
const node = { fp32: [] as number[], int8: [] as number[], ratio: [] as number[] };
for (let i = 0; i < pairs; i++) {
  // which goes first alternates too (A B, B A, …), so neither always follows the other
  let f: number;
  let q: number;
  if (i % 2 === 0) {
    f = await time(fp32, cpu.fp32);
    q = await time(int8, cpu.int8);
  } else {
    q = await time(int8, cpu.int8);
    f = await time(fp32, cpu.fp32);
  }
  cpu.ratio.push(cpu.fp32.at(-1)! / cpu.int8.at(-1)!);
  node.fp32.push(f);
  node.int8.push(q);
  node.ratio.push(f / q);
  console.error(
    `pair ${i + 1}/${pairs}: fp32 ${f.toFixed(0)} ms (CPU ${cpu.fp32.at(-1)!.toFixed(0)}), int8 ${q.toFixed(0)} ms (CPU ${cpu.int8.at(-1)!.toFixed(0)})`,
  );
}
fp32.dispose();
int8.dispose();

// --- ORT-web in headless Chromium (2 threads when cross-origin isolated)
let web: Record<string, unknown> | undefined;
if (!args['no-web']) {
  try {
    const { startOrtWeb } = await import('./ort-web.js');
    const b = await startOrtWeb();
    const wp = { fp32: [] as number[], int8: [] as number[], ratio: [] as number[] };
    let info: { threads: number; isolated: boolean } | undefined;
    try {
      for (let i = 0; i < Number(args['web-pairs']); i++) {
        const rf = await b.time(bytes.fp32, x, [1, h, w, c], threads, 2);
        const rq = await b.time(bytes.int8, x, [1, h, w, c], threads, 2);
        info = { threads: rq.threads, isolated: rq.isolated };
        const f = Math.min(...rf.runs);
        const q = Math.min(...rq.runs);
        wp.fp32.push(f);
        wp.int8.push(q);
        wp.ratio.push(f / q);
        console.error(`web pair ${i + 1}: fp32 ${f.toFixed(0)} ms, int8 ${q.toFixed(0)} ms`);
      }
    } finally {
      await b.close();
    }
    web = {
      ...info,
      fp32Ms: spread(wp.fp32),
      int8Ms: spread(wp.int8),
      speedup: spread(wp.ratio, 2),
      runsMs: { fp32: wp.fp32.map((v) => round(v)), int8: wp.int8.map((v) => round(v)) },
    };
  } catch (err) {
    web = { error: String(err instanceof Error ? err.message : err).split('\n')[0] };
  }
}

// --- Dice on the val part (a numbering model: on the FDI masks, with its tooth scores)
let dice: Int8DiceResult | undefined;
if (!args['no-dice'] && existsSync(path.join(args.data, 'split.csv'))) {
  dice = await int8Dice(dir, args.data, 'val');
}

const gz = (b: Uint8Array): number => gzipSync(b, { level: 9 }).byteLength;
const result = {
  date: new Date().toISOString(),
  model: path.relative(process.cwd(), dir),
  size: [h, w],
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism(),
  cpuFlags: cpuFlags(),
  loadavg1: { before: loadBefore, after: load() },
  quantization: JSON.parse(onnxMetadata(bytes.int8).quantization ?? 'null') as unknown,
  bytes: {
    fp32: bytes.fp32.byteLength,
    int8: bytes.int8.byteLength,
    ratio: round(bytes.int8.byteLength / bytes.fp32.byteLength, 3),
    gzipFp32: gz(bytes.fp32),
    gzipInt8: gz(bytes.int8),
  },
  ortNode: {
    threads,
    pairs,
    fp32Ms: spread(node.fp32),
    int8Ms: spread(node.int8),
    speedup: spread(node.ratio, 2),
    runsMs: { fp32: node.fp32.map((v) => round(v)), int8: node.int8.map((v) => round(v)) },
    cpuMs: { fp32: spread(cpu.fp32), int8: spread(cpu.int8), speedup: spread(cpu.ratio, 2) },
  },
  ...(web ? { ortWeb: web } : {}),
  ...(dice ? { dice } : {}),
};
const text = JSON.stringify(result, null, 2);
console.log(text);
if (args.json) {
  mkdirSync(path.dirname(args.json), { recursive: true });
  writeFileSync(args.json, `${text}\n`);
}
