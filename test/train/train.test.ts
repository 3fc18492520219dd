// The whole chain learns (a tiny U-Net overfits 16 real X-rays) and a run killed with
// SIGKILL resumes to exactly the metrics of an uninterrupted run with the same seed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { loadModelFolder } from '../../src/model/folder.node.js';
import { runTraining, type TrainConfig } from '../../src/train/session.js';
import { HAS_SHARED_DATA, REPO_ROOT, runCliSync, UFBA } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dataset = {
  images: path.join(UFBA, 'images'),
  masks: path.join(UFBA, 'masks'),
  split: path.join(UFBA, 'split.csv'),
};

/** A tiny, quick, un-augmented run on ufba425 (width 1/16, 1 channel); `over` sets the rest. */
function tinyRun(over: Partial<TrainConfig> & Pick<TrainConfig, 'out' | 'name'>): TrainConfig {
  return {
    dataset,
    epochs: 1,
    batch: 2,
    lr: 3e-3,
    seed: 1,
    size: 64,
    width: 1 / 16,
    channels: 1,
    normalise: 'unit',
    batchNorm: true,
    dropout: 0,
    augment: null,
    patience: 0,
    lrPatience: 0,
    lrFactor: 0.5,
    minLr: 1e-6,
    workers: 0,
    version: '0',
    ...over,
  };
}

describe.skipIf(!HAS_SHARED_DATA)('training on ufba425', () => {
  beforeAll(async () => {
    // wasm: its training kernels are the portable path (and it is quickest at this tiny size)
    await initEngine({ backend: 'wasm' });
  });

  it('a width-1/16 U-Net at 64² overfits 16 images (train Dice ≥ 0.8)', async () => {
    const cfg = tinyRun({
      out: path.join(tmp, 'overfit'),
      epochs: 25,
      batch: 2,
      size: 64,
      limit: 16,
      valLimit: 2,
      name: 'overfit',
    });
    const t0 = performance.now();
    const enough = new AbortController(); // stop once it has clearly overfitted
    const r = await runTraining(cfg, {
      signal: enough.signal,
      onEpoch: (h) => (h.dice ?? 0) >= 0.85 && enough.abort(),
    });
    const seconds = (performance.now() - t0) / 1000;
    const best = Math.max(...r.history.map((h) => h.dice ?? 0));
    expect(best).toBeGreaterThanOrEqual(0.8);
    expect(r.history[0]!.loss).toBeGreaterThan(r.history[r.history.length - 1]!.loss!);
    expect(seconds).toBeLessThan(180);
    // run folder contract
    for (const f of [
      'config.json',
      'metrics.csv',
      'curves.png',
      'best/model.json',
      'last/weights.bin',
      'last/train-state.json',
    ]) {
      expect(existsSync(path.join(cfg.out, f)), f).toBe(true);
    }
    const csv = readFileSync(path.join(cfg.out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(
      'epoch,lr,loss,accuracy,dice,val_loss,val_accuracy,val_dice,train_s,epoch_s,data_wait_share',
    );
    expect(csv).toHaveLength(r.history.length + 1);
    const { meta } = await loadModelFolder(path.join(cfg.out, 'best'));
    expect(meta.task).toBe('binary');
    expect(meta.preprocess.size).toEqual([64, 64]);
  }, 200_000);

  it('--init continues from a model folder at another size, with its architecture', async () => {
    const start = path.join(tmp, 'overfit', 'best'); // written by the test above
    const out = path.join(tmp, 'finetune');
    // lr 1e-9: Adam moves each weight by about lr per step, so the kernels stay the start's
    const r = runCliSync([
      '--backend',
      'wasm',
      'train',
      ...['--images', dataset.images, '--masks', dataset.masks, '--split', dataset.split],
      ...['--out', out, '--init', start, '--size', '96', '--epochs', '1', '--lr', '1e-9'],
      ...['--limit', '4', '--val-limit', '2', '--batch', '2', '--no-augment', '--workers', '0'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /weights: \d+ arrays from .*overfit.best \(trained at 64×64, continuing at 96²\)/,
    );
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as {
      width: number;
      channels: number;
      normalise: string;
      init: string;
    };
    expect(config).toMatchObject({ width: 1 / 16, channels: 1, normalise: 'unit', init: start });
    const before = await loadModelFolder(start);
    const after = await loadModelFolder(path.join(out, 'last'));
    expect(after.meta.input.size).toEqual([96, 96]);
    const kernel = (m: typeof before.model): Float32Array =>
      m.getLayer('block3_conv2').getWeights()[0]!.dataSync() as Float32Array;
    const a = kernel(before.model);
    const b = kernel(after.model);
    const maxDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? NaN))), 0);
    expect(maxDiff).toBeLessThan(1e-6);
    before.model.dispose();
    after.model.dispose();
    // another architecture is refused before any training, naming the layer
    const bad = runCliSync([
      'train',
      ...['--images', dataset.images, '--masks', dataset.masks, '--split', dataset.split],
      ...['--out', path.join(tmp, 'bad'), '--init', start, '--width', '0.125', '--epochs', '1'],
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/block1_conv1: the model to start from has weights/);
    // --init-partial without --init is a usage error
    const lonely = runCliSync([
      'train',
      ...['--images', dataset.images, '--masks', dataset.masks, '--out', path.join(tmp, 'x')],
      '--init-partial',
    ]);
    expect(lonely.status).toBe(64);
    expect(lonely.stderr).toMatch(/E_USAGE.*--init-partial needs --init/);
  }, 120_000);

  it('trains a 33-class model on the FDI masks (multi-class path end to end)', async () => {
    const fdiDataset = {
      ...dataset,
      masks: path.join(UFBA, 'masks_fdi'),
      multiclass: true,
      classes: path.join(UFBA, 'classes_fdi.json'),
    };
    const r = await runTraining(
      tinyRun({
        dataset: fdiDataset,
        out: path.join(tmp, 'fdi'),
        epochs: 2,
        batch: 4,
        size: 32,
        limit: 8,
        valLimit: 4,
        name: 'fdi',
      }),
    );
    expect(r.history).toHaveLength(2);
    expect(r.history[1]!.loss).toBeLessThan(r.history[0]!.loss!);
    const { model, meta } = await loadModelFolder(path.join(tmp, 'fdi', 'last'));
    expect(meta.task).toBe('multiclass');
    expect(meta.classes).toHaveLength(33);
    expect(model.outputs[0]!.shape).toEqual([null, 32, 32, 33]);
    // Lesion size weights are for binary lesion masks: refused before any epoch runs.
    await expect(
      runTraining(
        tinyRun({
          dataset: fdiDataset,
          out: path.join(tmp, 'fdi-weighted'),
          size: 32,
          limit: 8,
          valLimit: 4,
          lesionSizeWeight: 300,
          name: 'fdi-weighted',
        }),
      ),
    ).rejects.toMatchObject({ code: 'E_USAGE', message: /--lesion-size-weight.*33 classes/ });
  }, 120_000);
});

function metricsRows(dir: string): string[][] {
  const lines = readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
  // drop the timing columns (train_s, epoch_s, data_wait_share)
  return lines.map((l) => l.split(',').slice(0, 8));
}

describe.skipIf(!HAS_SHARED_DATA)('resume after SIGKILL', () => {
  const args = (out: string): string[] => [
    'train',
    '--images',
    dataset.images,
    '--masks',
    dataset.masks,
    '--split',
    dataset.split,
    '--out',
    out,
    '--size',
    '32',
    '--width',
    '0.0625',
    '--channels',
    '1',
    '--normalise',
    'unit',
    '--batch',
    '2',
    '--epochs',
    '3',
    '--limit',
    '12',
    '--val-limit',
    '4',
    '--seed',
    '7',
    '--lr',
    '1e-3',
    '--workers',
    '0',
  ];

  it('continues to the same epoch metrics as an uninterrupted run (SIGKILL and Ctrl-C)', async () => {
    const a = path.join(tmp, 'a');
    const full = runCliSync(args(a), { timeoutMs: 120_000 });
    expect(full.status, full.stderr).toBe(0);

    const b = path.join(tmp, 'b');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args(b)],
      {
        cwd: REPO_ROOT,
        stdio: 'ignore',
      },
    );
    const state = path.join(b, 'last', 'train-state.json');
    const killed = await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        try {
          const s = JSON.parse(readFileSync(state, 'utf8')) as { epoch: number };
          if (s.epoch >= 1) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve(true);
          }
        } catch {
          // not written yet (or between the two renames)
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        resolve(false);
      });
    });
    expect(killed).toBe(true);
    const done = JSON.parse(readFileSync(state, 'utf8')) as { epoch: number };
    expect(done.epoch).toBeLessThan(3);

    const resumed = runCliSync(['train', '--resume', b], { timeoutMs: 120_000 });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming');
    expect(metricsRows(b)).toEqual(metricsRows(a));

    // Ctrl-C in the middle of epoch 2: last/ keeps the step and partial sums, exit 130,
    // and the resumed run still matches the uninterrupted one.
    const c = path.join(tmp, 'c');
    const child2 = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args(c)],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let sent = false;
    child2.stderr.on('data', (chunk: Buffer) => {
      if (!sent && chunk.toString().includes('epoch 2/3 [')) {
        sent = true;
        child2.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) =>
      child2.on('exit', (n) => resolve(n)),
    );
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const mid = JSON.parse(readFileSync(path.join(c, 'last', 'train-state.json'), 'utf8')) as {
      epoch: number;
      step: number;
    };
    expect(mid.epoch).toBe(1);
    expect(mid.step).toBeGreaterThan(0);
    const resumed2 = runCliSync(['train', '--resume', c], { timeoutMs: 120_000 });
    expect(resumed2.status, resumed2.stderr).toBe(0);
    expect(metricsRows(c)).toEqual(metricsRows(a));
  }, 300_000);
});
