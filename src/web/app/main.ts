/**
 * The dentist's page: upload an X-ray, watch it being analysed, inspect the segmentation
 * in the viewer, read the findings, download the results and revisit past analyses.
 */
import {
  ApiError,
  getBlob,
  getJson,
  setToken,
  uploadXray,
  type Analysis,
  type Finding,
  type ModelCard,
} from './api.js';
import {
  markCurrent as markHistory,
  refreshHistory as refreshHistoryList,
  type HistoryContext,
} from './history.js';
import { loadPrivateMode, type LocalAnalysis } from './hooks.js';
import { classColour, groupFindings } from './overlay.js';
import { Viewer, type OverlayMode } from './viewer.js';
import { renderQuality } from './quality.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

const fileInput = $<HTMLInputElement>('file-input');
const dropzone = $('dropzone');
const errorBox = $('error');
const progress = $('progress');
const progressFill = $('progress-fill');
const progressText = $('progress-text');
const placeholder = $('placeholder');
const thresholdInput = $<HTMLInputElement>('threshold');
const opacityInput = $<HTMLInputElement>('opacity');

/** What is on screen: a server analysis, or a result computed in the browser. */
interface Shown {
  readonly analysis?: Analysis;
  readonly local?: LocalAnalysis;
  readonly width: number;
  readonly height: number;
  readonly findings: readonly Finding[];
  readonly serverThreshold: number;
  /** Findings listed per class (multi-class models). */
  readonly byClass: boolean;
}
let shown: Shown | undefined;
let uploadInterceptor: ((file: File) => Promise<boolean>) | undefined;

const viewer = new Viewer($<HTMLCanvasElement>('viewer'), (areas) => {
  if (!shown) return;
  let total = 0;
  for (const n of areas.values()) total += n;
  const pct = (100 * total) / (shown.width * shown.height);
  $('sum-area').textContent =
    `${pct.toFixed(2)}% of the image at ${(document.getElementById('threshold-label')?.textContent ?? 'threshold').toLowerCase()} ${Number(thresholdInput.value).toFixed(2)}`;
});

function showError(message: string | undefined): void {
  errorBox.hidden = message === undefined;
  errorBox.textContent = message ?? '';
}

function showStatus(message: string | undefined, fraction?: number): void {
  progress.hidden = message === undefined;
  progressText.textContent = message ?? '';
  progress.classList.toggle('indeterminate', fraction === undefined);
  progressFill.style.width = fraction === undefined ? '100%' : `${Math.round(fraction * 100)}%`;
}

function handleError(err: unknown): void {
  showStatus(undefined);
  if (err instanceof ApiError && err.status === 401) {
    $('token-form').hidden = false;
    $<HTMLInputElement>('token-input').focus();
  }
  const message = err instanceof Error ? err.message : String(err);
  showError(err instanceof ApiError && err.status > 0 ? `Rejected: ${message}` : message);
}

async function bitmapOf(blob: Blob): Promise<ImageBitmap> {
  return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

/** The first channel of an image's pixels (our PNGs are grey). */
function greyPixels(bitmap: ImageBitmap): Uint8Array {
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const out = new Uint8Array(bitmap.width * bitmap.height);
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4] as number;
  return out;
}

function fmtPx(n: number): string {
  return n.toLocaleString('en-GB');
}

function renderFindings(findings: readonly Finding[], threshold: number, byClass: boolean): void {
  const list = $('findings');
  list.replaceChildren();
  const entries = groupFindings(findings, byClass);
  $('findings-count').textContent = `(${entries.length})`;
  const total = findings.reduce((s, f) => s + f.areaPct, 0);
  const at = byClass ? '' : `, at threshold ${threshold.toFixed(2)}`;
  const what = byClass
    ? `${entries.length} class${entries.length === 1 ? '' : 'es'} in ${findings.length} region${findings.length === 1 ? '' : 's'}`
    : `${findings.length} region${findings.length === 1 ? '' : 's'}`;
  $('findings-note').textContent =
    findings.length === 0
      ? `Nothing found${at}.`
      : `${what}, ${total.toFixed(2)}% of the image${at}.`;
  entries.forEach((f, i) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'finding';
    button.dataset.testid = 'finding';
    const title = document.createElement('span');
    title.className = 'finding-title';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = `rgb(${classColour(f.classIndex).join(',')})`;
    swatch.setAttribute('aria-hidden', 'true');
    title.append(swatch, `${i + 1}. ${f.class}`);
    const meta = document.createElement('span');
    meta.className = 'finding-meta';
    const regions = f.regions > 1 ? ` · ${f.regions} regions` : '';
    meta.textContent = `${f.areaPct.toFixed(2)}% · ${fmtPx(f.areaPx)} px${regions} · at (${Math.round(f.centroid[0])}, ${Math.round(f.centroid[1])})`;
    button.append(title, meta);
    button.setAttribute(
      'aria-label',
      `Finding ${i + 1}: ${f.class}, ${f.areaPct.toFixed(2)} percent of the image; press to zoom to it`,
    );
    const on = (): void => viewer.setHighlight(f.bbox);
    const off = (): void => viewer.setHighlight(undefined);
    button.addEventListener('mouseenter', on);
    button.addEventListener('focus', on);
    button.addEventListener('mouseleave', off);
    button.addEventListener('blur', off);
    button.addEventListener('click', () => {
      // Centre the region, then zoom so that it fills about half the view (at most 4×).
      const [x, y, w, h] = f.bbox;
      const canvas = viewer.canvas;
      panTo(x + w / 2, y + h / 2);
      const want = Math.min(canvas.clientWidth / w, canvas.clientHeight / h) * 0.5;
      viewer.zoom(Math.max(1, Math.min(4, want / viewer.scale)));
      viewer.setHighlight(f.bbox);
    });
    li.append(button);
    list.append(li);
  });
}

/** Pan so that image point (x, y) sits at the centre of the view. */
function panTo(x: number, y: number): void {
  const canvas = viewer.canvas;
  viewer.fit();
  const s = viewer.scale;
  const fitW = (canvas.clientWidth - shownWidth() * s) / 2;
  const fitH = (canvas.clientHeight - shownHeight() * s) / 2;
  viewer.pan(canvas.clientWidth / 2 - (fitW + x * s), canvas.clientHeight / 2 - (fitH + y * s));
}
const shownWidth = (): number => shown?.width ?? 1;
const shownHeight = (): number => shown?.height ?? 1;

function renderSummary(s: Shown, filename: string, model: string, elapsedMs: number): void {
  $('summary').hidden = false;
  $('findings-section').hidden = false;
  $('sum-file').textContent = filename || '(unnamed)';
  $('sum-file').title = filename;
  $('sum-size').textContent = `${s.width} × ${s.height} px`;
  $('sum-model').textContent = model;
  $('sum-time').textContent = `${(elapsedMs / 1000).toFixed(2)} s`;
}

async function openAnalysis(analysis: Analysis): Promise<void> {
  showStatus('Loading images…');
  const [original, probability, mask] = await Promise.all([
    getBlob(analysis.links.original).then(bitmapOf),
    getBlob(analysis.links.probability).then(bitmapOf),
    analysis.model.task === 'multiclass'
      ? getBlob(analysis.links.mask).then(bitmapOf)
      : Promise.resolve(undefined),
  ]);
  shown = {
    analysis,
    width: analysis.image.width,
    height: analysis.image.height,
    findings: analysis.findings,
    serverThreshold: analysis.threshold,
    byClass: analysis.model.task === 'multiclass',
  };
  // Binary: probability threshold; multi-class: minimum confidence of the winning class.
  $('threshold-label').textContent =
    analysis.model.task === 'multiclass' ? 'Min. confidence' : 'Threshold';
  thresholdInput.value = String(analysis.threshold);
  $('threshold-value').textContent = analysis.threshold.toFixed(2);
  placeholder.hidden = true;
  renderSummary(
    shown,
    analysis.filename,
    `${analysis.model.name} ${analysis.model.version} (${analysis.model.engine})`,
    analysis.elapsedMs,
  );
  viewer.show(
    {
      image: original,
      width: original.width,
      height: original.height,
      probability: greyPixels(probability),
      classes: mask ? greyPixels(mask) : undefined,
    },
    analysis.threshold,
  );
  renderFindings(analysis.findings, analysis.threshold, analysis.model.task === 'multiclass');
  renderQuality($('quality-note'), analysis.quality);
  $('downloads').hidden = false;
  document.body.dataset.analysis = analysis.id;
  showStatus(undefined);
  markCurrent(analysis.id);
}

function showLocalResult(r: LocalAnalysis): void {
  const canvas = document.createElement('canvas');
  canvas.width = r.width;
  canvas.height = r.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(r.width, r.height);
  for (let i = 0; i < r.grey.length; i++) {
    const v = r.grey[i] as number;
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  shown = {
    local: r,
    width: r.width,
    height: r.height,
    findings: r.findings,
    serverThreshold: r.threshold,
    byClass: r.task === 'multiclass',
  };
  placeholder.hidden = true;
  renderSummary(shown, r.filename, `${r.task} model in this browser (private mode)`, r.elapsedMs);
  viewer.show(
    {
      image: canvas,
      width: r.width,
      height: r.height,
      probability: r.probability,
      classes: r.classes,
    },
    r.threshold,
  );
  renderFindings(r.findings, r.threshold, r.task === 'multiclass');
  renderQuality($('quality-note'), undefined);
  $('downloads').hidden = true;
  markCurrent(undefined);
}

async function handleFile(file: File): Promise<void> {
  showError(undefined);
  try {
    if (uploadInterceptor && (await uploadInterceptor(file))) return;
    showStatus(`Uploading ${file.name}…`, 0);
    const analysis = await uploadXray(
      file,
      (f) => showStatus(`Uploading ${file.name}… ${Math.round(f * 100)}%`, f),
      () => showStatus('Analysing… (segmenting the X-ray)'),
      (status) =>
        showStatus(
          status === 'queued'
            ? 'Waiting for a worker… (the X-ray is on the queue)'
            : 'Analysing… (segmenting the X-ray)',
        ),
    );
    await openAnalysis(analysis);
    await refreshHistory();
  } catch (err) {
    handleError(err);
  }
}

const history: HistoryContext = {
  list: $('history-list'),
  empty: $('history-empty'),
  open: (item) => {
    showError(undefined);
    getJson<Analysis>(item.links.self).then(openAnalysis).catch(handleError);
  },
  deleted: (id) => {
    if (shown?.analysis?.id !== id) return;
    shown = undefined;
    viewer.clear();
    placeholder.hidden = false;
    for (const section of ['summary', 'findings-section', 'downloads']) $(section).hidden = true;
  },
  error: handleError,
  current: () => shown?.analysis?.id,
};
const markCurrent = (id: string | undefined): void => markHistory(history.list, id);
const refreshHistory = (): Promise<void> => refreshHistoryList(history);

async function download(url: string, name: string): Promise<void> {
  const blob = await getBlob(url);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function stem(): string {
  const name = shown?.analysis?.filename.replace(/\.[^.]+$/, '') ?? '';
  return name || (shown?.analysis?.id ?? 'analysis');
}

// --- wiring -------------------------------------------------------------------------
dropzone.addEventListener('click', () => fileInput.click());
dropzone.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    fileInput.click();
  }
});
fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) void handleFile(file);
  fileInput.value = '';
});
for (const target of [dropzone, document.body]) {
  target.addEventListener('dragover', (e) => {
    e.preventDefault();
    dropzone.classList.add('over');
  });
  target.addEventListener('dragleave', () => dropzone.classList.remove('over'));
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    dropzone.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void handleFile(file);
  });
}
opacityInput.addEventListener('input', () => {
  viewer.setOpacity(Number(opacityInput.value));
  $('opacity-value').textContent = `${Math.round(Number(opacityInput.value) * 100)}%`;
});
thresholdInput.addEventListener('input', () => {
  const t = Number(thresholdInput.value);
  $('threshold-value').textContent = t.toFixed(2);
  viewer.setThreshold(t);
  if (shown && Math.abs(t - shown.serverThreshold) > 1e-9) {
    $('findings-note').textContent =
      `Findings below are at the analysis threshold ${shown.serverThreshold.toFixed(2)}; the overlay shows ${t.toFixed(2)}.`;
  } else if (shown) {
    renderFindings(shown.findings, shown.serverThreshold, shown.byClass);
  }
});
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  radio.addEventListener('change', () => viewer.setMode(radio.value as OverlayMode));
}
$('zoom-in').addEventListener('click', () => viewer.zoom(1.25));
$('zoom-out').addEventListener('click', () => viewer.zoom(0.8));
$('zoom-fit').addEventListener('click', () => viewer.fit());
$('dl-mask').addEventListener('click', () => {
  if (shown?.analysis)
    void download(shown.analysis.links.mask, `${stem()}.mask.png`).catch(handleError);
});
$('dl-overlay').addEventListener('click', () => {
  if (shown?.analysis)
    void download(shown.analysis.links.overlay, `${stem()}.overlay.png`).catch(handleError);
});
$('dl-json').addEventListener('click', () => {
  if (!shown?.analysis) return;
  const blob = new Blob([JSON.stringify(shown.analysis, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${stem()}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken($<HTMLInputElement>('token-input').value.trim());
  $('token-form').hidden = true;
  showError(undefined);
  void start();
});

async function start(): Promise<void> {
  try {
    const card = await getJson<ModelCard>('/api/v1/model');
    $('model-badge').textContent = `${card.name} ${card.version} · ${card.engine}`;
    $('model-badge').title = `Task: ${card.task}. Licence: ${card.licence}`;
    await refreshHistory();
  } catch (err) {
    handleError(err);
  }
}

void loadPrivateMode({
  slot: $('private-mode-slot'),
  setUploadInterceptor: (handler) => (uploadInterceptor = handler),
  showLocalResult,
  showError: (m) => showError(m),
  showStatus: (m) => showStatus(m),
}).catch((err: unknown) => showError(`private mode failed to load: ${String(err)}`));
void start();
