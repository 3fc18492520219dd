/**
 * Where tests find the repository and the real X-rays in ../shared/data (never copied
 * into the repo), plus a way to run the CLI from source without a build.
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

/** Run `dentseg ARGS` from the TypeScript sources (tsx), synchronously. */
export function runCliSync(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 300_000,
    },
  );
}

/**
 * Start `dentseg serve ARGS` from the sources and wait for the address it prints on stderr.
 * Returns the child, that address and the stderr text read so far; the caller stops it.
 */
export async function spawnServe(
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve', ...args],
    { cwd: REPO_ROOT },
  );
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
