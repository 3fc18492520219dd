// End to end in headless Chromium (playwright-core driving Debian's chromium): the page is
// built if stale, served by dentseg's app; upload a real X-ray, see the overlay and the
// findings, then upload a text file and see the server's message. Screenshots go to
// test-artifacts/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HAS_CHROMIUM, launchChromium } from '../helpers/chromium.js';
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

  beforeAll(async () => {
    ensureWebBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ model } = await testModel());
    app = await buildApp({ model, dataDir: tempDir() });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
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

  it('asks for the API token when the server requires one, then works with it', async () => {
    const locked = await buildApp({ model, dataDir: tempDir(), token: 'clinic-token' });
    try {
      const lockedUrl = await locked.listen({ port: 0, host: '127.0.0.1' });
      const tab = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      await tab.goto(lockedUrl);
      await tab.locator('#token-form').waitFor({ state: 'visible' });
      expect(await tab.textContent('#error')).toMatch(/missing token/);
      await tab.fill('#token-input', 'clinic-token');
      await tab.keyboard.press('Enter');
      await expect.poll(() => tab.textContent('#model-badge'), POLL).toContain(model.meta.name);
      expect(await tab.locator('#token-form').isHidden()).toBe(true);
      expect(await tab.locator('#error').isHidden()).toBe(true);
      await tab.close();
    } finally {
      await locked.close();
    }
  });
});
