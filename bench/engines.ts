/**
 * `npm run bench:engines`: forward milliseconds per image of the VGG-16 U-Net (random
 * weights; speed does not depend on them) on every inference engine dentseg has —
 * tfjs-wasm, ONNX Runtime for Node with 1 and 2 threads, and ONNX Runtime Web (wasm SIMD,
 * threads when cross-origin isolated) in headless Chromium — with GFLOPS from an analytic
 * FLOP count — and PyTorch (bench/pytorch_unet.py, the same network in inference mode, NCHW)
 * when a Python that imports torch is found: its row alternates with ORT-node at 2 threads
 * run by run (ORT, PyTorch, ORT, ...) and `vsPytorch` gives ORT's speed ÷ PyTorch's (> 1 =
 * ORT faster), the median of those pairs. The CPU may be shared: the load average before
 * and after is recorded.
 *
 *   npm run bench:engines -- [--sizes 256,512] [--widths 1,0.25] [--runs 3]
 *                            [--engines tfjs-wasm,ort-node-1,ort-node-2,ort-web-1,ort-web-2,pytorch]
 *                            [--json bench/results/inference-engines.json] [--spinning]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { bareJsonToStdout, writeJsonSync } from '../src/cli/json-output.js';
import { initEngine, tf } from '../src/engine/index.js';
import { tfjsEngine } from '../src/infer/tfjs-engine.js';
import type { InferenceEngine } from '../src/infer/types.js';
import { buildUnet } from '../src/model/index.js';
import { onnxEngine } from '../src/infer/index.js';
import { layersModelToOnnx } from '../src/onnx/index.js';
import { forwardFlops } from './flops.js';
import { ortVsPytorch, type VsPytorch } from './ort-vs-pytorch.js';
import { findPytorch } from './pytorch.js';

const ENGINES = [
  'tfjs-wasm',
  'ort-node-1',
  'ort-node-2',
  'ort-web-1',
  'ort-web-2',
  'pytorch',
] as const;
type EngineId = (typeof ENGINES)[number];

interface Row {
  engine: EngineId;
  threads: number;
  width: number;
  size: number;
  gflop: number;
  msPerImage: number;
  msMin: number;
  gflops: number;
  /** From the fastest run: the closest to an idle machine when the CPU is shared. */
  gflopsBest: number;
  runs: number;
  loadavg1: number;
}

const { values: args } = parseArgs({
  // `--json [FILE]`: a bare --json prints to stdout, as in the dentseg commands
  args: bareJsonToStdout(process.argv.slice(2)),
  options: {
    sizes: { type: 'string', default: '256,512' },
    widths: { type: 'string', default: '1,0.25' },
    runs: { type: 'string', default: '3' },
    engines: { type: 'string', default: ENGINES.join(',') },
    json: { type: 'string' },
    spinning: { type: 'boolean', default: false },
  },
});
const sizes = args.sizes.split(',').map(Number);
const widths = args.widths.split(',').map(Number);
const runs = Math.max(1, Number(args.runs));
const engines = args.engines.split(',').filter((e): e is EngineId => {
  if ((ENGINES as readonly string[]).includes(e)) return true;
  throw new Error(`--engines: unknown engine "${e}" (known: ${ENGINES.join(', ')})`);
});

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** One warm-up call, then `runs` timed calls; milliseconds per call. */
async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const engineInfo = await initEngine({ backend: 'wasm', threads: 2 });
  const load0 = os.loadavg();
  console.error(
    `bench:engines on ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, load ${load0.map((l) => l.toFixed(2)).join(' ')}; tfjs backend ${engineInfo.backend} (${engineInfo.threads} threads)`,
  );
  const rows: Row[] = [];
  const vsPytorch: VsPytorch[] = [];
  const python = engines.includes('pytorch') ? findPytorch() : undefined;
  if (engines.includes('pytorch') && !python) {
    console.error(
      '  pytorch: skipped, no python3 here can import torch (apt-get install python3-torch)',
    );
  }
  const web = engines.filter((e) => e.startsWith('ort-web'));
  const webBench = web.length ? await import('./ort-web.js') : undefined;
  const browser = webBench ? await webBench.startOrtWeb() : undefined;
  try {
    for (const width of widths) {
      for (const size of sizes) {
        const model = buildUnet({ inputSize: [size, size], channels: 3, classes: 1, width });
        const gflop = forwardFlops(model) / 1e9;
        const onnx = layersModelToOnnx(model);
        const x = tf.tidy(
          () =>
            tf
              .randomUniform([1, size, size, 3], -120, 150, 'float32', 1)
              .dataSync() as Float32Array,
        );
        const record = (engine: EngineId, threads: number, ms: readonly number[]): void => {
          const row: Row = {
            engine,
            threads,
            width,
            size,
            gflop: +gflop.toFixed(2),
            msPerImage: +median(ms).toFixed(1),
            msMin: +Math.min(...ms).toFixed(1),
            gflops: +(gflop / (median(ms) / 1000)).toFixed(1),
            gflopsBest: +(gflop / (Math.min(...ms) / 1000)).toFixed(1),
            runs: ms.length,
            loadavg1: +(os.loadavg()[0] ?? 0).toFixed(2),
          };
          rows.push(row);
          console.error(
            `  width ${width} ${size}² ${engine.padEnd(10)} ${String(row.msPerImage).padStart(8)} ms/image  ${String(row.gflops).padStart(6)} GFLOPS  (${gflop.toFixed(1)} GFLOP, load ${row.loadavg1})`,
          );
        };
        for (const id of engines) {
          if (id === 'tfjs-wasm') {
            const eng = tfjsEngine(model);
            record(id, engineInfo.threads, await time(() => eng.run(x, 1, size, size, 3)));
          } else if (id.startsWith('ort-node')) {
            const threads = Number(id.at(-1));
            const eng: InferenceEngine = await onnxEngine(onnx, {
              threads,
              spinning: args.spinning,
            });
            record(id, threads, await time(() => eng.run(x, 1, size, size, 3)));
            eng.dispose();
          } else if (id === 'pytorch') {
            if (!python) continue;
            const pair = await ortVsPytorch(python, onnx, x, {
              width,
              size,
              runs,
              spinning: args.spinning,
            });
            vsPytorch.push(pair);
            record(id, 2, pair.pytorchRunsMs);
            console.error(
              `  width ${width} ${size}² ORT-node 2 threads ÷ PyTorch speed ${pair.ratio}× (${pair.ratioSpread.join('–')})`,
            );
          } else if (browser) {
            const threads = Number(id.at(-1));
            const ms = await browser.time(onnx, x, [1, size, size, 3], threads, runs);
            record(id, ms.threads, ms.runs);
          }
        }
        model.dispose();
      }
    }
  } finally {
    await browser?.close();
  }
  const load1 = os.loadavg();
  const speedups = widths.flatMap((width) =>
    sizes.map((size) => {
      const of = (e: EngineId): number | undefined =>
        rows.find((r) => r.engine === e && r.width === width && r.size === size)?.msPerImage;
      const base = of('tfjs-wasm');
      const ort2 = of('ort-node-2');
      return {
        width,
        size,
        ortNode2VsTfjsWasm: base && ort2 ? +(base / ort2).toFixed(2) : null,
      };
    }),
  );
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      loadavgBefore: load0,
      loadavgAfter: load1,
      node: process.version,
    },
    tfjs: { backend: engineInfo.backend, threads: engineInfo.threads },
    ortNode: { spinning: args.spinning },
    batch: 1,
    rows,
    speedups,
    ...(vsPytorch.length ? { vsPytorch } : {}),
    ...(engines.includes('pytorch') && !python
      ? { pytorchNote: 'skipped: no python3 here can import torch' }
      : {}),
  };
  console.log(JSON.stringify(result, null, 2));
  if (args.json) {
    writeJsonSync(args.json, result);
  }
}

await main();
// tfjs-wasm's worker threads would keep the process alive.
process.exit(0);
