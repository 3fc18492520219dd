/**
 * The Dice part of `npm run bench:int8`: a model folder's `model.onnx` and `model.int8.onnx`
 * scored by `evaluateModel` on the same images, so the int8 loss is measured exactly as
 * `dentseg evaluate` measures a model. A numbering model is scored on the per-tooth FDI
 * masks (its per-tooth mean and the union of its teeth are what the int8 targets name); a
 * binary model on the binary masks, as before.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openDataset, type DatasetOptions } from '../src/data/index.node.js';
import { evaluateModel, type Subset } from '../src/evaluate/index.js';
import { loadModel } from '../src/infer/index.js';
import type { ModelMeta } from '../src/model/index.js';
import { numberingConfig } from '../src/numbering/index.js';

/** Mask folder and class list of a numbering model's data, as ufba425 lays them out. */
export const FDI_MASKS = 'masks_fdi';
export const FDI_CLASSES = 'classes_fdi.json';

/** One engine's scores (all 0…1, rounded to 4 decimals). */
export interface EngineScores {
  /** `pooled.dice` of `dentseg evaluate` (multi-class: the mean of each class's pooled Dice). */
  readonly pooled: number;
  readonly perImageMean: number;
  /** Numbering models: all teeth as one class (`union.dice` of `dentseg evaluate`). */
  readonly unionDice?: number;
  /** Numbering models: `teeth.meanToothDice`, `teeth.f1` and `teeth.chartAccuracy`. */
  readonly meanToothDice?: number;
  readonly f1?: number;
  readonly chartAccuracy?: number;
}

/** fp32 and int8 on the same images; each loss is fp32 − int8 (positive: int8 is worse). */
export interface Int8DiceResult {
  readonly data: string;
  readonly masks: string;
  readonly subset: Subset;
  readonly images: number;
  readonly fp32: EngineScores;
  readonly int8: EngineScores;
  readonly pooledLoss: number;
  /** Numbering models: the loss of every score in `EngineScores` but the pooled one. */
  readonly losses?: {
    readonly unionDice: number;
    readonly meanToothDice: number;
    readonly f1: number;
    readonly chartAccuracy: number;
  };
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/**
 * The data set that scores the model in `dir`: `data/images`, `data/split.csv` and, for a
 * numbering model, `data/masks_fdi` with `data/classes_fdi.json` as multi-class masks,
 * else the binary `data/masks`. Throws naming what is missing.
 */
export function int8DataOptions(dir: string, data: string): DatasetOptions {
  const meta = JSON.parse(readFileSync(path.join(dir, 'dentseg.json'), 'utf8')) as ModelMeta;
  const base = { images: path.join(data, 'images'), split: path.join(data, 'split.csv') };
  if (numberingConfig(meta) === undefined) return { ...base, masks: path.join(data, 'masks') };
  const masks = path.join(data, FDI_MASKS);
  const classes = path.join(data, FDI_CLASSES);
  for (const p of [masks, classes])
    if (!existsSync(p)) throw new Error(`${meta.name} is a numbering model: it needs ${p}`);
  return { ...base, masks, classes, multiclass: true };
}

/** Score `model.onnx` and `model.int8.onnx` of `dir` on `data`'s `subset` (default val). */
export async function int8Dice(
  dir: string,
  data: string,
  subset: Subset = 'val',
): Promise<Int8DiceResult> {
  const options = int8DataOptions(dir, data);
  const ds = await openDataset(options);
  const scores: Partial<Record<'onnx' | 'onnx-int8', EngineScores>> = {};
  let images = 0;
  for (const engine of ['onnx', 'onnx-int8'] as const) {
    const model = await loadModel(dir, { engine });
    try {
      const { report } = await evaluateModel(model, ds, { subset });
      images = report.images;
      scores[engine] = {
        pooled: round4(report.pooled.dice),
        perImageMean: round4(report.perImage.dice),
        ...(report.union && report.teeth
          ? {
              unionDice: round4(report.union.dice),
              meanToothDice: round4(report.teeth.meanToothDice),
              f1: round4(report.teeth.f1),
              chartAccuracy: round4(report.teeth.chartAccuracy),
            }
          : {}),
      };
    } finally {
      model.dispose();
    }
  }
  const fp32 = scores.onnx!;
  const int8 = scores['onnx-int8']!;
  const loss = (k: keyof EngineScores): number => round4((fp32[k] ?? NaN) - (int8[k] ?? NaN));
  return {
    data: path.relative(process.cwd(), data),
    masks: path.relative(process.cwd(), options.masks ?? ''),
    subset,
    images,
    fp32,
    int8,
    pooledLoss: loss('pooled'),
    ...(fp32.unionDice !== undefined
      ? {
          losses: {
            unionDice: loss('unionDice'),
            meanToothDice: loss('meanToothDice'),
            f1: loss('f1'),
            chartAccuracy: loss('chartAccuracy'),
          },
        }
      : {}),
  };
}
