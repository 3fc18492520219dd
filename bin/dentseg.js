#!/usr/bin/env node
// Entry point of the `dentseg` executable: runs the compiled CLI that `npm ci` builds
// (through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error(
    'dentseg: the compiled CLI is missing (dist/cli/main.js).\n' +
      'Possible solutions:\n  npm ci        (builds it through the prepare script)\n  npm run build',
  );
  process.exit(1);
}
await import(main);
