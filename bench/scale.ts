/**
 * `npm run bench:scale`: the shared queue end to end on real Redis and PostgreSQL (started
 * here, like the tests): throughput with 1 and 2 `dentseg worker` processes (one inference
 * thread each) on the full-size samples, queue overhead per job (enqueued → started, p50 and
 * p95, from BullMQ's own timestamps), and the latency of the 202 answer under 20 concurrent
 * uploads. Then, on paper, what 10 such machines would do per hour.
 *
 *   npm run bench:scale [-- --jobs 60 --model DIR --pin]
 *
 * `--pin` runs worker k on core k only (`taskset -c k`), as one machine per worker would:
 * unpinned, a lone worker also borrows the second core (its PNG encodes and the libuv pool
 * overlap the forward pass), so on 2 cores the 2-worker ratio is capped near 1.6 however well
 * the queue scales. Pinned, each phase gives every worker exactly one core.
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
    jobs: { type: 'string', default: '60' },
    pin: { type: 'boolean', default: false },
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
      (_, k) =>
        new Promise<ChildProcess>((resolve, reject) => {
          const pin = args.pin ? ['taskset', '-c', String(k % os.cpus().length)] : [];
          const [command, ...prefix] = [...pin, process.execPath];
          const proc = spawn(
            command as string,
            [
              ...prefix,
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
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** CPU seconds (user + system) of process `pid` so far, from /proc; 0 when gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** Pids whose command line contains every one of `needles`, and all their descendants. */
function pidsOf(...needles: string[]): number[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const parent = new Map<number, number>();
  const roots: number[] = [];
  for (const pid of all) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (needles.every((n) => cmd.includes(n))) roots.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  const out = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat, idle and iowait excluded). */
function machineCpu(): number {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/**
 * CPU seconds so far of Redis (its server process, not the workers whose command lines
 * name its URL), PostgreSQL (postmaster and backends), this process (the API) and the
 * whole machine.
 */
function serviceCpu(): { api: number; redis: number; postgres: number; machine: number } {
  const cpu = process.cpuUsage();
  return {
    api: (cpu.user + cpu.system) / 1e6,
    redis: pidsOf('redis-server', `:${redis.port}`).reduce((a, p) => a + cpuSeconds(p), 0),
    postgres: pidsOf(postgres.dir).reduce((a, p) => a + cpuSeconds(p), 0),
    machine: machineCpu(),
  };
}

/**
 * Wait (at most `maxS` seconds) until the machine has been nearly idle for 2 s: other users'
 * processes on a shared machine take cores from the workers and the measurement with them.
 * Resolves with the seconds waited; cpuOtherS in each phase tells what still ran meanwhile.
 */
async function waitQuiet(maxS = 60): Promise<number> {
  const t0 = performance.now();
  let quiet = 0;
  while ((performance.now() - t0) / 1000 < maxS && quiet < 2) {
    const a = machineCpu();
    await new Promise((r) => setTimeout(r, 1000));
    quiet = machineCpu() - a < 0.15 * os.availableParallelism() ? quiet + 1 : 0;
  }
  return Math.round((performance.now() - t0) / 1000);
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const median = (xs: readonly number[]): number =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * Throughput of `workers` warm workers on a backlog of `jobsPerPhase` jobs. Every job is
 * uploaded while the queue is paused, so neither the uploads (the API decoding headers,
 * writing files, talking to PostgreSQL in this process) nor the workers' start-up and model
 * load fall inside the clock: it runs from resuming the queue to the last job's finish
 * (BullMQ's own timestamp).
 */
async function phase(workers: number): Promise<Record<string, number>> {
  const procs = await startWorkers(workers);
  // Warm-up: two jobs per worker (ORT's first runs, sharp/libvips caches), not counted.
  const warm = await Promise.all(Array.from({ length: 2 * workers }, (_, i) => post(i)));
  await waitDone(warm.map((w) => w.id));
  await jobs.pause();
  const posted: string[] = [];
  for (let i = 0; i < jobsPerPhase; i++) posted.push((await post(i)).id);
  const quietWaitS = await waitQuiet();
  const cpu0 = serviceCpu();
  const workerCpu0 = procs.map((p) => cpuSeconds(p.pid ?? 0));
  const t0 = Date.now();
  await jobs.resume();
  await waitDone(posted);
  const cpu1 = serviceCpu();
  const workerCpu1 = procs.map((p) => cpuSeconds(p.pid ?? 0));
  let last = t0;
  const waits: number[] = [];
  const perJob: {
    total: number;
    analyse: number;
    decode: number;
    infer: number;
    encode: number;
  }[] = [];
  for (const id of posted) {
    const t = await jobs.times(id);
    // Queued while paused: the wait counts from the resume.
    if (t?.started !== undefined) waits.push(t.started - Math.max(t.enqueued, t0));
    if (t?.finished !== undefined) last = Math.max(last, t.finished);
    const rec = await store.get(id);
    if (t?.started !== undefined && t.finished !== undefined && rec) {
      const tm = rec.timings as Record<string, number>;
      const decode = tm.decode ?? 0;
      const encode = tm.encodeOutputs ?? 0;
      perJob.push({
        total: t.finished - t.started,
        analyse: rec.elapsedMs,
        decode,
        encode,
        infer: rec.elapsedMs - decode - encode,
      });
    }
  }
  const wallS = (last - t0) / 1000;
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));
  waits.sort((a, b) => a - b);
  const m = (k: keyof (typeof perJob)[number]): number =>
    Math.round(median(perJob.map((j) => j[k])));
  const out = {
    workers,
    jobs: jobsPerPhase,
    wallS: Math.round(wallS * 10) / 10,
    jobsPerHour: Math.round((jobsPerPhase / wallS) * 3600),
    secondsPerJob: Math.round((wallS / jobsPerPhase) * 100) / 100,
    // Per job on a worker, medians: started → finished (BullMQ), of which the analysis
    // (decode, inference with pre/post-processing, PNG encoding); the rest is store writes.
    jobMsP50: m('total'),
    analyseMsP50: m('analyse'),
    decodeMsP50: m('decode'),
    inferMsP50: m('infer'),
    encodeMsP50: m('encode'),
    storeAndQueueMsP50: Math.round(median(perJob.map((j) => j.total - j.analyse))),
    // CPU seconds spent during the timed window, and as a share of one core over it.
    cpuWorkerSecondsPerJob:
      Math.round(
        (workerCpu1.reduce((a, c, i) => a + c - (workerCpu0[i] ?? 0), 0) / jobsPerPhase) * 100,
      ) / 100,
    cpuWorkersS: round1(workerCpu1.reduce((a, c, i) => a + c - (workerCpu0[i] ?? 0), 0)),
    cpuApiS: round1(cpu1.api - cpu0.api),
    cpuRedisS: round1(cpu1.redis - cpu0.redis),
    cpuPostgresS: round1(cpu1.postgres - cpu0.postgres),
    // Everything else busy on the machine meanwhile (other users' processes, the kernel).
    cpuOtherS: round1(
      cpu1.machine -
        cpu0.machine -
        (cpu1.api - cpu0.api) -
        (cpu1.redis - cpu0.redis) -
        (cpu1.postgres - cpu0.postgres) -
        workerCpu1.reduce((a, c, i) => a + c - (workerCpu0[i] ?? 0), 0),
    ),
    waitP50Ms: Math.round(pct(waits, 50)),
    waitP95Ms: Math.round(pct(waits, 95)),
    quietWaitS,
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
  pinnedWorkers: args.pin ? 'worker k on core k (taskset), one core each' : false,
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
writeFileSync(
  path.join(outDir, args.pin ? 'scale-pinned.json' : 'scale.json'),
  JSON.stringify(result, null, 2) + '\n',
);
console.log(JSON.stringify(result, null, 2));
