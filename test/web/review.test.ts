// The dentist's review loop in headless Chromium on a tiny numbering model's server (with a
// token, so every change is recorded with its user): upload → reject and accept findings
// (keys and buttons) → renumber a tooth from the chart, mark one missing and present again →
// brush a mask correction (undo, redo) and save it → note → mark reviewed → reload the link
// (state kept), back and forward → download the report PDF and the DICOM SC and SEG exports →
// the audit lists each change once, in order. Screenshots at 1280 and 390 px and a printed
// page go to /tmp/review-*.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { buildApp } from '../../src/serve/index.js';
import type { AnalysisJson, AuditEntry as AuditJson } from '../../src/serve/wire.js';
import { HAS_CHROMIUM, launchChromium, watchCspViolations } from '../helpers/chromium.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { ensureWebBuilt } from '../helpers/web.js';
import { HAS_SAMPLE, SAMPLE_XRAY, tempDir } from '../serve/helpers.js';
import { buildDicom } from '../infer/helpers.js';
import {
  H,
  W,
  fixedModel,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from '../infer/set-fixtures.js';

/** Generous: CI runs this on 2 busy cores. */
const POLL = { timeout: 30_000, interval: 100 };
const TOKEN = 'review-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const OUT = '/tmp';

const hasPdftotext = ((): boolean => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!HAS_SAMPLE || !HAS_CHROMIUM)('review loop on the web page', () => {
  let model: LoadedModel;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  let id = '';
  let link = '';
  let before: AnalysisJson;
  /** The tooth renumbered (present, model's number) onto a number the model left missing. */
  let from = 0;
  let to = 0;
  const pageErrors: string[] = [];
  let csp: string[] = [];

  const api = async <T>(p: string): Promise<T> => {
    const res = await app.inject({ url: p, headers: AUTH });
    expect(res.statusCode, `${p}: ${res.body.slice(0, 300)}`).toBe(200);
    return res.json<T>();
  };
  const record = (): Promise<AnalysisJson> => api<AnalysisJson>(`/api/v1/analyses/${id}`);
  /** Whether a route answers other than 404 for this analysis (a branch may lack it). */
  const routeExists = async (p: string): Promise<boolean> =>
    (await app.inject({ url: `/api/v1/analyses/${id}/${p}`, headers: AUTH })).statusCode !== 404;
  const row = (fid: string) => page.locator(`.finding-row[data-id="${fid}"]`);
  const tooth = (fdi: number) => page.locator(`#chart button[data-fdi="${fdi}"]`);

  beforeAll(async () => {
    ensureWebBuilt();
    const dir = tempDir('dentseg-review-fdi-');
    // Seed 7 numbers most teeth of the resized sample and leaves a few numbers missing.
    await writeTinyModel(dir, {
      classes: 33,
      seed: 7,
      classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
    });
    model = await loadModel(dir);
    app = await buildApp({ model, dataDir: tempDir(), token: TOKEN });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    csp = await watchCspViolations(page);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    model?.dispose();
  });

  it('uploads an X-ray and gets a link to its analysis', async () => {
    await page.goto(url);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    await page.fill('#token-input', TOKEN);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#model-badge'), POLL).toContain(model.meta.name);
    const xray = await sharp(readFileSync(SAMPLE_XRAY)).resize({ width: 600 }).png().toBuffer();
    await page.setInputFiles('#file-input', {
      name: 'pano.png',
      mimeType: 'image/png',
      buffer: xray,
    });
    await page.waitForSelector('body[data-analysis]', { timeout: 90_000 });
    id = (await page.getAttribute('body', 'data-analysis')) ?? '';
    expect(new URL(page.url()).hash).toBe(`#/analyses/${id}`);
    link = page.url();
    before = await record();
    expect(before.findings.length).toBeGreaterThan(1);
    expect(await page.locator('.finding-row').count()).toBe(before.findings.length);
    // Each state in words, not colour alone; the keys are on the page.
    expect(await row('f1').locator('[data-testid="review-state"]').textContent()).toBe('Suggested');
    expect(await page.textContent('#findings-keys')).toMatch(/A\s+accept.*R\s+reject/s);
    expect(await page.textContent('#reviewed-status')).toBe('Not reviewed');
    expect(await page.textContent('#history-list [data-testid="history-review"]')).toBe(
      'Not reviewed',
    );
    // A tooth the model found and a number it left missing, for the renumbering below.
    const present = before.teeth.map((t) => t.fdi);
    from = present[0] as number;
    to = before.missing[0] as number;
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(0);
  });

  it('rejects a finding with R and accepts the next with the arrow key and A', async () => {
    await row('f1').locator('.finding').click();
    await page.keyboard.press('r');
    await expect.poll(() => row('f1').getAttribute('data-review'), POLL).toBe('rejected');
    expect(await row('f1').locator('[data-testid="review-state"]').textContent()).toBe('Rejected');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('a');
    await expect.poll(() => row('f2').getAttribute('data-review'), POLL).toBe('accepted');
    // And with the buttons: accept f3, then change the mind and reject it.
    await row('f3').locator('[data-testid="accept"]').click();
    await expect.poll(() => row('f3').getAttribute('data-review'), POLL).toBe('accepted');
    await row('f3').locator('[data-testid="reject"]').click();
    await expect.poll(() => row('f3').getAttribute('data-review'), POLL).toBe('rejected');
    const got = await record();
    expect(got.findings.slice(0, 3).map((f) => f.review)).toEqual([
      'rejected',
      'accepted',
      'rejected',
    ]);
  });

  it('renumbers a tooth from the chart', async () => {
    expect(await tooth(to).getAttribute('data-state')).toBe('missing');
    await tooth(from).click();
    // Type or pick: the field offers the 32 numbers; one that is not a tooth is refused here.
    expect(await page.locator('#fdi-numbers option').count()).toBe(32);
    await page.fill('#tooth-number', '19');
    await page.click('#renumber-form button[type="submit"]');
    expect(await page.textContent('#tooth-message')).toMatch(/19 is not a permanent FDI number/);
    await page.fill('#tooth-number', String(to));
    await page.click('#renumber-form button[type="submit"]');
    await expect.poll(() => tooth(to).getAttribute('data-state'), POLL).toBe('present');
    expect(await tooth(to).getAttribute('data-review')).toBe('edited');
    expect(await tooth(from).getAttribute('data-state')).toBe('missing');
    // The renumbered tooth stays selected under its new number.
    expect(await tooth(to).getAttribute('aria-pressed')).toBe('true');
    const got = await record();
    const moved = got.teeth.find((t) => t.fdi === to);
    expect(moved?.original).toEqual({ fdi: from });
    expect(got.missing).toContain(from);
  });

  it('marks a tooth missing and present again from the chart', async () => {
    const other = before.teeth.map((t) => t.fdi).find((f) => f !== from && f !== to) as number;
    await tooth(other).click();
    expect(await page.textContent('#tooth-present')).toBe('Mark missing');
    await page.click('#tooth-present');
    await expect.poll(() => tooth(other).getAttribute('data-state'), POLL).toBe('missing');
    expect(await tooth(other).getAttribute('aria-label')).toBe(`Tooth ${other}, missing`);
    expect(await page.textContent('#tooth-present')).toBe('Mark present');
    expect((await record()).missing).toContain(other);
    await page.click('#tooth-present');
    await expect.poll(() => tooth(other).getAttribute('data-state'), POLL).toBe('present');
    expect((await record()).teeth.map((t) => t.fdi)).toContain(other);
    // Back to the renumbered tooth: its class is what the brush paints next.
    await tooth(to).click();
  });

  it('brushes a correction, undoes and redoes it, and saves it', async () => {
    expect(await page.locator('#edit-bar').isVisible()).toBe(true);
    await page.check('input[name="tool"][value="brush"]');
    // The tooth selected in the chart is the class the brush paints.
    const paint = Number(await page.inputValue('#brush-class'));
    expect(before.classes[paint]).toBe(`tooth ${to}`);
    const box = await page.locator('#viewer').boundingBox();
    if (!box) throw new Error('no viewer');
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.3, y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.3 + i * 0.04), y);
    await page.mouse.up();
    expect(await page.isEnabled('#undo')).toBe(true);
    expect(await page.isEnabled('#save-mask')).toBe(true);
    await page.keyboard.press('Control+z');
    expect(await page.isEnabled('#undo')).toBe(false);
    expect(await page.isEnabled('#redo')).toBe(true);
    await page.keyboard.press('Control+Shift+z');
    expect(await page.isEnabled('#undo')).toBe(true);
    expect(await page.isEnabled('#redo')).toBe(false);
    await page.click('#save-mask');
    await expect.poll(() => page.textContent('#mask-status'), POLL).toBe('Correction saved.');
    const got = await record();
    expect(got.corrections.masks).toEqual([model.meta.name]);
    // The corrected mask: the X-ray's size, the brushed line in the tooth's class; the
    // model's own mask is untouched beside it.
    const corrected = await app.inject({
      url: got.links.maskCorrected ?? `${got.links.self}/masks/${model.meta.name}`,
      headers: AUTH,
    });
    expect(corrected.statusCode).toBe(200);
    const original = await app.inject({ url: got.links.mask, headers: AUTH });
    const grey = async (png: Buffer) =>
      sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const [c, o] = await Promise.all([grey(corrected.rawPayload), grey(original.rawPayload)]);
    expect([c.info.width, c.info.height]).toEqual([before.image.width, before.image.height]);
    let changed = 0;
    let wrong = 0;
    for (let i = 0; i < c.data.length; i++) {
      if (c.data[i] === o.data[i]) continue;
      changed++;
      if (c.data[i] !== paint) wrong++;
    }
    expect(changed).toBeGreaterThan(100);
    expect(wrong).toBe(0);
  });

  it('adds a note and marks the analysis reviewed; the history says so', async () => {
    await page.fill('#review-note', 'Checked on screen; f1 is an artefact.');
    await page.click('#mark-reviewed');
    await expect
      .poll(() => page.textContent('#reviewed-status'), POLL)
      .toMatch(/^Reviewed by admin on /);
    await expect
      .poll(() => page.textContent('#history-list [data-testid="history-review"]'), POLL)
      .toBe('Reviewed');
    const got = await record();
    expect(got.reviewed).toMatchObject({
      by: 'admin',
      note: 'Checked on screen; f1 is an artefact.',
    });
  });

  it('screenshots at 1280 and 390 px and a one-page print without buttons', async () => {
    await page.screenshot({ path: path.join(OUT, 'review-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => page.evaluate(() => document.documentElement.scrollWidth), POLL)
      .toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(OUT, 'review-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    await page.emulateMedia({ media: 'print' });
    const buttons = await page.evaluate(
      () =>
        [...document.querySelectorAll('button, .button-link, textarea')].filter(
          (el) => (el as HTMLElement).offsetParent !== null && !el.classList.contains('tooth'),
        ).length,
    );
    // Finding lines are buttons on screen and plain lines in print; nothing else shows.
    const findingLines = await page.locator('.finding-row .finding').count();
    expect(buttons).toBe(findingLines);
    expect(await page.locator('#print-image').getAttribute('src')).toMatch(/^data:image\/png/);
    await page.screenshot({ path: path.join(OUT, 'review-print.png'), fullPage: true });
    // Chromium's own print to PDF (print media unless screen is emulated): one A4 page.
    await page.emulateMedia({ media: null });
    const pdf = path.join(OUT, 'review-print.pdf');
    await page.pdf({ path: pdf, format: 'A4' });
    if (hasPdftotext) {
      const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
      expect(info).toMatch(/Pages:\s+1\n/);
    }
  });

  it('reloading the link reopens the analysis with its review state; back and forward work', async () => {
    await page.goto(link);
    await page.reload();
    await page.waitForSelector(`body[data-analysis="${id}"]`, { timeout: 60_000 });
    await expect.poll(() => row('f1').getAttribute('data-review'), POLL).toBe('rejected');
    expect(await row('f2').getAttribute('data-review')).toBe('accepted');
    expect(await tooth(to).getAttribute('data-review')).toBe('edited');
    expect(await tooth(from).getAttribute('data-state')).toBe('missing');
    expect(await page.inputValue('#review-note')).toBe('Checked on screen; f1 is an artefact.');
    expect(await page.textContent('#reviewed-status')).toMatch(/^Reviewed by admin/);
    // The saved correction is what the viewer shows (no re-thresholding over it).
    expect(await page.textContent('#mask-status')).toBe('Corrected mask shown.');
    expect(await page.isDisabled('#threshold')).toBe(true);
    // Back to the empty page, forward to the analysis again.
    await page.evaluate(() => {
      location.hash = '';
    });
    await expect.poll(() => page.locator('#placeholder').isVisible(), POLL).toBe(true);
    await page.goBack();
    await page.waitForSelector(`body[data-analysis="${id}"]`, { timeout: 60_000 });
    expect(new URL(page.url()).hash).toBe(`#/analyses/${id}`);
    await page.goForward();
    await expect.poll(() => page.locator('#placeholder').isVisible(), POLL).toBe(true);
    await page.goBack();
    await page.waitForSelector(`body[data-analysis="${id}"]`, { timeout: 60_000 });
  });

  it('downloads the report, a real PDF whose text has the findings', async (ctx) => {
    if (!(await routeExists('report.pdf'))) ctx.skip(); // GET /api/v1/analyses/{id}/report.pdf missing
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dl-report')]);
    expect(download.suggestedFilename()).toBe('pano.report.pdf');
    const file = path.join(OUT, 'review-report.pdf');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('%PDF');
    if (!hasPdftotext) return;
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toMatch(/rejected/i);
    expect(text).toMatch(/accepted/i);
    expect(text).toContain(before.findings[1]?.type ?? 'missing type');
    expect(text).toMatch(/not a medical device/i);
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-singlefile',
      file,
      path.join(OUT, 'review-report'),
    ]);
  });

  it('exports the DICOM Secondary Capture and SEG', async (ctx) => {
    if (!(await routeExists('export/sc.dcm')) || !(await routeExists('export/seg.dcm'))) {
      ctx.skip(); // GET /api/v1/analyses/{id}/export/sc.dcm or seg.dcm missing
    }
    for (const [button, kind] of [
      ['#export-sc', 'sc'],
      ['#export-seg', 'seg'],
    ] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      expect(download.suggestedFilename()).toBe(`pano.${kind}.dcm`);
      const file = path.join(OUT, `review-${kind}.dcm`);
      await download.saveAs(file);
      expect(readFileSync(file).subarray(128, 132).toString('latin1')).toBe('DICM');
    }
  });

  it('a link to an analysis that does not exist says so', async () => {
    await page.goto(`${url}/#/analyses/00000000-0000-4000-8000-000000000000`);
    await page.locator('#error').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.textContent('#error')).toMatch(/not found/i);
    expect(await page.locator('#placeholder').isVisible()).toBe(true);
    // The history still opens the real one, and the address follows.
    await page.locator(`#history-list [data-id="${id}"]`).click();
    await page.waitForSelector(`body[data-analysis="${id}"]`, { timeout: 60_000 });
    expect(new URL(page.url()).hash).toBe(`#/analyses/${id}`);
  });

  it('the audit lists every change once, in order, with the user; the page had no errors', async () => {
    const audit = await api<AuditJson[]>(`/api/v1/analyses/${id}/audit`);
    expect(audit.map((e) => e.action)).toEqual([
      'finding.review',
      'finding.review',
      'finding.review',
      'finding.review',
      'tooth.renumber',
      'tooth.present',
      'tooth.present',
      'mask.correct',
      'analysis.review',
    ]);
    expect(audit.every((e) => e.user === 'admin')).toBe(true);
    const times = audit.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(pageErrors).toEqual([]);
    expect(csp).toEqual([]);
  });
});

// The model set on the page, with fixed-output models (fast, and what is found is known): a
// numbering model (teeth 46 and 36) and a caries model (three lesions on 36, one off the
// teeth). The findings list reads as a dentist does, the chart marks 36 with a legend, a
// click or Enter on a finding zooms to it, the page says findings are suggestions, areas are
// in mm² only for a DICOM with pixel spacing. Screenshots: /tmp/modelset-{1280,390}.png.
describe.skipIf(!HAS_SAMPLE || !HAS_CHROMIUM)('model set findings on the page', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let analysis: AnalysisJson;
  const pageErrors: string[] = [];
  const SIZE = { width: W * 3, height: H * 3 };
  const upload = async (name: string, mimeType: string, buffer: Buffer): Promise<string> => {
    const before = await page.getAttribute('body', 'data-analysis');
    await page.setInputFiles('#file-input', { name, mimeType, buffer });
    // (in beforeAll too, where expect.poll is not allowed)
    await page.waitForFunction(
      (was) =>
        document.body.dataset.analysis !== undefined && document.body.dataset.analysis !== was,
      before,
      { timeout: 90_000 },
    );
    return (await page.getAttribute('body', 'data-analysis')) ?? '';
  };
  const viewState = async (): Promise<{ scale: number; centre: number[] }> => ({
    scale: Number(await page.getAttribute('#viewer', 'data-scale')),
    centre: ((await page.getAttribute('#viewer', 'data-centre')) ?? '').split(',').map(Number),
  });

  beforeAll(async () => {
    ensureWebBuilt();
    app = await buildApp({
      models: [
        fixedModel(numberingMeta(), numberingProbs(), '/fixed-fdi'),
        fixedModel(lesionMeta(), lesionProbs(), '/fixed-caries'),
      ],
      dataDir: tempDir(),
      // The fixed models find the same whatever the picture; keep it for the DICOM too.
      force: true,
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(url);
    const xray = await sharp(readFileSync(SAMPLE_XRAY))
      .resize({ ...SIZE, fit: 'fill' })
      .png()
      .toBuffer();
    const id = await upload('set.png', 'image/png', xray);
    analysis = (await app.inject({ url: `/api/v1/analyses/${id}` })).json<AnalysisJson>();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('lists the lesions first, worded with tooth, surface and confidence', async () => {
    const titles = await page.locator('[data-testid="finding-title"]').allTextContents();
    // The confidence is the API's score (the mean probability over the resized region).
    const lesions = analysis.findings.filter((f) => f.model === 'fixed-caries');
    expect(lesions).toHaveLength(4);
    expect(titles.slice(0, 4).sort()).toEqual(
      lesions
        .map(
          (f) =>
            `Caries — ${f.tooth === null ? 'tooth not identified' : `tooth ${f.tooth} (${f.surface})`}, confidence ${(f.score ?? 0).toFixed(2)}`,
        )
        .sort(),
    );
    expect(titles.slice(0, 4).filter((t) => t.startsWith('Caries — tooth 36 ('))).toHaveLength(3);
    // The teeth model's regions follow, as before.
    expect(titles.slice(4)).toEqual(['f1. tooth 46', 'f2. tooth 36']);
    // Each line is read whole: wrapped, never cut with an ellipsis.
    const cut = await page
      .locator('[data-testid="finding-title"]')
      .evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
    expect(cut).toBe(0);
    // A PNG has no pixel spacing: areas in px.
    expect(await page.locator('.finding-row .finding-meta').first().textContent()).toMatch(
      /^\d[\d,]* px · f\d+$/,
    );
    expect(await page.locator('#findings-disclaimer').isVisible()).toBe(true);
    const disclaimer = await page.textContent('#findings-disclaimer');
    expect(disclaimer).toMatch(/suggestions for the dentist to confirm/);
    // A list of suggestions is read as exhaustive unless the page says it is not.
    expect(disclaimer).toMatch(/not complete: a tooth without a finding is not cleared/);
    expect(await page.textContent('#findings-note')).toBe(
      '4 suspected lesions on 1 tooth, 2 teeth regions; 6 not yet reviewed.',
    );
    expect(await page.textContent('#model-badge')).toBe(
      'fixed-fdi 0.0.1 + fixed-caries 0.0.1 · fixed',
    );
  });

  it('marks tooth 36 on the chart with a caries dot and a legend', async () => {
    const t36 = page.locator('#chart button[data-fdi="36"]');
    expect(await t36.getAttribute('data-findings')).toBe('caries');
    expect(await t36.locator('.tooth-mark[data-type="caries"]').count()).toBe(1);
    expect(await t36.getAttribute('aria-label')).toMatch(/findings: caries$/);
    expect(await page.locator('#chart button[data-fdi="46"]').getAttribute('data-findings')).toBe(
      null,
    );
    expect(await page.locator('#chart .tooth-mark').count()).toBe(1);
    expect(await page.locator('#chart-legend').isVisible()).toBe(true);
    expect(await page.textContent('#chart-legend')).toBe('Caries: 1 tooth');
  });

  it('a click on a finding zooms the viewer to it; so does Enter from the keyboard', async () => {
    const fitted = await viewState();
    const mesial = analysis.findings.find((f) => f.surface === 'mesial');
    const distal = analysis.findings.find((f) => f.surface === 'distal');
    if (!mesial || !distal) throw new Error('no mesial or distal caries');
    await page.locator(`.finding-row[data-id="${mesial.id}"] .finding`).click();
    const zoomed = await viewState();
    expect(zoomed.scale).toBeGreaterThan(fitted.scale * 1.2);
    const [cx, cy] = zoomed.centre;
    expect(Math.abs((cx ?? 0) - mesial.centroid[0])).toBeLessThan(3);
    expect(Math.abs((cy ?? 0) - mesial.centroid[1])).toBeLessThan(3);
    // Keyboard only: move the selection with ↓ until the distal lesion, Enter zooms to it.
    await page.click('#zoom-fit');
    for (let i = 0; i < 6; i++) {
      if (
        (await page.evaluate(() => document.activeElement?.closest('li')?.dataset.id)) === distal.id
      )
        break;
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');
    const [dx] = (await viewState()).centre;
    expect(Math.abs((dx ?? 0) - distal.centroid[0])).toBeLessThan(3);
  });

  it('screenshots at 1280×800 and 390×844; the narrow page does not scroll sideways', async () => {
    await page.click('#zoom-fit');
    await page.screenshot({ path: path.join(OUT, 'modelset-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => page.evaluate(() => document.documentElement.scrollWidth), POLL)
      .toBeLessThanOrEqual(390);
    expect(await page.locator('#chart button[data-fdi="36"]').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(OUT, 'modelset-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('gives areas in mm² for a DICOM with pixel spacing', async () => {
    const { data } = await sharp(readFileSync(SAMPLE_XRAY))
      .resize({ ...SIZE, fit: 'fill' })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const dicom = buildDicom({
      ...SIZE,
      pixels: new Uint8Array(data),
      extra: { ImagerPixelSpacing: [0.1, 0.1] },
    });
    await upload('set.dcm', 'application/dicom', dicom);
    await expect
      .poll(() => page.locator('.finding-row .finding-meta').first().textContent(), POLL)
      .toMatch(/^\d+\.\d\d mm² · f\d+$/);
    expect(pageErrors).toEqual([]);
  });
});
