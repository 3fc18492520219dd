/**
 * `--classes`, one meaning everywhere: class names, as a comma list starting with the
 * background or a JSON file (the forms `dentseg data check` and `train` read). Where a
 * count worked before (`model summary`, `weights import-keras`) a number is still taken.
 * Names map to outputs the way `train` maps a data set: up to two names (`tooth`, or
 * `background,tooth`) are a binary model of the last one, more are one output per class.
 */
import { readFileSync } from 'node:fs';
import { classesFromJson, DEFAULT_BINARY_CLASS } from '../data/classes.js';
import { DentsegError } from '../errors.js';
import { checkNumber, invalidValue } from './flags.js';

/** What `--classes` asks of a new model. */
export interface ClassesSpec {
  readonly task: 'binary' | 'multiclass';
  /** Network outputs: 1 for binary, else one per class (background included). */
  readonly outputs: number;
  /** Class names as dentseg.json stores them: binary `[target]`, else background first. */
  readonly names: readonly string[];
}

const EXPECTED =
  'class names (a comma list starting with background, or a JSON file) or a count from 1 to 255';

function fromNames(names: readonly string[]): ClassesSpec {
  if (names.length <= 2)
    return { task: 'binary', outputs: 1, names: [names[names.length - 1] ?? DEFAULT_BINARY_CLASS] };
  return { task: 'multiclass', outputs: names.length, names: [...names] };
}

/** `--classes` of a command that builds a model (model summary, weights import-keras). */
export function classesFromFlag(flag: string, v: unknown): ClassesSpec {
  if (typeof v !== 'string' || v.trim() === '') throw invalidValue(flag, EXPECTED, v);
  const text = v.trim();
  if (/^\d+$/.test(text)) {
    const n = checkNumber(flag, text, { integer: true, min: 1, max: 255, expected: EXPECTED });
    if (n === 1) return fromNames([DEFAULT_BINARY_CLASS]);
    return {
      task: 'multiclass',
      outputs: n,
      names: Array.from({ length: n }, (_, i) => (i ? `class${i}` : 'background')),
    };
  }
  if (/\.json$/i.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(text, 'utf8'));
    } catch (err) {
      const missing = (err as { code?: string }).code === 'ENOENT';
      throw new DentsegError(
        missing ? 'E_FILE_NOT_FOUND' : 'E_CONFIG_INVALID',
        missing ? `${flag}: no such file` : `${flag}: not valid JSON`,
        { file: text, cause: err },
      );
    }
    const names = classesFromJson(json);
    if (!names || names.length > 255) throw invalidValue(flag, EXPECTED, v);
    return fromNames(names);
  }
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0 || names.length > 255) throw invalidValue(flag, EXPECTED, v);
  return fromNames(names);
}
