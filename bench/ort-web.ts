/**
 * ONNX Runtime Web timed in headless Chromium for bench:engines: a loopback-only HTTP
 * server sends a tiny page, onnxruntime-web's wasm files from node_modules (no CDN) and the
 * model, with COOP/COEP headers so the page is cross-origin isolated and ORT can use
 * threads. One page per measurement, because ORT fixes its thread count at start-up.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium.js';

const require = createRequire(import.meta.url);
/** onnxruntime-web's dist folder (its package.json is not exported; its main file lives there). */
const ORT_DIST = path.dirname(require.resolve('onnxruntime-web'));

const PAGE = `<!doctype html><meta charset="utf-8"><title>ort-web bench</title>
<script type="module">
import * as ort from '/ort/ort.wasm.min.mjs';
window.bench = async (threads, runs, shape) => {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  const [m, x] = await Promise.all(['/model.onnx', '/input.bin'].map((u) => fetch(u).then((r) => r.arrayBuffer())));
  const session = await ort.InferenceSession.create(new Uint8Array(m), {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { input: new ort.Tensor('float32', new Float32Array(x), shape) };
  await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return { threads: ort.env.wasm.numThreads, isolated: self.crossOriginIsolated, runs: times };
};
window.ready = true;
</script>`;

const TYPES: Record<string, string> = {
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
};

export interface OrtWebBench {
  /** Time `runs` forward passes (after one warm-up) with `threads` wasm threads. */
  time(
    onnx: Uint8Array,
    input: Float32Array,
    shape: number[],
    threads: number,
    runs: number,
  ): Promise<{ threads: number; isolated: boolean; runs: number[] }>;
  close(): Promise<void>;
}

export async function startOrtWeb(): Promise<OrtWebBench> {
  let model: Uint8Array = new Uint8Array();
  let input: Uint8Array = new Uint8Array();
  const server: Server = createServer((req, res) => {
    void (async () => {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/') {
        res.setHeader('Content-Type', 'text/html');
        res.end(PAGE);
      } else if (url.pathname === '/model.onnx' || url.pathname === '/input.bin') {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(url.pathname === '/model.onnx' ? model : input);
      } else if (url.pathname.startsWith('/ort/') && !url.pathname.includes('..')) {
        const file = path.join(ORT_DIST, path.basename(url.pathname));
        res.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
        res.end(await readFile(file));
      } else {
        res.statusCode = 404;
        res.end();
      }
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    async time(onnx, x, shape, threads, runs) {
      model = onnx;
      input = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${port}/`);
        await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
        return await page.evaluate(
          ([t, r, s]) =>
            (
              window as unknown as {
                bench(
                  t: number,
                  r: number,
                  s: number[],
                ): Promise<{ threads: number; isolated: boolean; runs: number[] }>;
              }
            ).bench(t, r, s),
          [threads, runs, shape] as [number, number, number[]],
        );
      } finally {
        await page.close();
      }
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
