/**
 * The one place where inference engines are chosen: a registry keyed by name, with a
 * priority, so that every caller (predict, evaluate, serve) picks engines the same way. It
 * knows no engine itself: each platform's entry registers its own (Node: ./engines.node.ts,
 * TensorFlow.js and ONNX Runtime; a new engine is one `registerEngine` call).
 */
import { DentsegError } from '../errors.js';
import type { ModelMeta } from '../model/index.js';
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
