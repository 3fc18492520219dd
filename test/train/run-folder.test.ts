// Run-folder plumbing: CSV layout, pooled summaries, atomic folder replacement and the
// checkpoint fallbacks that --resume relies on.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../src/model/folder.node.js';
import {
  loadCheckpoint,
  metricsCsv,
  replaceDirAtomic,
  RunFolder,
  METRIC_COLUMNS,
} from '../../src/train/run-folder.js';
import { summarise, type TrainerState } from '../../src/train/trainer.js';
import { writeTinyModel } from '../helpers/tiny-model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('metrics.csv and summaries', () => {
  it('writes one row per epoch in the documented column order', () => {
    const csv = metricsCsv([{ epoch: 1, lr: 1e-4, loss: 0.123456789, dice: 0.5, val_dice: NaN }]);
    const [head, row] = csv.trim().split('\n');
    expect(head).toBe(METRIC_COLUMNS.join(','));
    expect(row).toBe('1,0.0001,0.123457,,0.5,,,,,,');
  });

  it('pools binary and multi-class counts', () => {
    // binary: tp 3, predicted 4, true 5, 10 pixels → wrong = 1 + 2
    expect(summarise([3, 4, 5], 10)).toEqual({ accuracy: 0.7, dice: 6 / 9 });
    // 3 classes: tp [5,1,0], pred [6,2,0], true [6,1,1]; Dice over classes 1 and 2 (present)
    const s = summarise([5, 1, 0, 6, 2, 0, 6, 1, 1], 8);
    expect(s.accuracy).toBeCloseTo(6 / 8, 12);
    expect(s.dice).toBeCloseTo((2 / 3 + 0) / 2, 12);
  });
});

describe('atomic folders and checkpoints', () => {
  it('replaces a folder without ever leaving neither copy', async () => {
    const dir = path.join(tmp, 'last');
    await replaceDirAtomic(dir, async (t) => writeFileSync(path.join(t, 'a'), '1'));
    await replaceDirAtomic(dir, async (t) => writeFileSync(path.join(t, 'a'), '2'));
    expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('2');
    expect(existsSync(`${dir}.old`)).toBe(false);
    expect(existsSync(`${dir}.tmp`)).toBe(false);
  });

  it('refuses a run without a checkpoint and names the folder', async () => {
    const run = path.join(tmp, 'empty');
    mkdirSync(run);
    await expect(loadCheckpoint(run)).rejects.toMatchObject({ code: 'E_CHECKPOINT_INVALID' });
  });

  it('falls back to last.old when a kill struck between the two renames', async () => {
    const run = path.join(tmp, 'between');
    mkdirSync(path.join(run, 'last'), { recursive: true });
    writeFileSync(path.join(run, 'last', 'train-state.json'), '{"version": 2}');
    renameSync(path.join(run, 'last'), path.join(run, 'last.old'));
    // found last.old, and its unknown layout is reported, not crashed on
    await expect(loadCheckpoint(run)).rejects.toThrow(/last\.old.*unknown layout/);
  });
});

describe('train --float16', () => {
  it('stores best/ as float16 and keeps last/ float32 for an exact resume', async () => {
    const start = path.join(tmp, 'tiny');
    const meta = await writeTinyModel(start, { size: 32 });
    const { model } = await loadModelFolder(start);
    const params = model.countParams();
    const state: TrainerState = {
      version: 1,
      epoch: 1,
      step: 0,
      partial: null,
      learningRate: 1e-3,
      history: [{ epoch: 1 }],
      callbacks: {},
      stopped: false,
    };
    const optimizer = { index: [], data: new Float32Array(0) };
    const dtypes = (dir: string): string[] => {
      const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
        weightsManifest: { weights: { quantization?: { dtype: string } }[] }[];
      };
      return [
        ...new Set(json.weightsManifest[0]!.weights.map((w) => w.quantization?.dtype ?? 'float32')),
      ];
    };
    const half = new RunFolder(path.join(tmp, 'half'), () => meta, { bestFloat16: true });
    await half.saveBest(model, 0, { epoch: 1 });
    await half.saveLast(model, state, optimizer);
    expect(dtypes(half.bestDir)).toEqual(['float16']);
    expect(statSync(path.join(half.bestDir, 'weights.bin')).size).toBe(params * 2);
    expect(dtypes(half.lastDir)).toEqual(['float32']);
    expect(statSync(path.join(half.lastDir, 'weights.bin')).size).toBe(params * 4);
    const plain = new RunFolder(path.join(tmp, 'plain'), () => meta);
    await plain.saveBest(model, 0, { epoch: 1 });
    expect(dtypes(plain.bestDir)).toEqual(['float32']);
    // what predict/evaluate/export read: the float16 folder loads like any other
    const loaded = await loadModelFolder(half.bestDir);
    expect(loaded.model.countParams()).toBe(params);
    loaded.model.dispose();
    model.dispose();
  });
});
