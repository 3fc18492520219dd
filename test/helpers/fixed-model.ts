/**
 * Models without weights for the tests that need a model's shape but not its answers: a
 * parsed `dentseg.json` of the given task and classes, and a LoadedModel whose engine
 * answers the same probability everywhere (no backend, no files).
 */
import type { InferenceEngine, LoadedModel } from '../../src/infer/index.js';
import { parseModelMeta, type ModelMeta } from '../../src/model/meta.js';

/** What differs between the fixed models of the tests. */
export interface FixedMetaOptions {
  /** dentseg.json `name` (default `fixed`). */
  readonly name?: string;
  readonly task: 'binary' | 'multiclass';
  readonly classes: readonly string[];
  /** Input size `[height, width]` in pixels. */
  readonly size: readonly [number, number];
  /** Merged over `{ size, channels: 1, normalise: 'unit' }`. */
  readonly preprocess?: Readonly<Record<string, unknown>>;
  readonly postprocess?: Readonly<Record<string, unknown>>;
}

/** A parsed dentseg.json of a one-channel VGG-16 U-Net with `opts`' task and classes. */
export function fixedMeta(opts: FixedMetaOptions): ModelMeta {
  const name = opts.name ?? 'fixed';
  return parseModelMeta(
    {
      format: 1,
      name,
      version: '0.0.1',
      task: opts.task,
      classes: opts.classes,
      input: { size: opts.size, channels: 1 },
      preprocess: { size: opts.size, channels: 1, normalise: 'unit', ...opts.preprocess },
      architecture: {
        encoder: 'vgg16',
        width: 1,
        decoderFilters: [],
        batchNorm: false,
        dropout: 0,
      },
      ...(opts.postprocess ? { postprocess: opts.postprocess } : {}),
    },
    `${name}/dentseg.json`,
  );
}

/** A binary model (64², stretched) that answers `p` everywhere: `p` ≥ 0.5 is all foreground. */
export function constantModel(p: number): LoadedModel {
  return {
    meta: fixedMeta({
      task: 'binary',
      classes: ['tooth'],
      size: [64, 64],
      preprocess: { aspect: 'stretch' },
    }),
    dir: 'fixed',
    dispose: () => {},
    engine: {
      name: 'tfjs',
      dispose: () => {},
      run: async (_x, n, h, w) => new Float32Array(n * h * w).fill(p),
    },
  };
}

/**
 * An engine that answers each input value as the probability (grey 0…1 under `unit`
 * normalisation), so that what a pipeline did to the image shows in its output; `runs`
 * counts the images (tiles) it ran.
 */
export function identityEngine(): InferenceEngine & { runs: number } {
  const engine = {
    name: 'tfjs' as const,
    runs: 0,
    dispose: () => {},
    run: (x: Float32Array, n: number): Promise<Float32Array> => {
      engine.runs += n;
      return Promise.resolve(x.slice());
    },
  };
  return engine;
}
