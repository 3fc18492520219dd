/**
 * The one validator of command-line values, used by every `dentseg` command (and by the
 * check of a resumed run's `config.json`). Values are checked once, at the boundary, and a
 * refusal names what the user wrote, what it must be and what it received, in the words
 * of sharp's `invalidParameterError`:
 * `Expected an integer ≥ 1 for --batch but received "-3"` (E_USAGE, exit 64).
 */
import { DentsegError, type ErrorCode } from '../errors.js';
import { BUNDLED_SET_TEXT } from '../infer/bundled-set.js';

/**
 * Where values come from. Command-line values are text (`"-3"`); values read from a JSON
 * file have a type, which a refusal shows (`"8" of type string`) and which must match.
 */
export interface ValueSource {
  /** What the user calls the value of `key` (`--batch`, or `batch` in a file). */
  name(key: string): string;
  /** Error code of a refusal (E_USAGE for flags). */
  readonly code: ErrorCode;
  /** The file the values were read from, named first in every refusal. */
  readonly file?: string;
  readonly hint?: string;
  /** JSON values: numbers must be numbers, booleans booleans; no text parsing. */
  readonly typed: boolean;
}

/** `minArea` → `--min-area`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`;
}

/** Flags of a command (commander's camelCase keys named as typed). */
export const CLI_SOURCE: ValueSource = Object.freeze({
  name: flagName,
  code: 'E_USAGE',
  typed: false,
});

/** Fields of a JSON file, refused with `code` (e.g. E_CHECKPOINT_INVALID for a run's config). */
export function fileSource(file: string, code: ErrorCode, hint?: string): ValueSource {
  return Object.freeze({
    name: (key: string) => key,
    code,
    file,
    typed: true,
    ...(hint !== undefined ? { hint } : {}),
  });
}

/** A received value as a refusal shows it: text quoted as typed, anything else with its type. */
export function describeReceived(v: unknown, typed = false): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string')
    return typed ? `${JSON.stringify(v)} of type string` : JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `${JSON.stringify(v)} of type array`;
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `${text} of type ${typeof v}`;
}

/** The refusal of one value: `Expected EXPECTED for NAME but received VALUE`. */
export function invalidValue(
  name: string,
  expected: string,
  received: unknown,
  source: ValueSource = CLI_SOURCE,
): DentsegError {
  return new DentsegError(
    source.code,
    `Expected ${expected} for ${name} but received ${describeReceived(received, source.typed)}`,
    {
      ...(source.file !== undefined ? { file: source.file } : {}),
      hint:
        source.hint ?? (source.code === 'E_USAGE' ? `the command's --help describes ${name}` : ''),
    },
  );
}

/** Bounds of a number; `integer` also refuses fractions. */
export interface NumberRule {
  readonly integer?: boolean;
  /** Inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** Exclusive bounds. */
  readonly above?: number;
  readonly below?: number;
  /** Must be a multiple of this (e.g. 32 for a U-Net's input). */
  readonly multipleOf?: number;
  /** What the value is, for the refusal (default: built from the bounds). */
  readonly expected?: string;
}

/** "an integer in [1, 16]", "a number in (0, 1]", "a number ≥ 0", … from a rule. */
export function describeRule(r: NumberRule): string {
  if (r.expected !== undefined) return r.expected;
  const kind = r.integer ? 'an integer' : 'a number';
  const lo = r.min !== undefined ? `[${r.min}` : r.above !== undefined ? `(${r.above}` : undefined;
  const hi = r.max !== undefined ? `${r.max}]` : r.below !== undefined ? `${r.below})` : undefined;
  const multiple = r.multipleOf !== undefined ? ` that is a multiple of ${r.multipleOf}` : '';
  if (lo !== undefined && hi !== undefined) return `${kind} in ${lo}, ${hi}${multiple}`;
  if (r.min !== undefined) return `${kind} ≥ ${r.min}${multiple}`;
  if (r.above !== undefined) return `${kind} > ${r.above}${multiple}`;
  if (r.max !== undefined) return `${kind} ≤ ${r.max}${multiple}`;
  if (r.below !== undefined) return `${kind} < ${r.below}${multiple}`;
  return `${kind}${multiple}`;
}

function passes(n: number, r: NumberRule): boolean {
  return (
    Number.isFinite(n) &&
    (!r.integer || Number.isInteger(n)) &&
    (r.min === undefined || n >= r.min) &&
    (r.max === undefined || n <= r.max) &&
    (r.above === undefined || n > r.above) &&
    (r.below === undefined || n < r.below) &&
    (r.multipleOf === undefined || n % r.multipleOf === 0)
  );
}

/** `v` as a number that follows `rule`, else the refusal naming `name`. */
export function checkNumber(
  name: string,
  v: unknown,
  rule: NumberRule = {},
  source: ValueSource = CLI_SOURCE,
): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && !source.typed && v.trim() !== '') n = Number(v);
  else n = NaN;
  if (!passes(n, rule)) throw invalidValue(name, describeRule(rule), v, source);
  return n;
}

/** A comma list of numbers each following `rule` (a JSON array from a typed source). */
export function checkNumberList(
  name: string,
  v: unknown,
  rule: NumberRule = {},
  source: ValueSource = CLI_SOURCE,
  count?: number,
): number[] {
  const expected =
    `${count === undefined ? '' : `${count} `}comma-separated numbers, each ` +
    describeRule(rule).replace(/^an? /, '');
  const items: unknown[] | undefined = source.typed
    ? Array.isArray(v)
      ? v
      : undefined
    : typeof v === 'string'
      ? v.split(',').map((s) => s.trim())
      : undefined;
  if (items === undefined || items.length === 0 || (count !== undefined && items.length !== count))
    throw invalidValue(name, expected, v, source);
  return items.map((item) => {
    const ok = typeof item === 'number' || (typeof item === 'string' && !source.typed);
    const n = ok ? Number(item) : NaN;
    if (!(ok && String(item).trim() !== '' && passes(n, rule)))
      throw invalidValue(name, expected, v, source);
    return n;
  });
}

/** One of `choices`. */
export function checkChoice<T extends string>(
  name: string,
  v: unknown,
  choices: readonly T[],
  source: ValueSource = CLI_SOURCE,
): T {
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  throw invalidValue(name, `one of ${choices.join(', ')}`, v, source);
}

/**
 * A size in pixels, `N` (square) or `H,W` (a JSON number or `[H, W]` from a file); each
 * side an integer ≥ `min` and a multiple of `multipleOf`. Returns `[height, width]`.
 */
export function checkSize(
  name: string,
  v: unknown,
  opts: { readonly multipleOf?: number; readonly min?: number; readonly square?: boolean } = {},
  source: ValueSource = CLI_SOURCE,
): [number, number] {
  const multipleOf = opts.multipleOf ?? 1;
  const min = Math.max(opts.min ?? 1, multipleOf);
  const side: NumberRule = { integer: true, min, ...(multipleOf > 1 ? { multipleOf } : {}) };
  const expected =
    (opts.square ? 'a square size N (or H,W with H = W)' : 'a size N or H,W') +
    `, each ${describeRule(side).replace(/^an? /, '')}` +
    (multipleOf === 32 ? ' (the U-Net halves it five times)' : '');
  let parts: unknown[];
  if (typeof v === 'number') parts = [v, v];
  else if (Array.isArray(v) && source.typed) parts = v;
  else if (typeof v === 'string' && !source.typed) parts = v.split(',').map((s) => s.trim());
  else throw invalidValue(name, expected, v, source);
  if (parts.length === 1) parts = [parts[0], parts[0]];
  const nums = parts.map((p) =>
    typeof p === 'number' || (typeof p === 'string' && p !== '') ? Number(p) : NaN,
  );
  const [h, w] = nums;
  if (
    nums.length !== 2 ||
    h === undefined ||
    w === undefined ||
    !passes(h, side) ||
    !passes(w, side) ||
    (opts.square === true && h !== w)
  )
    throw invalidValue(name, expected, v, source);
  return [h, w];
}

/** A commander argument parser from a check, so the flag is refused while parsing. */
export function parser<T>(check: (value: string) => T): (value: string) => T {
  return (value) => check(value);
}

/** A commander parser for a number flag following `rule`. */
export function numberParser(flag: string, rule: NumberRule): (value: string) => number {
  return parser((value) => checkNumber(flag, value, rule));
}

// The short forms the commands use.

/** `v` as a number that passes `check`, else E_USAGE naming `flag` and `expected`. */
export function numberFlag(
  flag: string,
  v: unknown,
  check: (n: number) => boolean = () => true,
  expected = 'a number',
): number {
  const n = checkNumber(flag, v, { expected });
  if (!check(n)) throw invalidValue(flag, expected, v);
  return n;
}

/** A number within [`min`, `max`] (`max` unbounded by default). */
export function rangeFlag(flag: string, v: unknown, min: number, max = Infinity): number {
  return checkNumber(flag, v, { min, ...(max !== Infinity ? { max } : {}) });
}

/** An integer ≥ `min` (and ≤ `max` when given). */
export function intFlag(flag: string, v: unknown, min: number, max?: number): number {
  return checkNumber(flag, v, { integer: true, min, ...(max !== undefined ? { max } : {}) });
}

/** A square input size in pixels: a multiple of 32, at least 32 (`N`, or `N,N`). */
export function sizeFlag(flag: string, v: unknown): number {
  return checkSize(flag, v, { multipleOf: 32, square: true })[0];
}

/** Input channels: 1 (grey) or 3. */
export function channelsFlag(flag: string, v: unknown): 1 | 3 {
  return numberFlag(flag, v, (n) => n === 1 || n === 3, '1 or 3') as 1 | 3;
}

/** A text flag that must be given (`what` says what it is). */
export function requiredFlag(flag: string, v: unknown, what: string): string {
  if (typeof v === 'string' && v !== '') return v;
  throw invalidValue(flag, what, v);
}

/**
 * The output path, `--out` everywhere; `aliases` are the commander keys of its older
 * spellings (`output`, `onnx`), still accepted. Two different values are refused.
 */
export function outFlag(opts: object, aliases: readonly string[]): string | undefined {
  const o = opts as Readonly<Record<string, unknown>>;
  const given = ['out', ...aliases].filter((k) => typeof o[k] === 'string');
  const values = new Set(given.map((k) => o[k] as string));
  if (values.size > 1) {
    const [first, ...older] = given.map(flagName);
    throw new DentsegError(
      'E_USAGE',
      `Expected one output path for ${first} (${older.join(', ')}: its older spelling) but received ` +
        [...values].map((v) => JSON.stringify(v)).join(' and '),
      { hint: `give only ${first}` },
    );
  }
  const first = given[0];
  return first === undefined ? undefined : (o[first] as string);
}

/** `[flags, description]` of an older spelling of `--out`. */
export function outAlias(alias: string): readonly [string, string] {
  return [`--${alias} <path>`, 'older spelling of --out'];
}

/**
 * `--model DIR`, repeatable: commander calls this per occurrence, in order. A set of models
 * (the bundled set without the flag; see src/infer/model-set.ts) for the commands that run
 * one (`predict`, `serve`, `worker`, `batch`).
 */
function collectModelDir(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `[flags, description, collector]` of the repeatable `--model DIR`. */
export const MODEL_SET_OPTION = [
  '--model <dir>',
  `model folder; repeat for a set of models (default: the bundled set: ${BUNDLED_SET_TEXT})`,
  collectModelDir,
] as const;

/**
 * The folders given with a repeatable `--model`, validated once: each a non-empty path, none
 * twice (the same folder twice would run the same model twice). Undefined when the flag is
 * absent (the bundled set). Whether the folders exist and make a set is checked on loading.
 */
export function modelDirsFlag(
  values: readonly string[] | undefined,
): readonly string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const seen = new Map<string, string>();
  for (const v of values) {
    if (typeof v !== 'string' || v.trim() === '')
      throw invalidValue('--model', 'a model folder', v);
    // Spelled differently, the same folder: `models/x` and `./models/x/`.
    const key = v
      .replace(/\\/g, '/')
      .replace(/\/+$/, '')
      .replace(/^(\.\/)+/, '');
    const before = seen.get(key);
    if (before !== undefined) {
      throw new DentsegError(
        'E_USAGE',
        `Expected each model folder once for --model but received ${JSON.stringify(before)} and ${JSON.stringify(v)}`,
        { hint: 'give each --model DIR once' },
      );
    }
    seen.set(key, v);
  }
  return Object.freeze([...values]);
}
