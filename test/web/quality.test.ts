// The input check on the page, in headless Chromium: an upload that is not a panoramic
// X-ray (here a blank image) gets a plain sentence above the results and its issues listed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { buildApp, DEFAULT_WEB_DIR } from '../../src/serve/index.js';
import { HAS_CHROMIUM, launchChromium } from '../helpers/chromium.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../serve/helpers.js';

const POLL = { timeout: 30_000, interval: 100 };

describe.skipIf(!HAS_CHROMIUM)('the page shows the input check', () => {
  let model: LoadedModel;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;

  beforeAll(async () => {
    if (!existsSync(path.join(DEFAULT_WEB_DIR, 'index.html'))) {
      const vite = path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
      spawnSync(process.execPath, [vite, 'build'], { cwd: REPO_ROOT });
    }
    await initEngine();
    const dir = tempDir('dentseg-web-quality-');
    await writeTinyModel(dir);
    model = await loadModel(dir);
    app = await buildApp({ model, dataDir: tempDir() });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    model?.dispose();
  });

  it('says a blank upload is blank and lists the issue', async () => {
    await page.goto(url);
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
    const note = page.locator('#quality-note');
    await note.waitFor({ state: 'visible', timeout: 60_000 });
    await expect.poll(() => note.textContent(), POLL).toMatch(/The image is blank/);
    expect(await note.locator('li').allTextContents()).toEqual(['blank']);
    expect(await page.textContent('#findings-count')).toBe('(0)');
  });
});
