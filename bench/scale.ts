/**
 * `npm run bench:scale`: the shared queue end to end on real Redis and PostgreSQL (started
 * here, like the tests): throughput with 1 and 2 `dentseg worker` processes (one inference
 * thread each) on the full-size samples, queue overhead per job (enqueued → started, p50 and
 * p95, from BullMQ's own timestamps), and the latency of the 202 answer under 20 concurrent
 * uploads. Then, on paper, what 10 such machines would do per hour.
 *
 *   npm run bench:scale [-- --jobs 24 --model DIR]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/index.js';
import { loadModel } from '../src/infer/index.js';
import { buildApp } from '../src/serve/index.js';
import { RedisJobQueue } from '../src/serve/jobs.js';
import { PgStore } from '../src/serve/store-pg.js';
import { REPO_ROOT, SAMPLES } from '../test/helpers/paths.js';
import { PostgresService, RedisService } from '../test/helpers/services.js';
import { modelUnderTest } from './model-under-test.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    jobs: { type: 'string', default: '24' },
  },
});
const jobsPerPhase = Number(args.jobs);
if (!Number.isInteger(jobsPerPhase) || jobsPerPhase < 2) throw new Error('--jobs must be ≥ 2');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-bench-scale-'));
const [redis, postgres] = await Promise.all([RedisService.start(), PostgresService.start()]);
await initEngine();
const { dir: modelDir, description } = await modelUnderTest(args.model, tmp);
const model = await loadModel(modelDir);
const dataDir = path.join(tmp, 'data');
mkdirSync(dataDir);
const store = await PgStore.open(postgres.url, dataDir);
const jobs = new RedisJobQueue(redis.url);
const app = await buildApp({ model, dataDir, store, jobs, webDir: false });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const sampleDir = path.join(SAMPLES, 'images');
const samples = readdirSync(sampleDir)
  .filter((f) => f.endsWith('.png'))
  .map((f) => ({ name: f, data: readFileSync(path.join(sampleDir, f)) }));
if (samples.length === 0) throw new Error(`no samples in ${sampleDir}`);

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function post(i: number): Promise<{ id: string; ms: number }> {
  const s = samples[i % samples.length] as { name: string; data: Buffer };
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(s.data)], { type: 'image/png' }), s.name);
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/analyses`, { method: 'POST', body: form });
  const ms = performance.now() - t0;
  const body = (await res.json()) as { id?: string };
  if (res.status !== 202 || !body.id)
    throw new Error(`POST → ${res.status} ${JSON.stringify(body)}`);
  return { id: body.id, ms };
}

function startWorkers(n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ChildProcess>((resolve, reject) => {
          const proc = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              path.join(REPO_ROOT, 'src/cli/main.ts'),
              'worker',
              ...['--queue', redis.url, '--db', postgres.url, '--data-dir', dataDir],
              ...['--model', modelDir],
            ],
            { env: { ...process.env, DENTSEG_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let out = '';
          proc.stderr?.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('dentseg worker: pid')) resolve(proc);
          });
          proc.once('exit', (code) => reject(new Error(`worker exited ${code}: ${out}`)));
        }),
    ),
  );
}

async function waitDone(ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    for (;;) {
      const s = await store.status(id);
      if (s?.status === 'done') break;
      if (s?.status === 'failed') throw new Error(`${id} failed: ${JSON.stringify(s.error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Enqueue `jobsPerPhase` jobs with `workers` workers already waiting; time until all done. */
async function phase(workers: number): Promise<Record<string, number>> {
  const procs = await startWorkers(workers);
  // Warm-up: one job per worker (kernels, caches), not counted.
  const warm = await Promise.all(Array.from({ length: workers }, (_, i) => post(i)));
  await waitDone(warm.map((w) => w.id));
  const t0 = performance.now();
  const posted: string[] = [];
  for (let i = 0; i < jobsPerPhase; i++) posted.push((await post(i)).id);
  await waitDone(posted);
  const wallS = (performance.now() - t0) / 1000;
  const waits: number[] = [];
  for (const id of posted) {
    const t = await jobs.times(id);
    if (t?.started !== undefined) waits.push(t.started - t.enqueued);
  }
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));
  // Queue overhead: the wait of a job that found a worker idle. With a backlog the wait is
  // mostly queueing behind other inferences, so report the first job per worker too.
  waits.sort((a, b) => a - b);
  const out = {
    workers,
    jobs: jobsPerPhase,
    wallS: Math.round(wallS * 10) / 10,
    jobsPerHour: Math.round((jobsPerPhase / wallS) * 3600),
    secondsPerJob: Math.round((wallS / jobsPerPhase) * 100) / 100,
    waitP50Ms: Math.round(pct(waits, 50)),
    waitP95Ms: Math.round(pct(waits, 95)),
  };
  console.error(`bench:scale: ${JSON.stringify(out)}`);
  return out;
}

/** Enqueue → start when a worker is idle: one job at a time, `n` times. */
async function idleOverhead(n: number): Promise<{ p50Ms: number; p95Ms: number }> {
  const procs = await startWorkers(1);
  const waits: number[] = [];
  for (let i = 0; i < n; i++) {
    const { id } = await post(i);
    await waitDone([id]);
    const t = await jobs.times(id);
    if (t?.started !== undefined) waits.push(t.started - t.enqueued);
  }
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));
  waits.sort((a, b) => a - b);
  return { p50Ms: Math.round(pct(waits, 50)), p95Ms: Math.round(pct(waits, 95)) };
}

/** 20 uploads at once, no worker running: how long the 202 takes. */
async function acceptLatency(): Promise<{ p50Ms: number; p95Ms: number; maxMs: number }> {
  const res = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i)));
  const ms = res.map((r) => r.ms).sort((a, b) => a - b);
  await jobs.drain(); // not analysed
  return {
    p50Ms: Math.round(pct(ms, 50)),
    p95Ms: Math.round(pct(ms, 95)),
    maxMs: Math.round(ms[ms.length - 1] ?? NaN),
  };
}

const accept = await acceptLatency();
const overhead = await idleOverhead(10);
const one = await phase(1);
const two = await phase(2);
const speedup = Math.round(((two.jobsPerHour ?? 0) / (one.jobsPerHour ?? 1)) * 100) / 100;

await app.close();
await jobs.close();
await store.close();
model.dispose();
await Promise.all([redis.dispose(), postgres.dispose()]);
rmSync(tmp, { recursive: true, force: true });

const result = {
  bench: 'scale',
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  engine: model.engine.name,
  model: description,
  samples: samples.map((s) => s.name),
  note: 'API, Redis, PostgreSQL and the workers share this machine; workers run DENTSEG_THREADS=1',
  accept202Under20Concurrent: accept,
  queueOverheadIdleWorker: overhead,
  phases: [one, two],
  speedup2Workers: speedup,
  onPaper10Machines: {
    // Each machine as this one running 2 workers; API, Redis and PostgreSQL elsewhere.
    analysesPerHour: (two.jobsPerHour ?? 0) * 10,
  },
};
const outDir = path.join(REPO_ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'scale.json'), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
