/**
 * `npm run bench:serve`: latency of POST /api/v1/analyses with a full-size sample X-ray over
 * loopback, at 1 and 8 concurrent clients (p50/p95 ms, requests per minute), then RSS and
 * the tf tensor count after 200 requests in all (they must not grow). Uses the bundled model
 * when present, else a random-init width-0.25 U-Net at 256² (the JSON says which). `--set` serves
 * the bundled model set instead, as `npm start` does (teeth model + caries: the end-to-end
 * time a dentist waits for one upload), and writes serve-set-BACKEND.json.
 *
 *   npm run bench:serve [-- --model DIR --requests 200 --backend wasm]
 *   npm run bench:serve -- --set --requests 20
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine, tf, type BackendName } from '../src/engine/index.js';
import { loadModel, type LoadedModel } from '../src/infer/index.js';
import { loadModelSet } from '../src/infer/model-set.node.js';
import { buildApp } from '../src/serve/index.js';
import { REPO_ROOT, SAMPLES } from '../test/helpers/paths.js';
import { modelUnderTest } from './model-under-test.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    requests: { type: 'string', default: '200' },
    backend: { type: 'string' },
    sample: { type: 'string', default: path.join(SAMPLES, 'images', 'abdi-1.png') },
    set: { type: 'boolean', default: false },
  },
});
const total = Number(args.requests);
if (!Number.isInteger(total) || total < 20) throw new Error('--requests must be an integer ≥ 20');

const info = await initEngine({
  ...(args.backend ? { backend: args.backend as BackendName } : {}),
  log: true,
});
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-bench-serve-'));

// The bundled set (as `npm start` serves it), or one model.
const set = args.set ? await loadModelSet() : undefined;
const { dir, description } = set
  ? {
      dir: '',
      description: `bundled set: ${set.models.map((m) => `${m.meta.name}@${m.meta.version}`).join(' + ')}`,
    }
  : await modelUnderTest(args.model, tmp);
const models: readonly LoadedModel[] = set ? set.models : [await loadModel(dir)];
const app = await buildApp({
  models,
  dataDir: path.join(tmp, 'data'),
  webDir: false,
  queueLimit: 64,
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const xray = readFileSync(args.sample);
const sampleName = path.basename(args.sample);

/** One POST (timed), then an untimed DELETE so the data dir stays small. */
async function oneRequest(): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([xray], { type: 'image/png' }), sampleName);
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/analyses`, { method: 'POST', body: form });
  const body = (await res.json()) as { id?: string; error?: unknown };
  const ms = performance.now() - t0;
  if (res.status !== 201 || !body.id)
    throw new Error(`POST → ${res.status} ${JSON.stringify(body)}`);
  await fetch(`${base}/api/v1/analyses/${body.id}`, { method: 'DELETE' });
  return ms;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** RSS (MB) after every 20 requests of the last phase, to see whether it levels off. */
const rssSeries: { requests: number; rssMB: number; tensors: number }[] = [];
let done = 0;

async function phase(clients: number, requests: number): Promise<Record<string, number>> {
  const times: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        next += 1;
        times.push(await oneRequest());
        done += 1;
        if (done % 20 === 0) rssSeries.push({ requests: done, ...pick(memory()) });
      }
    }),
  );
  const wall = performance.now() - t0;
  times.sort((a, b) => a - b);
  const out = {
    clients,
    requests,
    p50Ms: Math.round(pct(times, 50)),
    p95Ms: Math.round(pct(times, 95)),
    maxMs: Math.round(times[times.length - 1] ?? NaN),
    requestsPerMin: Math.round((requests / wall) * 60_000 * 10) / 10,
    wallS: Math.round(wall / 100) / 10,
  };
  console.error(`bench:serve: ${JSON.stringify(out)}`);
  return out;
}

function pick(m: { rssMB: number; tensors: number }): { rssMB: number; tensors: number } {
  return { rssMB: m.rssMB, tensors: m.tensors };
}

/** Memory now (after a full GC when node runs with --expose-gc). */
function memory(): { rssMB: number; tensors: number; tfBytesMB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = tf.memory();
  return {
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    tensors: m.numTensors,
    tfBytesMB: Math.round(m.numBytes / 2 ** 20),
  };
}

await oneRequest(); // warm-up (kernels, caches); not counted
const afterWarmup = memory();
const n1 = Math.max(10, Math.round(total * 0.2));
const single = await phase(1, n1);
const afterSingle = memory();
const eight = await phase(8, total - n1);
const afterAll = memory();
await app.close();
for (const m of models) m.dispose();

const result = {
  bench: 'serve',
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  backend: info.backend,
  threads: info.threads,
  engine: models.map((m) => m.engine.name).join(' + '),
  model: description,
  sample: `${sampleName} (${xray.length} bytes)`,
  note: 'loopback, client and server in one process; inference queue concurrency 1; the machine is shared with other jobs, so timings are perturbed',
  phases: [single, eight],
  memory: { afterWarmup, afterSingle, after200: afterAll, totalRequests: total + 1 },
  rssSeries,
  gcBeforeReadings: typeof (globalThis as { gc?: unknown }).gc === 'function',
  tensorGrowth: afterAll.tensors - afterWarmup.tensors,
  rssGrowthMB: afterAll.rssMB - afterWarmup.rssMB,
};
const outDir = path.join(REPO_ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  path.join(outDir, `serve-${set ? 'set-' : ''}${info.backend}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(JSON.stringify(result, null, 2));
rmSync(tmp, { recursive: true, force: true });
