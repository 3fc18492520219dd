/**
 * The built web page for the browser tests: web-dist/ is rebuilt with Vite when it is
 * missing or older than the page's sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_WEB_DIR } from '../../src/serve/index.js';
import { REPO_ROOT } from './paths.js';

const WEB_SRC = path.join(REPO_ROOT, 'src/web/app');

/** Newest modification time under a folder, ms. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Build web-dist/ with Vite when it is missing or older than the page's sources. */
export function ensureWebBuilt(): void {
  const index = path.join(DEFAULT_WEB_DIR, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(WEB_SRC)) return;
  const vite = path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  const res = spawnSync(process.execPath, [vite, 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`vite build failed:\n${res.stdout}\n${res.stderr}`);
}
