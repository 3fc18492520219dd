/**
 * Private mode end to end in headless Chromium: the page downloads the model as ONNX from
 * GET /api/v1/model/onnx, runs it with onnxruntime-web (wasm, threads — the page is
 * cross-origin isolated) and shows the X-ray's segmentation without uploading it. The
 * result must match the server's own `segment` on the same model, and no analysis request
 * may leave the page. The page is built into a temp folder (no race with web-dist/).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, segment, type LoadedModel } from '../../src/infer/index.js';
import { onnxMetadata } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { HAS_CHROMIUM, launchChromium, watchCspViolations } from '../helpers/chromium.js';
import { REPO_ROOT, SAMPLES } from '../helpers/paths.js';
import { tinyModelFolder, type TinyModel } from './tiny.js';
import { tempDirFor } from './helpers.js';
import { fixedModel, lesionMeta, lesionProbs } from '../infer/set-fixtures.js';

const XRAY = path.join(SAMPLES, 'images', 'abdi-1.png');
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

describe.skipIf(!existsSync(XRAY) || !HAS_CHROMIUM)('private mode (in-browser ONNX)', () => {
  let tiny: TinyModel;
  let model: LoadedModel;
  let app: FastifyInstance;
  let browser: Browser;
  let url: string;
  const webDir = tempDirFor('dentseg-web-');
  const dataDir = tempDirFor('dentseg-data-');

  beforeAll(async () => {
    await initEngine();
    await build({
      configFile: path.join(REPO_ROOT, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: webDir, emptyOutDir: true, sourcemap: false },
    });
    // Seed 6 gives a random model whose mask on abdi-1 is neither empty nor everything.
    tiny = await tinyModelFolder([64, 64], 1, { seed: 6 });
    model = await loadModel(tiny.dir);
    app = await buildApp({ model, dataDir, webDir });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    model?.dispose();
    tiny?.model.dispose();
    for (const d of [webDir, dataDir, tiny?.dir])
      if (d) rmSync(d, { recursive: true, force: true });
  });

  it('GET /api/v1/model/onnx serves the model with its metadata and an ETag', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/model/onnx' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const meta = onnxMetadata(res.rawPayload);
    expect(JSON.parse(meta['dentseg.json'] ?? '{}')).toEqual(tiny.meta);
    const again = await app.inject({
      method: 'GET',
      url: '/api/v1/model/onnx',
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('segments a full-size X-ray in the page, as the server would, without uploading it', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    const csp = await watchCspViolations(page);
    await page.goto(url);
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    await page.locator('#private-mode').check();
    await page.waitForSelector('body[data-private-mode-threads]', { timeout: 60_000 });
    const threads = Number(await page.getAttribute('body', 'data-private-mode-threads'));
    expect(threads).toBeGreaterThanOrEqual(
      Math.min(2, await page.evaluate(() => navigator.hardwareConcurrency)),
    );

    await page.setInputFiles('#file-input', XRAY);
    await expect
      .poll(() => page.textContent('#sum-model'), { timeout: 90_000 })
      .toMatch(/private mode/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'private-mode.png') });

    // The X-ray never left the page: no analysis was posted, only the model was fetched.
    expect(requests.filter((r) => r.startsWith('POST'))).toEqual([]);
    expect(requests).toContain('GET /api/v1/model/onnx');
    expect(requests.filter((r) => r.includes('analyses') && !r.startsWith('GET'))).toEqual([]);

    // Same findings as the server's segment() with this model.
    const server = await segment(model, XRAY, { threshold: 0.5 });
    const serverPct = server.findings.reduce((s, f) => s + f.areaPct, 0);
    console.log(`server: ${server.findings.length} findings, ${serverPct.toFixed(2)}%`);
    expect(server.findings.length).toBeGreaterThan(1);
    expect(serverPct).toBeLessThan(95);
    expect(await page.getAttribute('body', 'data-private-mode-findings')).toBe(
      String(server.findings.length),
    );
    expect(await page.locator('[data-testid="finding"]').count()).toBeGreaterThan(0);
    const pct = Number(/([\d.]+)%/.exec((await page.textContent('#sum-area')) ?? '')?.[1]);
    expect(Math.abs(pct - serverPct)).toBeLessThan(0.02);
    expect(errors).toEqual([]);
    // ORT's wasm, its proxy worker and thread workers all run under the server's CSP.
    expect(csp).toEqual([]);
    await page.close();
  });

  it("shows the server's input-check warning for a blank image and withholds its findings", async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.locator('#private-mode').check();
    await page.waitForSelector('body[data-private-mode-threads]', { timeout: 60_000 });
    const blank = await sharp(Buffer.alloc(300 * 150, 100), {
      raw: { width: 300, height: 150, channels: 1 },
    })
      .png()
      .toBuffer();
    await page.setInputFiles('#file-input', {
      name: 'blank.png',
      mimeType: 'image/png',
      buffer: blank,
    });
    await expect
      .poll(() => page.textContent('#sum-model'), { timeout: 90_000 })
      .toMatch(/private mode/);
    const note = page.locator('#quality-note');
    await note.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await note.textContent()).toMatch(/blank/);
    expect(await page.getAttribute('body', 'data-private-mode-findings')).toBe('0');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("with a model set, the page runs the set's teeth model and says what it leaves to the server", async () => {
    const sData = tempDirFor('dentseg-data-');
    // The lesion model runs only on uploads (none here): a fixed-output one will do.
    const sApp = await buildApp({
      models: [fixedModel(lesionMeta(), lesionProbs(), '/fixed-caries'), model],
      dataDir: sData,
      webDir,
    });
    try {
      // The ONNX download is the teeth model, whatever the order the set was given in.
      const onnx = await sApp.inject({ url: '/api/v1/model/onnx' });
      expect(JSON.parse(onnxMetadata(onnx.rawPayload)['dentseg.json'] ?? '{}')).toEqual(tiny.meta);
      const sUrl = await sApp.listen({ port: 0, host: '127.0.0.1' });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST') posts.push(r.url());
      });
      await page.goto(sUrl);
      await page.locator('#private-mode').check();
      await page.setInputFiles('#file-input', XRAY);
      await expect
        .poll(() => page.textContent('#sum-model'), { timeout: 90_000 })
        .toMatch(/private mode/);
      expect(await page.textContent('#findings-note')).toMatch(
        /Private mode runs the teeth model only: caries is looked for on the server/,
      );
      expect(posts).toEqual([]);
      await page.close();
    } finally {
      await sApp.close();
      rmSync(sData, { recursive: true, force: true });
    }
  });

  it("a tiled lesion model slides the server's window in the page: same findings", async () => {
    const tiled = await tinyModelFolder([256, 256], 1, { seed: 6 });
    const meta = {
      ...tiled.meta,
      preprocess: { ...tiled.preprocess, tiling: { tile: [256, 256] } },
      postprocess: { minAreaPx: 20, lesion: 'caries' },
    };
    writeFileSync(path.join(tiled.dir, 'dentseg.json'), JSON.stringify(meta));
    const tModel = await loadModel(tiled.dir);
    const tData = tempDirFor('dentseg-data-');
    const tApp = await buildApp({ model: tModel, dataDir: tData, webDir });
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(await tApp.listen({ port: 0, host: '127.0.0.1' }));
      await page.locator('#private-mode').check();
      await page.setInputFiles('#file-input', XRAY);
      await expect
        .poll(() => page.textContent('#sum-model'), { timeout: 120_000 })
        .toMatch(/private mode|in this browser/);
      const server = await segment(tModel, XRAY);
      const serverPct = server.findings.reduce((s, f) => s + f.areaPct, 0);
      console.log(`tiled server: ${server.findings.length} findings, ${serverPct.toFixed(2)}%`);
      expect(server.findings.length).toBeGreaterThan(1);
      expect(await page.getAttribute('body', 'data-private-mode-findings')).toBe(
        String(server.findings.length),
      );
      // The page's area is the whole mask at the threshold (specks included).
      let fg = 0;
      for (const v of server.mask) fg += v;
      const maskPct = (100 * fg) / server.mask.length;
      const pct = Number(/([\d.]+)%/.exec((await page.textContent('#sum-area')) ?? '')?.[1]);
      expect(Math.abs(pct - maskPct)).toBeLessThan(0.02);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await tApp.close();
      tModel.dispose();
      tiled.model.dispose();
      for (const d of [tData, tiled.dir]) rmSync(d, { recursive: true, force: true });
    }
  });

  it("a multi-class model gives the server's findings too", async () => {
    // Seed 4: ten regions of three classes on abdi-1 (not one class everywhere).
    const multi = await tinyModelFolder([64, 96], 5, { seed: 4 });
    const mModel = await loadModel(multi.dir);
    const mData = tempDirFor('dentseg-data-');
    const mApp = await buildApp({ model: mModel, dataDir: mData, webDir });
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(await mApp.listen({ port: 0, host: '127.0.0.1' }));
      await page.locator('#private-mode').check();
      await page.setInputFiles('#file-input', XRAY);
      await expect
        .poll(() => page.textContent('#sum-model'), { timeout: 90_000 })
        .toMatch(/multiclass model in this browser/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'private-mode-multiclass.png') });
      const server = await segment(mModel, XRAY);
      expect(server.findings.length).toBeGreaterThan(1);
      expect(await page.getAttribute('body', 'data-private-mode-findings')).toBe(
        String(server.findings.length),
      );
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await mApp.close();
      mModel.dispose();
      multi.model.dispose();
      for (const d of [mData, multi.dir]) rmSync(d, { recursive: true, force: true });
    }
  });
});
