/**
 * Where tests find the repository and the real X-rays in ../shared/data (never copied
 * into the repo), plus the one way to run the CLI from source without a build (a command,
 * `serve`, a `worker`).
 */
import {
  spawn,
  spawnSync,
  type ChildProcessWithoutNullStreams,
  type SpawnSyncReturns,
} from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DATA =
  process.env.DENTSEG_SHARED_DATA ?? path.resolve(REPO_ROOT, '../shared/data');
export const UFBA = path.join(SHARED_DATA, 'ufba425');
export const SAMPLES = path.join(SHARED_DATA, 'samples');
export const CARIES = path.join(SHARED_DATA, 'dc1000-caries');
export const HAS_SHARED_DATA = existsSync(path.join(UFBA, 'split.csv'));

/** The node arguments that run `dentseg ARGS` from the TypeScript sources (tsx). */
function cliArgv(args: readonly string[]): string[] {
  return ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args];
}

/** Run `dentseg ARGS` from the TypeScript sources (tsx), synchronously. */
export function runCliSync(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, cliArgv(args), {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
  });
}

/**
 * Start `dentseg ARGS` from the sources in the repository, `env` added to the environment;
 * stdout and stderr are pipes, which the caller reads (or resumes) and the caller stops it.
 */
export function spawnCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, cliArgv(args), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
}

/**
 * Start `dentseg serve ARGS` from the sources (`env` added) and wait for the address it
 * prints on stderr. Returns the child, that address and the stderr text read so far; the
 * caller stops it.
 */
export async function spawnServe(
  args: readonly string[],
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; stderr: string }> {
  const child = spawnCli(['serve', ...args], env);
  child.stdout.resume();
  try {
    return await new Promise((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`no address printed:\n${err}`)), timeoutMs);
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        const m = /dentseg serve: (http:\/\/\S+)/.exec(err);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve({ child, url: m[1], stderr: err });
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}:\n${err}`)));
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

/** A `dentseg worker` process started by {@link spawnWorker}. */
export interface SpawnedWorker {
  readonly proc: ChildProcessWithoutNullStreams;
  /** All it printed so far, stdout and stderr. */
  readonly log: () => string;
  /** Resolves once it says its pid (it is taking jobs); rejects when it exits before. */
  readonly ready: Promise<void>;
}

/**
 * Start `dentseg worker ARGS` from the sources on one compute thread (`DENTSEG_THREADS=1`:
 * workers in a test share the machine). Returned at once, so that a test can kill it at any
 * point; await `ready` before giving it jobs. The caller stops it.
 */
export function spawnWorker(args: readonly string[]): SpawnedWorker {
  let out = '';
  const proc = spawnCli(['worker', ...args], { DENTSEG_THREADS: '1' });
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('dentseg worker: pid')) resolve();
    };
    proc.stderr.on('data', onData);
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`worker exited (${code}): ${out}`)));
  });
  // A worker killed before it was ready, with no one waiting: no unhandled rejection.
  ready.catch(() => undefined);
  return { proc, log: () => out, ready };
}
