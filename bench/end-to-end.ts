/**
 * `bench:engine --end-to-end`: the bundled model's stage-1 recipe (256², width 0.25, batch 8,
 * 1 channel, z-score, seed augmentation, ufba425 images) for a fixed number of steps in
 * `dentseg train` (torch backend, its own loader) and in bench/pytorch_stage1.py (PyTorch,
 * augmentation on the main thread), alternating A B A B, seconds per step after a warm-up.
 * What a user waits for, data included, rather than the network alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pytorchEnv } from './pytorch.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const UFBA = path.resolve(ROOT, '../shared/data/ufba425');

/** The end-to-end row of bench:engine's JSON. */
export interface EndToEndResult {
  readonly recipe: string;
  readonly data: string;
  readonly warmupSteps: number;
  /** Steps timed per run (dentseg: from its progress lines, see `dentsegRun`). */
  readonly timedSteps: number;
  readonly rounds: number;
  /** Medians over the rounds of the mean step time of each run. */
  readonly dentsegSecondsPerStep: number;
  readonly pytorchSecondsPerStep: number;
  /** dentseg speed ÷ PyTorch speed (> 1 = dentseg faster): median of the per-round ratios. */
  readonly ratio: number;
  readonly ratioSpread: readonly [number, number];
  readonly dentsegRuns: readonly number[];
  readonly pytorchRuns: readonly number[];
  /** dentseg's share of step time spent waiting for data, per run (its progress line). */
  readonly dentsegDataWait: readonly number[];
  /** PyTorch's share of step time spent decoding and augmenting (main thread), per run. */
  readonly pytorchDataShare: readonly number[];
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};

/** One progress line of `dentseg train`: step, steps, mean s/step so far, data-wait %. */
const PROGRESS = /\] (\d+)\/(\d+) .* ([\d.]+) s\/step .* data-wait (\d+)%/;

/**
 * Seconds per step from `dentseg train`'s progress lines (stderr, not a terminal: printed at
 * every tenth of the epoch and at its end). A line at step k says k steps took k × s/step
 * (2 decimals); the timed steps are those between the first line at or after the warm-up
 * and the last line. Exported for its test.
 */
export function stepTimeFromProgress(
  stderr: string,
  warmup: number,
): { secondsPerStep: number; timedSteps: number; dataWait: number } {
  const points = stderr
    .split('\n')
    .map((l) => PROGRESS.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), perStep: Number(m[3]), wait: Number(m[4]) / 100 }));
  const from = points.find((p) => p.step >= warmup);
  const to = points.at(-1);
  if (!from || !to || to.step <= from.step) {
    throw new Error(
      `dentseg train printed no progress past step ${warmup}:\n${stderr.slice(-2000)}`,
    );
  }
  return {
    secondsPerStep: (to.step * to.perStep - from.step * from.perStep) / (to.step - from.step),
    timedSteps: to.step - from.step,
    dataWait: to.wait,
  };
}

/** `warmup + steps` steps of the stage-1 recipe in `dentseg train` (a throw-away run folder). */
function dentsegRun(o: { warmup: number; steps: number; threads: number }): {
  secondsPerStep: number;
  timedSteps: number;
  dataWait: number;
} {
  const out = mkdtempSync(path.join(os.tmpdir(), 'dentseg-e2e-'));
  try {
    const batch = 8;
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'bin/dentseg.js'),
        '--backend',
        'torch',
        'train',
        '--images',
        path.join(UFBA, 'images'),
        '--masks',
        path.join(UFBA, 'masks'),
        '--split',
        path.join(UFBA, 'split.csv'),
        '--out',
        out,
        ...['--size', '256', '--width', '0.25', '--batch', String(batch), '--lr', '5e-4'],
        ...['--epochs', '1', '--seed', '7', '--augment', 'seed', '--channels', '1'],
        ...['--normalise', 'zscore', '--limit', String((o.warmup + o.steps) * batch)],
        ...['--val-limit', String(batch)],
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, DENTSEG_THREADS: String(o.threads) },
        maxBuffer: 1 << 24,
      },
    );
    if (r.status !== 0)
      throw new Error(`dentseg train failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    return stepTimeFromProgress(r.stderr, o.warmup);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The same in bench/pytorch_stage1.py. */
function pytorchRun(
  python: string,
  o: { warmup: number; steps: number; threads: number; channelsLast?: boolean },
): { secondsPerStep: number; dataShare: number } {
  const r = spawnSync(
    python,
    [
      path.join(ROOT, 'bench/pytorch_stage1.py'),
      ...['--data', UFBA, '--warmup', String(o.warmup), '--steps', String(o.steps)],
      ...['--threads', String(o.threads)],
      ...(o.channelsLast ? ['--channels-last'] : []),
    ],
    { cwd: ROOT, encoding: 'utf8', env: pytorchEnv().env, maxBuffer: 1 << 24 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    throw new Error(`bench/pytorch_stage1.py failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
  return JSON.parse(line) as { secondsPerStep: number; dataShare: number };
}

/** `rounds` A/B pairs (dentseg, then PyTorch) of the stage-1 recipe; see the file comment. */
export function endToEnd(
  python: string,
  o: { warmup: number; steps: number; rounds: number; threads: number; channelsLast?: boolean },
  log: (line: string) => void = () => {},
): EndToEndResult {
  const ours: number[] = [];
  const theirs: number[] = [];
  const waits: number[] = [];
  const theirWaits: number[] = [];
  let timedSteps = o.steps;
  for (let i = 0; i < o.rounds; i++) {
    const d = dentsegRun(o);
    ours.push(d.secondsPerStep);
    waits.push(d.dataWait);
    timedSteps = d.timedSteps;
    const p = pytorchRun(python, o);
    theirs.push(p.secondsPerStep);
    theirWaits.push(p.dataShare);
    log(
      `end-to-end round ${i + 1}/${o.rounds}: dentseg ${d.secondsPerStep.toFixed(2)} s/step ` +
        `(data-wait ${Math.round(d.dataWait * 100)}%), pytorch ${p.secondsPerStep.toFixed(2)} s/step ` +
        `(data ${Math.round(p.dataShare * 100)}%)`,
    );
  }
  const ratios = ours.map((t, i) => (theirs[i] ?? NaN) / t);
  return {
    recipe:
      'stage 1 of models/teeth-binary: 256², width 0.25, default decoder, 1 channel, zscore, batch 8, ' +
      'lr 5e-4, seed 7, --augment seed; dentseg train (torch backend, its loader) vs ' +
      `bench/pytorch_stage1.py (PyTorch ${o.channelsLast ? 'channels-last' : 'NCHW'}, augmentation on the main thread)`,
    data: 'ufba425 train images',
    warmupSteps: o.warmup,
    timedSteps,
    rounds: o.rounds,
    dentsegSecondsPerStep: round(median(ours), 3),
    pytorchSecondsPerStep: round(median(theirs), 3),
    ratio: round(median(ratios), 2),
    ratioSpread: [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)],
    dentsegRuns: ours.map((v) => round(v, 3)),
    pytorchRuns: theirs.map((v) => round(v, 3)),
    dentsegDataWait: waits,
    pytorchDataShare: theirWaits.map((v) => round(v, 3)),
  };
}
