#!/usr/bin/env node
// Builds the optional libtorch addon (native/) behind the `torch` compute backend. Run by
// `npm ci` (through `prepare`) and by `npm run build:native`. Where libtorch or node-gyp
// is missing it explains how to get them and exits 0, so the install still succeeds and
// the backend is simply not offered. DENTSEG_REQUIRE_TORCH=1 (CI) turns that into a failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const required = process.env.DENTSEG_REQUIRE_TORCH === '1';

function skip(reason) {
  const msg =
    `dentseg: the torch backend was not built: ${reason}\n` +
    'Possible solutions:\n' +
    '  apt-get install libtorch-dev          (Debian/Ubuntu), then npm run build:native\n' +
    '  LIBTORCH=/path/to/libtorch npm run build:native   (an unpacked LibTorch download)\n' +
    'dentseg still works without it (wasm and cpu backends).';
  console.error(msg);
  process.exit(required ? 1 : 0);
}

/** Finds libtorch: $LIBTORCH (a LibTorch download) first, then the system (libtorch-dev). */
function findTorch() {
  if (process.env.LIBTORCH) {
    // An explicit choice: use it or report it, never silently fall back to the system copy.
    const base = path.resolve(process.env.LIBTORCH);
    const c = { include: path.join(base, 'include'), lib: path.join(base, 'lib') };
    return hasTorch(c) ? c : undefined;
  }
  const arch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch];
  const candidates = [arch && `/usr/lib/${arch}`, '/usr/lib', '/usr/local/lib']
    .filter(Boolean)
    .map((lib) => ({
      include: lib.startsWith('/usr/local') ? '/usr/local/include' : '/usr/include',
      lib,
    }));
  return candidates.find(hasTorch);
}

function hasTorch(c) {
  const so = process.platform === 'darwin' ? 'libtorch_cpu.dylib' : 'libtorch_cpu.so';
  return existsSync(path.join(c.include, 'ATen', 'ATen.h')) && existsSync(path.join(c.lib, so));
}

const torch = findTorch();
if (!torch) {
  skip(
    process.env.LIBTORCH
      ? `no include/ATen/ATen.h and lib/libtorch_cpu.so under LIBTORCH=${process.env.LIBTORCH}`
      : 'libtorch headers and libraries not found',
  );
}

const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
  require.resolve('node-addon-api');
} catch {
  skip(
    'the optional packages node-gyp and node-addon-api are not installed (npm ci installs them)',
  );
}

// Node's own headers when the distribution ships them (Debian: /usr/include/node), so that
// nothing is downloaded; otherwise node-gyp fetches them for this Node version.
const nodeDir = path.resolve(path.dirname(process.execPath), '..');
const nodedirArgs = existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))
  ? [`--nodedir=${nodeDir}`]
  : [];
const jobs = process.env.JOBS ?? String(Math.max(1, os.cpus().length));
const env = { ...process.env, DENTSEG_TORCH_INCLUDE: torch.include, DENTSEG_TORCH_LIB: torch.lib };
const started = Date.now();
console.error(`dentseg: building the torch backend against ${torch.lib} (a minute or two)…`);
for (const step of [
  ['configure', ...nodedirArgs],
  ['build', `--jobs=${jobs}`],
]) {
  const r = spawnSync(process.execPath, [gyp, ...step, '--loglevel=warn'], {
    cwd: nativeDir,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0)
    skip(`node-gyp ${step[0]} failed (exit ${r.status ?? r.signal}); see the output above`);
}
console.error(`dentseg: torch backend built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
