/**
 * `npm run bench:engine`: training and forward speed of the VGG-16 U-Net (buildUnet, random
 * weights) on one tfjs backend: forward ms, full train step (forward + backward + Adam) ms,
 * GFLOPS of each from the analytic FLOP count (train = 3 × forward), seconds per image and
 * peak RSS; forward and training runs alternate so that load from other jobs hits both.
 * `--compare wasm` runs the same measurement for another backend in a child process in the
 * same run and reports the speed ratio. When a Python with PyTorch is found
 * (`DENTSEG_PYTHON`, `python3` or `/usr/bin/python3` that can `import torch`), the same
 * network in PyTorch (bench/pytorch_unet.py) runs beside it, alternating pass by pass
 * (dentseg, PyTorch, dentseg, ...), and `ratioVsPytorch` gives dentseg's speed over
 * PyTorch's (> 1 = dentseg faster), the median of those pairs. `--profile` adds a per-kernel
 * breakdown of one training step. `--end-to-end` adds `endToEnd`: the bundled model's
 * stage-1 recipe on real images in `dentseg train` against bench/pytorch_stage1.py, a fixed
 * number of steps, A B A B (bench/end-to-end.ts); `--end-to-end-only` runs that row alone.
 * The CPU may be shared: the load average before and after is recorded. Written by the libtorch engineer to the engine engineer's spec (issue 2's
 * keys) with the torch case of issue 9.
 *
 *   npm run bench:engine -- [--backend torch|wasm|cpu] [--size 256] [--batch 2] [--width 1]
 *                           [--steps 3] [--threads 2] [--compare wasm] [--profile]
 *                           [--no-pytorch] [--pytorch-channels-last] [--json [FILE]]
 *                           [--end-to-end | --end-to-end-only] [--e2e-steps 10]
 *                           [--e2e-warmup 2] [--e2e-rounds 2]
 *
 * e.g. npm run bench:engine -- --backend torch --compare wasm --profile --json bench/results/torch-256.json
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bareJsonToStdout, writeJsonSync } from '../src/cli/json-output.js';
import { BACKEND_NAMES, initEngine, tf, type BackendName } from '../src/engine/index.js';
import { buildUnet } from '../src/model/index.js';
import { segmentationLoss } from '../src/train/losses.js';
import { Adam } from '../src/train/optimizer.js';
import { cpuFlags } from './cpu-flags.js';
import { endToEnd } from './end-to-end.js';
import { forwardFlops } from './flops.js';
import { findPytorch, PytorchReference, type PytorchInfo } from './pytorch.js';

type Tensor = ReturnType<typeof tf.tensor>;

const { values: args } = parseArgs({
  // `--json [FILE]`: a bare --json prints to stdout, as in the dentseg commands
  args: bareJsonToStdout(process.argv.slice(2)),
  options: {
    backend: { type: 'string' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '2' },
    width: { type: 'string', default: '1' },
    steps: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    compare: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-pytorch': { type: 'boolean', default: false },
    'pytorch-channels-last': { type: 'boolean', default: false },
    json: { type: 'string' },
    'end-to-end': { type: 'boolean', default: false },
    'end-to-end-only': { type: 'boolean', default: false },
    'e2e-steps': { type: 'string', default: '10' },
    'e2e-warmup': { type: 'string', default: '2' },
    'e2e-rounds': { type: 'string', default: '2' },
    child: { type: 'boolean', default: false },
  },
});

function backendArg(v: string | undefined, flag: string): BackendName | undefined {
  if (v === undefined) return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new Error(`${flag}: unknown backend "${v}" (known: ${BACKEND_NAMES.join(', ')})`);
}

const size = Number(args.size);
const batch = Number(args.batch);
const width = Number(args.width);
const steps = Math.max(1, Number(args.steps));
const threads = Number(args.threads);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

interface Measurement {
  backend: string;
  threads: number;
  threadsNote?: string;
  size: number;
  batch: number;
  width: number;
  /** `cpuMsRuns`: process CPU time (all threads) of each run. */
  forward: {
    msPerBatch: number;
    secondsPerImage: number;
    gflops: number;
    runsMs: number[];
    cpuMsRuns: number[];
  };
  train: {
    msPerStep: number;
    secondsPerImage: number;
    gflops: number;
    runsMs: number[];
    cpuMsRuns: number[];
  };
  ratioTrainToForward: number;
  peakRssMB: number;
  profile?: { kernel: string; ms: number; share: number }[];
  gflopForwardPerImage: number;
  convLayout?: { mode: string; cpu: string };
}

/** PyTorch's times, taken in the same loop as dentseg's (one pass each, alternating). */
interface PytorchRuns {
  info: PytorchInfo;
  fwdRuns: number[];
  trainRuns: number[];
  fwdCpu: number[];
  trainCpu: number[];
}

/** Process CPU time (all threads) in ms since `since`. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

async function measure(
  reference?: PytorchReference,
): Promise<Measurement & { pytorch?: PytorchRuns }> {
  const info = await initEngine({ backend: backendArg(args.backend, '--backend'), threads });
  const model = buildUnet({ inputSize: [size, size], channels: 3, classes: 1, width });
  const gflopFwd = (forwardFlops(model) * batch) / 1e9;
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.cast(tf.greater(tf.randomUniform([batch, size, size, 1]), 0.5), 'float32');
  const loss = segmentationLoss({ classes: 1 });
  const opt = new Adam(1e-4);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const forward = async (): Promise<void> => {
    const p = model.predict(x) as Tensor;
    await p.data();
    p.dispose();
  };
  const step = (): Tensor | null =>
    opt.minimize(
      () => loss(y, model.apply(x, { training: true }) as Tensor) as tf.Scalar,
      true,
      vars,
    );
  const trainStep = async (): Promise<void> => {
    const v = step();
    await v?.data();
    v?.dispose();
  };
  // Forward and training runs alternate, so that load from other jobs on shared cores
  // falls on both alike and their ratio stays meaningful.
  await forward(); // warm-up: kernel set-up, allocations
  await trainStep();
  const fwdRuns: number[] = [];
  const trainRuns: number[] = [];
  const fwdCpu: number[] = [];
  const trainCpu: number[] = [];
  const py: PytorchRuns | undefined = reference
    ? { info: reference.info, fwdRuns: [], trainRuns: [], fwdCpu: [], trainCpu: [] }
    : undefined;
  for (let i = 0; i < steps; i++) {
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    await forward();
    fwdRuns.push(performance.now() - t0);
    fwdCpu.push(cpuMsSince(c0));
    if (reference && py) {
      const r = await reference.runTimed('forward');
      py.fwdRuns.push(r.ms);
      py.fwdCpu.push(r.cpuMs);
    }
    c0 = process.cpuUsage();
    t0 = performance.now();
    await trainStep();
    trainRuns.push(performance.now() - t0);
    trainCpu.push(cpuMsSince(c0));
    if (reference && py) {
      const r = await reference.runTimed('train');
      py.trainRuns.push(r.ms);
      py.trainCpu.push(r.cpuMs);
    }
  }
  let profile: Measurement['profile'];
  if (args.profile) {
    const prof = await tf.profile(() => step()?.dispose());
    const byKernel = new Map<string, number>();
    for (const k of prof.kernels) {
      if (k.name.endsWith('__op')) continue; // custom-gradient wrappers repeat their kernel's time
      byKernel.set(
        k.name,
        (byKernel.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0),
      );
    }
    const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
    profile = [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([kernel, ms]) => ({ kernel, ms: round(ms, 0), share: round(ms / total, 3) }));
  }
  const fwdMs = median(fwdRuns);
  const trainMs = median(trainRuns);
  return {
    backend: info.backend,
    threads: info.threads,
    ...(info.note ? { threadsNote: info.note } : {}),
    size,
    batch,
    width,
    forward: {
      msPerBatch: round(fwdMs),
      secondsPerImage: round(fwdMs / 1000 / batch, 3),
      gflops: round(gflopFwd / (fwdMs / 1000)),
      runsMs: fwdRuns.map((v) => round(v, 0)),
      cpuMsRuns: fwdCpu.map((v) => round(v, 0)),
    },
    train: {
      msPerStep: round(trainMs),
      secondsPerImage: round(trainMs / 1000 / batch, 3),
      gflops: round((3 * gflopFwd) / (trainMs / 1000)),
      runsMs: trainRuns.map((v) => round(v, 0)),
      cpuMsRuns: trainCpu.map((v) => round(v, 0)),
    },
    ratioTrainToForward: round(trainMs / fwdMs, 2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(profile ? { profile } : {}),
    gflopForwardPerImage: round(gflopFwd / batch, 2),
    ...(info.backend === 'torch' ? { convLayout: await torchConvLayout() } : {}),
    ...(py ? { pytorch: py } : {}),
  };
}

/** The torch backend's convolution layout policy and the CPU class it decides by. */
async function torchConvLayout(): Promise<{ mode: string; cpu: string }> {
  const { loadTorchNative } = await import('../src/engine/torch/native.js');
  return loadTorchNative().convLayout();
}

/** The same measurement for another backend, in a child process (one backend per process). */
function measureInChild(backend: BackendName): Measurement {
  const self = fileURLToPath(import.meta.url);
  const childArgs = [
    '--backend',
    backend,
    '--size',
    args.size,
    '--batch',
    args.batch,
    '--width',
    args.width,
  ];
  childArgs.push('--steps', args.steps, '--threads', args.threads, '--child');
  const r = spawnSync(process.execPath, [...process.execArgv, self, ...childArgs], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    throw new Error(`--compare ${backend} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
  return JSON.parse(line) as Measurement;
}

async function main(): Promise<void> {
  if (args.child) {
    console.log(JSON.stringify(await measure()));
    return;
  }
  const load0 = os.loadavg();
  const compareWith = backendArg(args.compare, '--compare');
  const python = args['no-pytorch'] ? undefined : findPytorch();
  if (args['end-to-end-only']) {
    const row = endToEndRow(python);
    writeResult({
      date: new Date().toISOString(),
      machine: machine(),
      loadavg: {
        before: load0.map((l) => round(l, 2)),
        after: os.loadavg().map((l) => round(l, 2)),
      },
      note: 'two shared cores: other jobs perturb these timings (see loadavg)',
      threads,
      cpuFlags: cpuFlags(),
      ...row,
    });
    return;
  }
  // Built and warmed up first, so that its start-up does not fall on dentseg's timings.
  const reference = python
    ? await PytorchReference.start(python, {
        size,
        batch,
        width,
        threads,
        channels: 3,
        channelsLast: args['pytorch-channels-last'],
      })
    : undefined;
  const { pytorch: py, ...mine } = await measure(reference);
  reference?.close();
  const other = compareWith ? measureInChild(compareWith) : undefined;
  const e2e = args['end-to-end'] ? endToEndRow(python) : {};
  const load1 = os.loadavg();
  const pairRatios = (theirs: number[], ours: number[]): number[] =>
    ours.map((t, i) => (theirs[i] ?? NaN) / t);
  const fwdPairs = py ? pairRatios(py.fwdRuns, mine.forward.runsMs) : [];
  const trainPairs = py ? pairRatios(py.trainRuns, mine.train.runsMs) : [];
  const fwdCpuPairs = py ? pairRatios(py.fwdCpu, mine.forward.cpuMsRuns) : [];
  const trainCpuPairs = py ? pairRatios(py.trainCpu, mine.train.cpuMsRuns) : [];
  const spread = (xs: number[]): [number, number] => [
    round(Math.min(...xs), 2),
    round(Math.max(...xs), 2),
  ];
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    loadavg: { before: load0.map((l) => round(l, 2)), after: load1.map((l) => round(l, 2)) },
    note: 'two shared cores: other jobs perturb these timings (see loadavg)',
    model: `VGG-16 U-Net (buildUnet), width ${width}, ${size}², batch ${batch}, random weights, BCE+Dice, Adam`,
    ...mine,
    ...(other
      ? {
          compare: {
            backend: other.backend,
            threads: other.threads,
            forward: other.forward,
            train: other.train,
            peakRssMB: other.peakRssMB,
            speedup: {
              train: round(other.train.msPerStep / mine.train.msPerStep, 2),
              forward: round(other.forward.msPerBatch / mine.forward.msPerBatch, 2),
            },
          },
        }
      : {}),
    cpuFlags: cpuFlags(),
    ...(py
      ? {
          pytorch: {
            forwardMsPerImage: round(median(py.fwdRuns) / batch),
            trainSecondsPerImage: round(median(py.trainRuns) / 1000 / batch, 3),
            forwardGflops: round(
              (py.info.gflopForwardPerImage * batch) / (median(py.fwdRuns) / 1000),
            ),
            trainGflops: round(
              (3 * py.info.gflopForwardPerImage * batch) / (median(py.trainRuns) / 1000),
            ),
            forwardRunsMs: py.fwdRuns.map((v) => round(v, 0)),
            trainRunsMs: py.trainRuns.map((v) => round(v, 0)),
            forwardCpuMsRuns: py.fwdCpu.map((v) => round(v, 0)),
            trainCpuMsRuns: py.trainCpu.map((v) => round(v, 0)),
            torch: py.info.torch,
            threads: py.info.threads,
            layout: py.info.layout,
            gflopForwardPerImage: round(py.info.gflopForwardPerImage, 2),
          },
          ratioVsPytorch: {
            forward: round(median(fwdPairs), 2),
            train: round(median(trainPairs), 2),
          },
          ratioVsPytorchSpread: { forward: spread(fwdPairs), train: spread(trainPairs) },
          // The same ratios from process CPU time (all threads), the steadier measure when
          // other jobs share the cores: it counts the work each side did per pass.
          ratioVsPytorchCpu: {
            forward: round(median(fwdCpuPairs), 2),
            train: round(median(trainCpuPairs), 2),
          },
          ratioVsPytorchCpuSpread: { forward: spread(fwdCpuPairs), train: spread(trainCpuPairs) },
        }
      : {}),
    pytorchNote: py
      ? `PyTorch ${py.info.torch} (${python ?? 'python3'}, bench/pytorch_unet.py: the same network, loss and Adam, ` +
        `${py.info.layout}, ${py.info.threads} threads) alternated with dentseg pass by pass; ratioVsPytorch = ` +
        'dentseg speed ÷ PyTorch speed (> 1 = dentseg faster), median of the pairs, spread in ratioVsPytorchSpread'
      : args['no-pytorch']
        ? 'skipped (--no-pytorch)'
        : NO_PYTORCH,
    ...e2e,
  };
  console.error(
    `${mine.backend} (${mine.threads} threads) ${size}² batch ${batch} width ${width}: forward ${mine.forward.msPerBatch} ms ` +
      `(${mine.forward.gflops} GFLOPS), train step ${mine.train.msPerStep} ms = ${mine.train.secondsPerImage} s/image ` +
      `(${mine.train.gflops} GFLOPS), train/forward ${mine.ratioTrainToForward}, peak RSS ${mine.peakRssMB} MB; ` +
      `load ${load0[0]?.toFixed(1)} → ${load1[0]?.toFixed(1)}`,
  );
  if (other) {
    console.error(
      `${other.backend}: train step ${other.train.msPerStep} ms (${other.train.gflops} GFLOPS), forward ${other.forward.msPerBatch} ms; ` +
        `${mine.backend}/${other.backend} speed ratio: train ${result.compare?.speedup.train}×, forward ${result.compare?.speedup.forward}×`,
    );
  }
  if (py) {
    console.error(
      `pytorch: forward ${result.pytorch?.forwardMsPerImage} ms/image, train ${result.pytorch?.trainSecondsPerImage} s/image; ` +
        `dentseg ÷ pytorch speed: forward ${result.ratioVsPytorch?.forward}× (${fwdPairs.map((r) => r.toFixed(2)).join(', ')}), ` +
        `train ${result.ratioVsPytorch?.train}× (${trainPairs.map((r) => r.toFixed(2)).join(', ')}); ` +
        `by CPU time: forward ${result.ratioVsPytorchCpu?.forward}× (${fwdCpuPairs.map((r) => r.toFixed(2)).join(', ')}), ` +
        `train ${result.ratioVsPytorchCpu?.train}× (${trainCpuPairs.map((r) => r.toFixed(2)).join(', ')})`,
    );
  }
  console.error(result.pytorchNote);
  writeResult(result);
}

const NO_PYTORCH =
  'skipped: no python3 here can import torch (Debian: apt-get install python3-torch; or set DENTSEG_PYTHON)';

const machine = (): string =>
  `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;

/** `endToEnd` (or, without PyTorch, `endToEndNote`) for the JSON. */
function endToEndRow(python: string | undefined): object {
  if (!python) return { endToEndNote: args['no-pytorch'] ? 'skipped (--no-pytorch)' : NO_PYTORCH };
  const o = {
    steps: Math.max(1, Number(args['e2e-steps'])),
    warmup: Math.max(1, Number(args['e2e-warmup'])),
    rounds: Math.max(1, Number(args['e2e-rounds'])),
    threads,
    channelsLast: args['pytorch-channels-last'],
  };
  const row = endToEnd(python, o, (l) => console.error(l));
  console.error(
    `end-to-end (stage-1 recipe, ${row.timedSteps} steps after ${row.warmupSteps}): dentseg ` +
      `${row.dentsegSecondsPerStep} s/step, pytorch ${row.pytorchSecondsPerStep} s/step; ` +
      `dentseg ÷ pytorch speed ${row.ratio}× (${row.ratioSpread.join('–')})`,
  );
  return { endToEnd: row };
}

function writeResult(result: object): void {
  if (args.json) {
    writeJsonSync(args.json, result);
  } else {
    console.log(JSON.stringify(result, null, 2));
  }
}

await main();
