/**
 * `--json [FILE]`, one meaning in every command and bench script: without a value the JSON
 * goes to stdout (and the human summary, if any, to stderr); with one it is written to
 * FILE (folders created). `-` as FILE is stdout too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where `--json` sends the JSON, or undefined when the flag was not given. */
export type JsonTarget = { readonly stdout: true } | { readonly file: string } | undefined;

/** `[flags, description]` for `cmd.option(...jsonOption('the report'))`. */
export function jsonOption(what: string): readonly [string, string] {
  return ['--json [file]', `${what} as JSON: to FILE, or to stdout without one`];
}

/** The parsed `--json` value (commander: true when bare, the text when given). */
export function jsonTarget(v: unknown): JsonTarget {
  if (v === undefined || v === false) return undefined;
  if (v === true || v === '-' || v === '') return { stdout: true };
  return { file: String(v) };
}

/** Write `value` as pretty JSON (with a final newline) where `target` says. */
export async function writeJson(target: NonNullable<JsonTarget>, value: unknown): Promise<void> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if ('stdout' in target) {
    process.stdout.write(text);
    return;
  }
  await mkdir(path.dirname(path.resolve(target.file)), { recursive: true });
  await writeFile(target.file, text);
}

/**
 * `node:util` parseArgs knows no optional values: a bare `--json` (last, or followed by
 * another flag) becomes `--json=-` so that `{ json: { type: 'string' } }` reads it.
 */
export function bareJsonToStdout(argv: readonly string[]): string[] {
  return argv.map((a, i) => {
    if (a !== '--json') return a;
    const next = argv[i + 1];
    return next === undefined || next.startsWith('-') ? '--json=-' : a;
  });
}

/**
 * For scripts reading `--json` through `bareJsonToStdout`: `-` prints `value` to stdout,
 * anything else is a file written with its folders.
 */
export function writeJsonSync(target: string, value: unknown): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  writeFileSync(target, text);
}
