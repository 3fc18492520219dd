/**
 * The one place where inference engines are chosen: a registry keyed by name, with a
 * priority, so the ONNX runtime (./onnx-engine.ts) plugs in with one `registerEngine` call and
 * every caller (predict, evaluate, serve) picks engines the same way.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { DentsegError } from '../errors.js';
import type { ModelMeta } from '../model/index.js';
import {
  INT8_ONNX_FILE,
  loadOnnxFolder,
  onnxFolderAvailable,
  onnxUnavailableReason,
} from './onnx-engine.js';
import type { EngineName, InferenceEngine } from './types.js';

/** How an engine loads a model folder. */
export interface EngineFactory {
  readonly name: EngineName;
  /** Higher is tried first when no engine is asked for. */
  readonly priority: number;
  /** Whether the folder holds what this engine needs (e.g. `model.onnx`). */
  available(dir: string): boolean;
  /** Why `available` is false, as a sentence and the command that fixes it (optional). */
  unavailableReason?(dir: string): { message: string; hint: string } | undefined;
  load(dir: string): Promise<{ engine: InferenceEngine; meta: ModelMeta }>;
}

const registry = new Map<EngineName, EngineFactory>();

/** Add (or replace) an engine in the registry. */
export function registerEngine(factory: EngineFactory): void {
  registry.set(factory.name, factory);
}

/** Registered engine names, highest priority first. */
export function engineNames(): EngineName[] {
  return [...registry.values()].sort((a, b) => b.priority - a.priority).map((f) => f.name);
}

/**
 * Pick the engine for a folder: the one asked for (an error if it is unknown or the folder
 * lacks its files), else the highest-priority engine whose files are present.
 */
export function pickEngine(dir: string, name?: EngineName): EngineFactory {
  if (name !== undefined) {
    const f = registry.get(name);
    if (!f) {
      throw new DentsegError(
        'E_USAGE',
        `--engine must be one of ${engineNames().join(', ')}; received "${name}"`,
      );
    }
    if (!f.available(dir)) {
      const why = f.unavailableReason?.(dir);
      throw new DentsegError(
        'E_MODEL_INVALID',
        why?.message ?? `the model folder has no files for engine ${name}`,
        {
          file: dir,
          hint: why
            ? `${why.hint}, or use another engine (${engineNames().join(', ')})`
            : 'point --model at a folder written by `dentseg train`',
        },
      );
    }
    return f;
  }
  const sorted = [...registry.values()].sort((a, b) => b.priority - a.priority);
  const f = sorted.find((e) => e.available(dir));
  if (!f) {
    throw new DentsegError('E_MODEL_INVALID', 'not a model folder (no model.json)', {
      file: dir,
      hint: 'point --model at a folder written by `dentseg train`',
    });
  }
  return f;
}

/** A TensorFlow.js layers model as an engine; every tensor it makes is disposed. */
export function tfjsEngine(model: LayersModel): InferenceEngine {
  return {
    name: 'tfjs',
    async run(input, batch, h, w, c) {
      if (input.length !== batch * h * w * c) {
        throw new DentsegError(
          'E_USAGE',
          `engine input has ${input.length} values, expected ${batch}×${h}×${w}×${c}`,
        );
      }
      // Imported here, not at the top: predict and serve with an ONNX model never load
      // TensorFlow.js (~0.4 s of start-up). The module is cached after the first call.
      const { tf } = await import('../engine/tf.js');
      const y = tf.tidy(() => model.predict(tf.tensor4d(input, [batch, h, w, c])) as Tensor);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      model.dispose();
    },
  };
}

registerEngine({
  name: 'tfjs',
  priority: 0,
  available: (dir) => existsSync(path.join(dir, 'model.json')),
  async load(dir) {
    const { loadModelFolder } = await import('../model/folder.node.js');
    const { model, meta } = await loadModelFolder(dir);
    return { engine: tfjsEngine(model), meta };
  },
});

// --- ONNX Runtime engine (./onnx-engine.ts): preferred when the folder
// holds an up-to-date model.onnx (written by `dentseg export`); onnxruntime-node loads lazily.
registerEngine({
  name: 'onnx',
  priority: 10,
  available: (dir) => onnxFolderAvailable(dir),
  unavailableReason: (dir) => onnxUnavailableReason(dir),
  load: (dir) => loadOnnxFolder(dir),
});
// The int8 twin (`dentseg export --int8`) runs only when asked for: it trades a little
// accuracy for speed, a choice the user makes: below tfjs, so it is picked unasked only
// for a folder that holds nothing else.
registerEngine({
  name: 'onnx-int8',
  priority: -10,
  available: (dir) => onnxFolderAvailable(dir, INT8_ONNX_FILE),
  unavailableReason: (dir) => onnxUnavailableReason(dir, INT8_ONNX_FILE),
  load: (dir) => loadOnnxFolder(dir, { name: 'onnx-int8' }, INT8_ONNX_FILE),
});
// --- end ONNX Runtime engine
