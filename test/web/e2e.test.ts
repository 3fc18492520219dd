// End to end in headless Chromium (playwright-core driving Debian's chromium): the page is
// built if stale, served by dentseg's app; upload a real X-ray, see the overlay and the
// findings, then upload a text file and see the server's message; a very long file name
// fits at 1280 and 390 px; the page works with and without a token and under its own CSP;
// a page on another site cannot upload. Screenshots go to test-artifacts/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { HAS_CHROMIUM, launchChromium, watchCspViolations } from '../helpers/chromium.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../src/infer/index.js';
import { buildApp, DEFAULT_WEB_DIR } from '../../src/serve/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { HAS_SAMPLE, SAMPLE_XRAY, tempDir, testModel } from '../serve/helpers.js';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');
const WEB_SRC = path.join(REPO_ROOT, 'src/web/app');
/** Generous: CI runs this on 2 busy cores. */
const POLL = { timeout: 30_000, interval: 100 };

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
function ensureWebBuilt(): void {
  const index = path.join(DEFAULT_WEB_DIR, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(WEB_SRC)) return;
  const vite = path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  const res = spawnSync(process.execPath, [vite, 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`vite build failed:\n${res.stdout}\n${res.stderr}`);
}

describe.skipIf(!HAS_SAMPLE || !HAS_CHROMIUM)('web page in headless Chromium', () => {
  let model: LoadedModel;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];
  let cspViolations: string[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ model } = await testModel());
    app = await buildApp({ model, dataDir: tempDir() });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    cspViolations = await watchCspViolations(page);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    model?.dispose();
  });

  it('uploads a real X-ray and shows the overlay and the findings', async () => {
    await page.goto(url);
    await expect.poll(() => page.textContent('#model-badge'), POLL).toContain(model.meta.name);
    await page.setInputFiles('#file-input', SAMPLE_XRAY);
    await page.waitForSelector('body[data-analysis]', { timeout: 90_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-analysis.png') });
    const findings = page.locator('[data-testid="finding"]');
    expect(await findings.count()).toBeGreaterThan(0);
    expect(await page.textContent('#findings-count')).toMatch(/\(\d+\)/);
    expect(await page.textContent('#sum-file')).toBe('abdi-1.png');
    expect(await page.textContent('#sum-area')).toMatch(/% of the image at threshold 0\.50/);
    expect(await page.locator('#history-list [data-id]').count()).toBe(1);
    // The canvas shows the X-ray (not just the empty dark stage) with the overlay colour in it.
    const seen = await page.evaluate(() => {
      const canvas = document.getElementById('viewer') as HTMLCanvasElement;
      const ctx = canvas.getContext('2d');
      if (!ctx) return { grey: 0, overlay: 0 };
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let grey = 0;
      let overlay = 0;
      for (let i = 0; i < data.length; i += 4 * 7) {
        const [r, g, b] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
        if (Math.max(r, g, b) > 60) grey += 1; // the X-ray is drawn (the stage is near black)
        if (g > r + 30 && b > r + 20) overlay += 1;
      }
      return { grey, overlay };
    });
    expect(seen.grey).toBeGreaterThan(100);
    expect(seen.overlay).toBeGreaterThan(100);

    // Re-threshold client-side: the shown area changes without another request.
    const before = await page.textContent('#sum-area');
    await page.locator('#threshold').focus();
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.textContent('#sum-area'), POLL).not.toBe(before);
    expect(await page.textContent('#threshold-value')).toBe('0.70');
    // Keyboard zoom on the viewer.
    await page.locator('#viewer').focus();
    await page.keyboard.press('+');
    await page.keyboard.press('0');
    expect(pageErrors).toEqual([]);
    // Served with its Content-Security-Policy, the page ran without a single violation.
    const head = await page.request.get(url);
    expect(head.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(cspViolations).toEqual([]);
  });

  it('shows the server message when a text file is uploaded', async () => {
    await page.setInputFiles('#file-input', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('This is a referral letter, not an X-ray.\n'),
    });
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await error.textContent()).toMatch(/Rejected: .*not an X-ray format dentseg reads/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-rejected.png') });
    expect(pageErrors).toEqual([]);
  });

  it('deletes an analysis from the history (after confirming)', async () => {
    expect(await page.locator('#history-list [data-id]').count()).toBe(1);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('.history-delete').first().click();
    await expect.poll(() => page.locator('#history-list [data-id]').count(), POLL).toBe(0);
    expect(await page.locator('#history-empty').isVisible()).toBe(true);
    expect(await page.locator('#placeholder').isVisible()).toBe(true);
    expect(await page.locator('#findings-section').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('a very long file name never overflows the page, at 1280 and at 390 px', async () => {
    // 255 bytes without a space: the longest name the server keeps.
    const name = `${'Panoramic_X-ray_of_patient_'.repeat(9)}ABCDEFGH.png`;
    expect(Buffer.byteLength(name)).toBe(255);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(url);
    await page.setInputFiles('#file-input', {
      name,
      mimeType: 'image/png',
      buffer: readFileSync(SAMPLE_XRAY),
    });
    await expect.poll(() => page.getAttribute('#sum-file', 'title'), POLL).toBe(name);
    await expect.poll(() => page.locator('#history-list [data-id]').count(), POLL).toBe(1);
    // And a refused upload of that name: the message names the file.
    await page.setInputFiles('#file-input', {
      name: name.replace(/\.png$/, '.txt'),
      mimeType: 'text/plain',
      buffer: Buffer.from('not an X-ray'),
    });
    await page.locator('#error').waitFor({ state: 'visible', timeout: 30_000 });
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width > 800 ? 800 : 844 });
      const overflow = await page.evaluate(() => {
        const out: string[] = [];
        const vw = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth > vw) {
          out.push(`page ${document.documentElement.scrollWidth} > ${vw}`);
        }
        for (const sel of ['#sum-file', '.history-name', '#error', '.summary', '.panel']) {
          for (const el of document.querySelectorAll<HTMLElement>(sel)) {
            const r = el.getBoundingClientRect();
            if (r.right > vw + 0.5) out.push(`${sel} right ${r.right} > ${vw}`);
            const parent = el.parentElement?.getBoundingClientRect();
            if (parent && r.right > parent.right + 0.5) out.push(`${sel} leaves its box`);
          }
        }
        return out;
      });
      await page.screenshot({
        path: path.join(ARTIFACTS, `web-long-name-${width}.png`),
        fullPage: true,
      });
      expect(overflow, `${width} px`).toEqual([]);
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('a page on another site cannot upload (no-cors POST refused with 403)', async () => {
    const target = await buildApp({ model, dataDir: tempDir(), webDir: false });
    const answered: string[] = [];
    target.addHook('onResponse', async (request, reply) => {
      if (request.method === 'POST') {
        answered.push(`${reply.statusCode} ${String(request.headers['sec-fetch-site'])}`);
      }
    });
    const targetUrl = await target.listen({ port: 0, host: '127.0.0.1' });
    const foreign = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>elsewhere');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const tab = await browser.newPage();
    try {
      // localhost is another site than 127.0.0.1 (another port on 127.0.0.1 is same-site).
      await tab.goto(`http://localhost:${(foreign.address() as AddressInfo).port}/`);
      const png = [...(await sharp(SAMPLE_XRAY).resize({ width: 400 }).png().toBuffer())];
      const result = await tab.evaluate(
        async ({ to, bytes }) => {
          const form = new FormData();
          form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'x.png');
          // The answer is unreadable either way (opaque, or blocked by CORP): the server's
          // own log and store show what happened.
          return fetch(to, { method: 'POST', mode: 'no-cors', body: form }).then(
            (res) => res.type,
            () => 'blocked',
          );
        },
        { to: `${targetUrl}/api/v1/analyses`, bytes: png },
      );
      expect(['opaque', 'blocked']).toContain(result);
      await expect.poll(() => answered, POLL).toEqual(['403 cross-site']);
      const list = await target.inject({ url: '/api/v1/analyses' });
      expect(list.json<{ total: number }>().total).toBe(0);
    } finally {
      await tab.close();
      foreign.close();
      await target.close();
    }
  });

  it('uploads through the page on a server without a token and on one with --token', async () => {
    for (const token of [undefined, 'clinic-token']) {
      const server = await buildApp({ model, dataDir: tempDir(), token });
      const tab = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      const errors: string[] = [];
      tab.on('pageerror', (err) => errors.push(err.message));
      const csp = await watchCspViolations(tab);
      try {
        await tab.goto(await server.listen({ port: 0, host: '127.0.0.1' }));
        if (token) {
          await tab.locator('#token-form').waitFor({ state: 'visible' });
          expect(await tab.textContent('#error')).toMatch(/missing token/);
          await tab.fill('#token-input', token);
          await tab.keyboard.press('Enter');
        }
        await expect.poll(() => tab.textContent('#model-badge'), POLL).toContain(model.meta.name);
        expect(await tab.locator('#token-form').isHidden()).toBe(true);
        expect(await tab.locator('#error').isHidden()).toBe(true);
        await tab.setInputFiles('#file-input', SAMPLE_XRAY);
        await tab.waitForSelector('body[data-analysis]', { timeout: 90_000 });
        expect(await tab.locator('[data-testid="finding"]').count()).toBeGreaterThan(0);
        expect(await tab.locator('#history-list [data-id]').count()).toBe(1);
        await tab.screenshot({
          path: path.join(ARTIFACTS, `web-analysis-${token ? 'token' : 'open'}.png`),
        });
        // Stored on the server, which the token guards.
        const headers = token ? { authorization: `Bearer ${token}` } : {};
        const list = await server.inject({ url: '/api/v1/analyses', headers });
        expect(list.json<{ total: number }>().total).toBe(1);
        if (token) expect((await server.inject({ url: '/api/v1/analyses' })).statusCode).toBe(401);
        expect(errors).toEqual([]);
        expect(csp).toEqual([]);
      } finally {
        await tab.close();
        await server.close();
      }
    }
  });
});
