// Every CLI failure is one line with a code from docs/errors.md naming the flag or file,
// and an exit status scripts can test (64 usage, 1 failure): never commander's raw output,
// a stack trace or a library's diagnostics.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliSync } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-cli-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The CLI's output holds no stack frame ("    at fn (file:1:2)"). */
function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
}

/** A refusal: status, code, the words that must be named, and nothing raw. */
function expectRefusal(
  r: ReturnType<typeof runCliSync>,
  status: number,
  code: string,
  ...named: string[]
): void {
  expect(r.status, r.stderr).toBe(status);
  expect(r.stderr).toContain(`dentseg: error ${code}: `);
  for (const n of named) expect(r.stderr).toContain(n);
  expectNoStack(r.stderr);
}

describe("commander's own errors", () => {
  it('are E_USAGE with exit 64, naming the flag, argument or command, without the help dump', () => {
    const cases: [string[], string][] = [
      [['train', '--bogus'], "unknown option '--bogus'"],
      [['predict', '--output', tmp], "required option '--input <paths...>' not specified"],
      [['predict', '--input'], "option '--input <paths...>' argument missing"],
      [['train', '--normalise', 'foo'], "'--normalise <mode>' argument 'foo' is invalid"],
      [['weights', 'import-keras'], "missing required argument 'file'"],
      [['nosuch'], "unknown command 'nosuch'"],
    ];
    for (const [args, named] of cases) {
      const r = runCliSync(args, { timeoutMs: 60_000 });
      expectRefusal(r, 64, 'E_USAGE', named);
      expect(r.stderr, args.join(' ')).not.toContain('Usage:');
      expect(r.stderr).toMatch(/hint: `dentseg( [\w-]+)* --help` lists its options/);
    }
  }, 120_000);

  it('--help and --version still exit 0; `dentseg` alone prints the help with 64', () => {
    const help = runCliSync(['--help'], { timeoutMs: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: dentseg');
    const version = runCliSync(['--version'], { timeoutMs: 60_000 });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
    const bare = runCliSync([], { timeoutMs: 60_000 });
    expect(bare.status).toBe(64);
    expect(bare.stderr).toContain('Usage: dentseg');
  }, 120_000);
});

describe('--backend', () => {
  it('`dentseg --help` lists every backend, torch (the default) included', () => {
    const r = runCliSync(['--help'], { timeoutMs: 60_000 });
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const name of ['torch', 'tensorflow', 'wasm', 'cpu']) expect(text).toContain(name);
  }, 60_000);

  it('an unknown name is E_USAGE listing the backends; tfjs-node also says how to get it', () => {
    const nope = runCliSync(['--backend', 'nope', 'model', 'summary'], { timeoutMs: 60_000 });
    expectRefusal(nope, 64, 'E_USAGE', '--backend', "'nope'", 'torch, tensorflow, wasm, cpu');
    const tfn = runCliSync(['--backend', 'tfjs-node', 'model', 'summary'], { timeoutMs: 60_000 });
    expectRefusal(tfn, 64, 'E_USAGE', '--backend tensorflow', 'npm install @tensorflow/tfjs-node');
    const env = runCliSync(['model', 'summary', '--width', '0.0625'], {
      env: { DENTSEG_BACKEND: 'tfjs-node' },
      timeoutMs: 60_000,
    });
    expectRefusal(env, 64, 'E_USAGE', 'DENTSEG_BACKEND', 'torch, tensorflow, wasm, cpu');
  }, 120_000);

  const tfjsNode = existsSync(path.join(REPO_ROOT, 'node_modules/@tensorflow/tfjs-node'));
  it.skipIf(tfjsNode)(
    'tensorflow without @tensorflow/tfjs-node installed says how to install it',
    () => {
      const r = runCliSync(['--backend', 'tensorflow', 'model', 'summary'], { timeoutMs: 60_000 });
      expectRefusal(
        r,
        1,
        'E_BACKEND_UNAVAILABLE',
        'backend tensorflow',
        'npm install @tensorflow/tfjs-node',
      );
    },
    60_000,
  );
});

describe('flags are named by the CLI, not by the library', () => {
  it('model summary --size 100 names --size and the value', () => {
    const r = runCliSync(['model', 'summary', '--size', '100'], { timeoutMs: 60_000 });
    expectRefusal(r, 64, 'E_USAGE', 'Expected a size N or H,W', 'a multiple of 32');
    expect(r.stderr).toContain('for --size but received "100"');
    expect(r.stderr).not.toContain('inputSize');
    const c = runCliSync(['weights', 'import-keras', 'x.h5', '--out', tmp, '--channels', '2'], {
      timeoutMs: 60_000,
    });
    expectRefusal(c, 64, 'E_USAGE', 'Expected 1 or 3 for --channels but received "2"');
  }, 120_000);
});

describe('export --onnx', () => {
  it('creates the folder that does not exist yet; a path under a file is E_IO naming it', () => {
    const file = path.join(tmp, 'new', 'sub', 'teeth.onnx');
    const r = runCliSync(['export', '--onnx', file], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(1e6);
    const blocker = path.join(tmp, 'a-file');
    writeFileSync(blocker, 'x');
    const bad = runCliSync(['export', '--onnx', path.join(blocker, 'm.onnx')], {
      timeoutMs: 120_000,
    });
    expectRefusal(bad, 1, 'E_IO', path.join(blocker, 'm.onnx'));
  }, 240_000);
});

describe('weights import-keras on a file that is not HDF5', () => {
  it('is E_HDF5_INVALID naming the file, without HDF5 diagnostics', () => {
    const text = path.join(tmp, 'weights.h5');
    writeFileSync(text, 'not weights at all\n');
    const r = runCliSync(['weights', 'import-keras', text, '--out', path.join(tmp, 'm')], {
      timeoutMs: 60_000,
    });
    expectRefusal(r, 1, 'E_HDF5_INVALID', text, 'not an HDF5 file');
    // a file with the signature but nothing valid after it reaches h5wasm, which must stay quiet
    const damaged = path.join(tmp, 'damaged.h5');
    const head = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    writeFileSync(damaged, Buffer.concat([head, Buffer.alloc(64, 7)]));
    const d = runCliSync(['weights', 'import-keras', damaged, '--out', path.join(tmp, 'm')], {
      timeoutMs: 60_000,
    });
    expectRefusal(d, 1, 'E_HDF5_INVALID', damaged, 'cannot be read as HDF5');
    for (const out of [r.stderr, d.stderr]) {
      expect(out).not.toContain('HDF5-DIAG');
      expect(out.trim().split('\n').length).toBeLessThanOrEqual(3); // engine line, error, hint
    }
  }, 120_000);
});

describe('the exit statuses', () => {
  it('are documented in one table in docs/errors.md', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/errors.md'), 'utf8');
    for (const row of ['| 0 |', '| 1 |', '| 2 |', '| 64 |', '| 130 |', '| 143 |'])
      expect(doc).toContain(row);
  });
});
