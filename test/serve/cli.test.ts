// `dentseg serve` as a user runs it: a clear error when the bundled model is missing, and a
// server that answers on the port it prints and stops cleanly on SIGTERM.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliSync, spawnServe } from '../helpers/paths.js';
import { HAS_BUNDLED_MODEL, tempDir, writeTinyModel } from './helpers.js';

describe('dentseg serve (CLI)', () => {
  it.skipIf(HAS_BUNDLED_MODEL)(
    'fails with a clear message when the bundled model is missing',
    () => {
      const res = runCliSync(['serve', '--port', '0', '--data-dir', tempDir()], {
        timeoutMs: 60_000,
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/E_MODEL_INVALID.*bundled default model is missing/);
      expect(res.stderr).toMatch(/--model DIR/);
    },
  );

  it('refuses a bad flag value with E_USAGE', () => {
    const res = runCliSync(['serve', '--port', 'eighty'], { timeoutMs: 60_000 });
    expect(res.status).toBe(64);
    expect(res.stderr).toMatch(
      /Expected a number in \[0, 65535\] for --port but received "eighty"/,
    );
  });

  it('refuses a bad tokens file naming the file and line, never the token', () => {
    const file = path.join(tempDir(), 'users.txt');
    writeFileSync(file, '# users\nalice:first-secret\nbob:second-secret:boss\n');
    const res = runCliSync(['serve', '--tokens', file, '--port', '0', '--data-dir', tempDir()], {
      timeoutMs: 60_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/E_CONFIG_INVALID/);
    expect(res.stderr).toContain(`${file}: line 3:`);
    expect(res.stderr).not.toMatch(/secret/);
  });

  it('documents --token and --tokens in --help', () => {
    const res = runCliSync(['serve', '--help'], { timeoutMs: 60_000 });
    expect(res.status).toBe(0);
    const help = res.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--tokens <file>/);
    expect(help).toMatch(/name:token\[:admin\] or name:sha256:HEX\[:admin\]/);
    expect(help).toMatch(/one admin user named "admin"/);
    expect(help).toMatch(/health without a valid token answers only \{status, version\}/);
    expect(help).toMatch(/--keep-dicom-tags .*file with its study \(off: privacy/);
  });

  it('serves the API on the printed address and stops on SIGTERM', async () => {
    const modelDir = tempDir('dentseg-cli-model-');
    await writeTinyModel(modelDir);
    const tokens = path.join(tempDir(), 'users.txt');
    writeFileSync(tokens, 'bob:tok-bob\n');
    const { child, url } = await spawnServe(
      [
        '--model',
        modelDir,
        '--port',
        '0',
        '--data-dir',
        tempDir(),
        '--token',
        'tok',
        '--tokens',
        tokens,
      ],
      90_000,
    );
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${url}/api/v1/health`);
      expect(health.status).toBe(200);
      // Without a token health says only that it is alive.
      expect(Object.keys((await health.json()) as object).sort()).toEqual(['status', 'version']);
      const full = await fetch(`${url}/api/v1/health`, {
        headers: { authorization: 'Bearer tok' },
      });
      expect(await full.json()).toMatchObject({ status: 'ok', model: 'tiny-random@0.0.1' });
      expect((await fetch(`${url}/api/v1/analyses`)).status).toBe(401);
      for (const token of ['tok', 'tok-bob']) {
        const ok = await fetch(`${url}/api/v1/analyses`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(ok.status).toBe(200);
      }
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('runs a model set from repeated --model flags, each listed by /api/v1/model', async () => {
    const teethDir = tempDir('dentseg-cli-teeth-');
    await writeTinyModel(teethDir);
    const lesionDir = tempDir('dentseg-cli-caries-');
    await writeTinyModel(lesionDir);
    // A lesion model: its dentseg.json names the finding type.
    const metaFile = path.join(lesionDir, 'dentseg.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      metaFile,
      JSON.stringify({
        ...meta,
        name: 'tiny-caries',
        postprocess: { lesion: 'caries', minAreaPx: 5 },
      }),
    );
    // Two teeth models are refused before the server starts.
    const teeth2 = tempDir('dentseg-cli-teeth2-');
    cpSync(teethDir, teeth2, { recursive: true });
    const two = runCliSync(
      ['serve', '--model', teethDir, '--model', teeth2, '--port', '0', '--data-dir', tempDir()],
      { timeoutMs: 90_000 },
    );
    expect(two.status).not.toBe(0);
    expect(two.stderr).toMatch(/at most one teeth model/);
    const { child, url } = await spawnServe(
      ['--model', lesionDir, '--model', teethDir, '--port', '0', '--data-dir', tempDir()],
      90_000,
    );
    try {
      const card = (await (await fetch(`${url}/api/v1/model`)).json()) as {
        name: string;
        models: { name: string; role: string; type?: string }[];
      };
      expect(card.name).toBe('tiny-random');
      expect(card.models.map((m) => [m.name, m.role, m.type])).toEqual([
        ['tiny-random', 'teeth', undefined],
        ['tiny-caries', 'lesion', 'caries'],
      ]);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
