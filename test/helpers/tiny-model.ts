/**
 * A tiny random-weight U-Net (width 1/16) saved as a model folder: fast fixtures for the
 * inference, evaluation and server tests, whose outputs are meaningless but shaped right.
 */
import { DEFAULT_PREPROCESS, type PreprocessConfig } from '../../src/data/index.js';
import { initEngine } from '../../src/engine/index.js';
import {
  architectureOf,
  buildUnet,
  normalizeUnetOptions,
  type ModelMeta,
} from '../../src/model/index.js';
import { saveModelFolder } from '../../src/model/folder.node.js';

export interface TinyModelOptions {
  /** 1 = binary sigmoid, K ≥ 2 softmax. Default 1. */
  readonly classes?: number;
  /** Square input size in pixels, multiple of 32. Default 64. */
  readonly size?: number;
  /** Weight-initialisation seed. Default 3. */
  readonly seed?: number;
  /** Model name in dentseg.json. Default `tiny-teeth` / `tiny-fdi`. */
  readonly name?: string;
  readonly preprocess?: Partial<PreprocessConfig>;
  /** Multi-class: the class names (index 0 background); default "tooth 1"…"tooth K-1". */
  readonly classNames?: readonly string[];
  /** dentseg.json `postprocess` (e.g. `{ lesion: 'caries', minAreaPx: 5 }` for a lesion model). */
  readonly postprocess?: ModelMeta['postprocess'];
  /** Binary: the target's name (default `teeth`). */
  readonly target?: string;
}

/** Save a tiny random U-Net in `dir` and return its `dentseg.json`. */
export async function writeTinyModel(dir: string, opts: TinyModelOptions = {}): Promise<ModelMeta> {
  await initEngine();
  const classes = opts.classes ?? 1;
  const size = opts.size ?? 64;
  const unet = normalizeUnetOptions({
    inputSize: [size, size],
    channels: 3,
    classes,
    width: 1 / 16,
    seed: opts.seed ?? 3,
  });
  const model = buildUnet(unet);
  const meta: ModelMeta = {
    format: 1,
    name: opts.name ?? (classes === 1 ? 'tiny-teeth' : 'tiny-fdi'),
    version: '0.0.1',
    task: classes === 1 ? 'binary' : 'multiclass',
    classes:
      classes === 1
        ? [opts.target ?? 'teeth']
        : opts.classNames
          ? [...opts.classNames]
          : ['background', ...Array.from({ length: classes - 1 }, (_, i) => `tooth ${i + 1}`)],
    input: { size: [size, size], channels: 3 },
    preprocess: { ...DEFAULT_PREPROCESS, size: [size, size], ...opts.preprocess },
    architecture: architectureOf(unet),
    ...(opts.postprocess ? { postprocess: opts.postprocess } : {}),
  };
  await saveModelFolder(dir, model, meta);
  model.dispose();
  return meta;
}
