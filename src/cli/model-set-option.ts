/**
 * The model set `serve` and `worker` run: the folders of `--model` (repeatable), else the
 * bundled set as `predict` defines it (infer/model-set.node.ts), each folder checked before
 * anything loads and each model loaded once.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DentsegError } from '../errors.js';
import { BUNDLED_SET } from '../infer/bundled-set.js';
import type { LoadModelOptions } from '../infer/load.js';
import { defaultModelSetDirs, loadModelSet, type LoadedModelSet } from '../infer/model-set.node.js';

/**
 * The folders of the set: `dirs` (from `--model`) when given, each a model folder, else the
 * bundled set. E_MODEL_INVALID names a folder without model.json, or says the bundled
 * models are missing and to pass --model.
 */
export function servedSetDirs(dirs: readonly string[]): string[] {
  if (dirs.length === 0) {
    try {
      return defaultModelSetDirs();
    } catch (cause) {
      throw new DentsegError(
        'E_MODEL_INVALID',
        `the bundled default model is missing (${BUNDLED_SET.teeth.map((n) => `models/${n}`).join(' or ')})`,
        {
          cause,
          hint: 'train it (see the default-model section of the README) or pass --model DIR',
        },
      );
    }
  }
  for (const dir of dirs) {
    if (!existsSync(path.join(dir, 'model.json'))) {
      throw new DentsegError('E_MODEL_INVALID', 'not a model folder (no model.json)', {
        file: dir,
        hint: 'point --model at a folder written by `dentseg train`',
      });
    }
  }
  return [...dirs];
}

/** Load the set of `--model` folders (else the bundled set), each once; logs what runs. */
export function loadServedSet(
  dirs: readonly string[],
  opts: Omit<LoadModelOptions, 'log'> = {},
): Promise<LoadedModelSet> {
  return loadModelSet(servedSetDirs(dirs), { ...opts, log: true });
}
