// SIGTERM (kill, systemd, containers, CI) stops a training run like Ctrl-C: after the
// current step, with last/ saved at that step, even when the run was started in the
// background of a non-interactive shell, and `--resume` continues from there.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, runCliSync, UFBA } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-signals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A tiny run: 24 samples at 32², batch 2 (12 steps an epoch). One loader worker decodes
 * ahead of the steps, so after the first step every await of the loop can resolve from
 * the microtask queue: the case where a signal used to wait for the end of the epoch.
 */
const args = (out: string): string[] => [
  'train',
  ...['--images', path.join(UFBA, 'images'), '--masks', path.join(UFBA, 'masks')],
  ...['--split', path.join(UFBA, 'split.csv'), '--out', out],
  ...['--size', '32', '--width', '0.0625', '--channels', '1', '--normalise', 'unit'],
  ...['--batch', '2', '--epochs', '2', '--limit', '24', '--val-limit', '2', '--seed', '3'],
  ...['--lr', '1e-3', '--workers', '1', '--no-augment'],
];

interface State {
  epoch: number;
  step: number;
}

describe.skipIf(!HAS_SHARED_DATA)('stopping a training run with SIGTERM', () => {
  it('a background run from a script saves last/ after the current step; --resume continues', async () => {
    const out = path.join(tmp, 'term');
    const log = path.join(tmp, 'term.log');
    const main = path.join(REPO_ROOT, 'src/cli/main.ts');
    // `cmd &` in a non-interactive shell starts the job with SIGINT ignored; SIGTERM is
    // what a script, `kill`, systemd or a CI runner sends.
    const script =
      `${quote(process.execPath)} --import tsx ${quote(main)} ${args(out).map(quote).join(' ')} ` +
      `2>${quote(log)} & echo $!; wait $!`;
    const sh = spawn('/bin/sh', ['-c', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let pid = 0;
    sh.stdout.on('data', (chunk: Buffer) => (pid ||= Number(chunk.toString().trim())));
    const exited = new Promise<number | null>((resolve) => sh.on('exit', (n) => resolve(n)));
    const sent = await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (pid > 0 && text.includes('epoch 2/2 [')) {
          clearInterval(timer);
          process.kill(pid, 'SIGTERM');
          resolve(true);
        }
      }, 10);
      void exited.then(() => {
        clearInterval(timer);
        resolve(false);
      });
    });
    expect(sent).toBe(true);
    expect(await exited).toBe(143); // 128 + SIGTERM, passed on by the shell's `wait`
    const stderr = readFileSync(log, 'utf8');
    expect(stderr).toContain('SIGTERM; saving last/ after this step');
    expect(stderr).toMatch(/last\/ saved at epoch 2, after step \d+\/12/);
    const state = JSON.parse(
      readFileSync(path.join(out, 'last', 'train-state.json'), 'utf8'),
    ) as State;
    // stopped within epoch 2, not at its end: a step that had finished, not the epoch
    expect(state.epoch).toBe(1);
    expect(state.step).toBeGreaterThan(0);
    expect(state.step).toBeLessThan(12);
    expect(stderr).toContain(`after step ${state.step}/12`);

    const resumed = runCliSync(['train', '--resume', out], { timeoutMs: 120_000 });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`at epoch 2, step ${state.step + 1}`);
    const rows = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(3); // header + both epochs
  }, 180_000);
});
