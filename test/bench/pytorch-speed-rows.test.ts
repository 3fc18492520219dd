/**
 * The PyTorch rows of the benchmarks: `bench:engine --end-to-end` reads dentseg's step time
 * from `dentseg train`'s own progress lines, so a change of that format must fail here, not
 * print a wrong ratio; the PyTorch twin of the stage-1 recipe must run on real ufba425 images;
 * `bench:engines`' PyTorch row must alternate ORT and PyTorch and give a ratio. The last two
 * are skipped where no Python here imports torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stepTimeFromProgress } from '../../bench/end-to-end.js';
import { ortVsPytorch } from '../../bench/ort-vs-pytorch.js';
import { findPytorch } from '../../bench/pytorch.js';
import { initEngine } from '../../src/engine/index.js';
import { buildUnet } from '../../src/model/index.js';
import { layersModelToOnnx } from '../../src/onnx/index.js';
import { progressReporter } from '../../src/train/progress.js';

const python = findPytorch();
const ufba = path.resolve(import.meta.dirname, '../../../shared/data/ufba425');

/** What `dentseg train` prints on a non-terminal stderr for steps of the given durations. */
function progressOutput(stepSeconds: readonly number[]): string {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  const report = progressReporter(stream);
  let elapsedS = 0;
  stepSeconds.forEach((s, i) => {
    elapsedS += s;
    report({
      epoch: 0,
      epochs: 1,
      step: i + 1,
      steps: stepSeconds.length,
      loss: 0.5,
      dice: 0.5,
      elapsedS,
      dataWaitS: elapsedS / 10,
    });
  });
  return text;
}

describe('bench:engine --end-to-end: step time from dentseg train', () => {
  it('times the steps after the warm-up from the progress lines', () => {
    // two slow warm-up steps, then ten of 1.5 s
    const out = progressOutput([9, 4, ...Array<number>(10).fill(1.5)]);
    const t = stepTimeFromProgress(out, 2);
    expect(t.timedSteps).toBe(10);
    // the lines round s/step to 2 decimals: k × 0.005 s at most per line
    expect(t.secondsPerStep).toBeCloseTo(1.5, 1);
    expect(Math.abs(t.secondsPerStep - 1.5)).toBeLessThan(0.01);
    expect(t.dataWait).toBeCloseTo(0.1, 2);
  });

  it('fails, naming the output, when no line follows the warm-up', () => {
    expect(() => stepTimeFromProgress('dentseg train: something else\n', 2)).toThrow(
      /no progress past step 2/,
    );
  });
});

describe.skipIf(python === undefined || !existsSync(ufba))('the PyTorch speed rows', () => {
  it('bench/pytorch_stage1.py runs the stage-1 recipe on ufba425 images', () => {
    const r = spawnSync(
      python ?? 'python3',
      [
        path.resolve(import.meta.dirname, '../../bench/pytorch_stage1.py'),
        ...['--data', ufba, '--size', '64', '--batch', '2', '--steps', '2', '--warmup', '1'],
        ...['--threads', '1'],
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as {
      stepsMs: number[];
      secondsPerStep: number;
      decoder: number[];
    };
    expect(out.stepsMs).toHaveLength(2);
    expect(out.secondsPerStep).toBeGreaterThan(0);
    expect(out.decoder).toEqual([64, 32, 16, 8, 4]);
  }, 300_000); // importing torch alone takes a minute on busy shared cores

  it("bench:engines' PyTorch row alternates ORT-node and PyTorch and gives their ratio", async () => {
    await initEngine({ backend: 'cpu' });
    const model = buildUnet({ inputSize: [32, 32], channels: 3, classes: 1, width: 0.125 });
    const onnx = layersModelToOnnx(model);
    model.dispose();
    const row = await ortVsPytorch(python ?? 'python3', onnx, new Float32Array(32 * 32 * 3), {
      width: 0.125,
      size: 32,
      runs: 3,
      threads: 1,
    });
    expect(row.ortRunsMs).toHaveLength(3);
    expect(row.pytorchRunsMs).toHaveLength(3);
    expect(row.ratio).toBeGreaterThan(0);
    expect(row.ratioSpread[0]).toBeLessThanOrEqual(row.ratio);
    expect(row.ratioSpread[1]).toBeGreaterThanOrEqual(row.ratio);
    expect(row.pytorch).toMatch(/NCHW/);
  }, 300_000);
});
