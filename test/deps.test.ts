// The import-graph check of `npm test` (scripts/check-deps.mjs) on small throw-away trees:
// it must catch a cycle between folders even when no file imports itself back.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = path.resolve(import.meta.dirname, '../scripts/check-deps.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A tree with src/<file> → contents and a bare tsconfig.json; the check's exit and output. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dentseg-deps-'));
  dirs.push(root);
  writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, 'src', file)), { recursive: true });
    writeFileSync(path.join(root, 'src', file), text);
  }
  const r = spawnSync(process.execPath, [script], {
    env: { ...process.env, DENTSEG_DEPS_ROOT: root },
    encoding: 'utf8',
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('npm run deps', () => {
  it('fails on a folder cycle made of files that do not import each other back', () => {
    // augment/apply → data/filters and data/index → augment/config: no file cycle.
    const r = check({
      'augment/apply.ts': "import { blur } from '../data/filters.js';\nexport const a = blur;\n",
      'augment/config.ts': 'export const DEFAULT = 1;\n',
      'data/filters.ts': 'export const blur = 2;\n',
      'data/index.ts': "export { DEFAULT } from '../augment/config.js';\n",
    });
    expect(r.status).toBe(1);
    expect(r.output).toContain('import cycle between the folders src/augment, src/data');
    expect(r.output).toContain('src/augment/apply.ts → src/data/filters.ts');
    expect(r.output).toContain('src/data/index.ts → src/augment/config.ts');
  });

  it('passes when the folders import one way only', () => {
    const r = check({
      'imaging/filters.ts': 'export const blur = 2;\n',
      'augment/apply.ts': "import { blur } from '../imaging/filters.js';\nexport const a = blur;\n",
      'data/index.ts': "export { a } from '../augment/apply.js';\n",
    });
    expect(r.output).toContain('no import cycles');
    expect(r.status).toBe(0);
  });
});
