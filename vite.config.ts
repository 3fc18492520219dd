// Builds the dentist's web page (src/web/app) into web-dist/, which `dentseg serve` serves.
// Everything is bundled locally: no CDN, so the page works offline.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: path.join(root, 'src/web/app'),
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: path.join(root, 'web-dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    assetsInlineLimit: 0,
  },
});
