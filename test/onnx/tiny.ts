/**
 * Tiny random-weight U-Nets for the ONNX tests: built with the model engineer's buildUnet,
 * batch-norm statistics randomised so that the exported BatchNormalization is exercised,
 * saved as a model folder in a temp directory.
 */
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '../../src/data/index.js';
import type { tf } from '../../src/engine/index.js';
import {
  architectureOf,
  buildUnet,
  normalizeUnetOptions,
  type ModelMeta,
  type UnetOptions,
} from '../../src/model/index.js';
import { saveModelFolder } from '../../src/model/folder.node.js';
import { randomiseBatchNorm, tempDirFor } from './helpers.js';

export interface TinyModel {
  readonly dir: string;
  readonly model: tf.LayersModel;
  readonly meta: ModelMeta;
  readonly preprocess: PreprocessConfig;
}

/** Build, randomise and save a tiny U-Net (width 1/16) into a fresh temp folder. */
export async function tinyModelFolder(
  size: [number, number],
  classes: number,
  extra: Partial<UnetOptions> = {},
): Promise<TinyModel> {
  const options: UnetOptions = { inputSize: size, channels: 3, classes, width: 1 / 16, ...extra };
  const model = buildUnet(options);
  randomiseBatchNorm(model);
  const preprocess: PreprocessConfig = { ...DEFAULT_PREPROCESS, size };
  const meta: ModelMeta = {
    format: 1,
    name: `tiny-${classes === 1 ? 'binary' : 'multiclass'}`,
    version: '0.0.0',
    task: classes === 1 ? 'binary' : 'multiclass',
    classes:
      classes === 1
        ? ['tooth']
        : ['background', ...Array.from({ length: classes - 1 }, (_, i) => `c${i + 1}`)],
    input: { size, channels: 3 },
    preprocess,
    architecture: architectureOf(normalizeUnetOptions(options)),
  };
  const dir = tempDirFor('dentseg-onnx-');
  await saveModelFolder(dir, model, meta);
  return { dir, model, meta, preprocess };
}
