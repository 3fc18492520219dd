// docs/architecture.md's stage diagram is drawn from the real imports: it fails here when
// the code and the picture part (`npm run docs:architecture` redraws it).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/paths.js';

describe('docs/architecture.md', () => {
  it('shows the stage imports as they are', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'scripts/architecture.mjs'), '--check'],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/diagram up to date \(\d+ stages, \d+ arrows\)/);
  }, 200_000);
});
