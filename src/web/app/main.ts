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
import { $, bitmapOf, download, greyPixels } from './dom.js';
import { ReviewControls, maskSource } from './review-controls.js';
import { analysisHash, analysisOfHash } from './route.js';
import { Viewer, type OverlayMode } from './viewer.js';
import { renderQuality } from './quality.js';

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
  /** Replaced by the server's answer after every review change. */
  analysis?: Analysis;
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

const review = new ReviewControls({
  viewer,
  current: () => shown?.analysis,
  update: (analysis) => {
    if (shown) shown.analysis = analysis;
  },
  zoomTo: (box) => zoomToBox(box),
  threshold: thresholdInput,
  stem: () => stem(),
  showError: (m) => showError(m),
  handleError: (err) => handleError(err),
  refreshHistory: () => refreshHistory(),
});

/**
 * Centre a region and zoom so that it fills about half the view. A lesion of a few dozen
 * pixels is shown with some of its tooth around it (at least 160 image pixels across) and
 * at most 6 screen pixels per image pixel.
 */
function zoomToBox(box: [number, number, number, number]): void {
  const [x, y, w, h] = box;
  const canvas = viewer.canvas;
  panTo(x + w / 2, y + h / 2);
  const span = Math.max(160, w, h);
  const want = Math.min(6, (Math.min(canvas.clientWidth, canvas.clientHeight) / span) * 0.5);
  viewer.zoom(Math.max(1, want / viewer.scale));
  viewer.setHighlight(box);
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

function renderSummary(
  s: Shown,
  filename: string,
  model: string,
  elapsedMs: number | undefined,
): void {
  $('summary').hidden = false;
  $('findings-section').hidden = false;
  $('sum-file').textContent = filename || '(unnamed)';
  $('sum-file').title = filename;
  $('sum-size').textContent = `${s.width} × ${s.height} px`;
  $('sum-model').textContent = model;
  // The schema leaves the time optional; every analysis the server stores has one.
  $('sum-time').textContent = elapsedMs === undefined ? '—' : `${(elapsedMs / 1000).toFixed(2)} s`;
}

let opening = 0;

async function openAnalysis(analysis: Analysis): Promise<void> {
  const ticket = ++opening;
  showStatus('Loading images…');
  const [original, probability, mask] = await Promise.all([
    getBlob(analysis.links.original).then(bitmapOf),
    getBlob(analysis.links.probability).then(bitmapOf),
    // The label map the brush corrects: the dentist's last correction, else the model's mask.
    getBlob(maskSource(analysis)).then(bitmapOf),
  ]);
  // A later open (a click, the back button) won the race: drop this one.
  if (ticket !== opening) return;
  const multiclass = analysis.model.task === 'multiclass';
  const maskGrey = greyPixels(mask);
  shown = {
    analysis,
    width: analysis.image.width,
    height: analysis.image.height,
    findings: analysis.findings,
    serverThreshold: analysis.threshold,
    byClass: multiclass,
  };
  // Binary: probability threshold; multi-class: minimum confidence of the winning class.
  $('threshold-label').textContent = multiclass ? 'Min. confidence' : 'Threshold';
  thresholdInput.value = String(analysis.threshold);
  $('threshold-value').textContent = analysis.threshold.toFixed(2);
  placeholder.hidden = true;
  renderSummary(
    shown,
    analysis.filename ?? '',
    // A set names every model: "teeth-fdi 0.3.0 + caries 1.0.0 (onnx)".
    `${(analysis.models ?? [analysis.model]).map((m) => `${m.name} ${m.version}`).join(' + ')} (${analysis.model.engine})`,
    analysis.elapsedMs,
  );
  viewer.show(
    {
      image: original,
      width: original.width,
      height: original.height,
      probability: greyPixels(probability),
      // A correction, when there is one, is drawn over this by the brush (setLabels).
      classes: multiclass ? maskGrey : undefined,
    },
    analysis.threshold,
  );
  review.open(analysis, maskGrey);
  renderQuality(
    $('quality-note'),
    analysis.quality,
    (analysis.models ?? []).flatMap((m) => (m.enhanced !== undefined ? [m.enhanced] : [])),
  );
  $('downloads').hidden = false;
  document.body.dataset.analysis = analysis.id;
  showStatus(undefined);
  markCurrent(analysis.id);
  if (analysisOfHash(location.hash) !== analysis.id) location.hash = analysisHash(analysis.id);
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
  review.renderFindings(r.findings, r.threshold, r.task === 'multiclass');
  // The browser runs the set's teeth model only: say what was not looked for.
  const lesions = (card?.models ?? []).flatMap((m) =>
    m.role === 'lesion' && m.type ? [m.type] : [],
  );
  if (lesions.length > 0) {
    $('findings-note').textContent +=
      ` Private mode runs the teeth model only: ${lesions.join(', ')} ${lesions.length === 1 ? 'is' : 'are'} looked for on the server (switch private mode off).`;
  }
  renderQuality($('quality-note'), r.quality);
  $('downloads').hidden = true;
  review.close();
  opening++;
  delete document.body.dataset.analysis;
  markCurrent(undefined);
  // A result computed in the browser has no address on the server.
  if (location.hash) history_.replaceState(null, '', location.pathname + location.search);
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
    // Through the address, so that back and forward step through what was opened.
    if (analysisOfHash(location.hash) === item.id) void openById(item.id);
    else location.hash = analysisHash(item.id);
  },
  deleted: (id) => {
    if (shown?.analysis?.id !== id) return;
    closeAnalysis();
    history_.replaceState(null, '', location.pathname + location.search);
  },
  error: handleError,
  current: () => shown?.analysis?.id,
};
const history_ = window.history;
const markCurrent = (id: string | undefined): void => markHistory(history.list, id);

/** Empty the viewer and the result panels. */
function closeAnalysis(): void {
  opening++;
  shown = undefined;
  viewer.clear();
  review.close();
  placeholder.hidden = false;
  delete document.body.dataset.analysis;
  for (const section of [
    'summary',
    'findings-section',
    'teeth-section',
    'review-section',
    'downloads',
  ]) {
    $(section).hidden = true;
  }
  markCurrent(undefined);
}

/** Open the analysis `id` from the API (a link, a reload, back or forward). */
async function openById(id: string): Promise<void> {
  showError(undefined);
  try {
    await openAnalysis(await getJson<Analysis>(`/api/v1/analyses/${encodeURIComponent(id)}`));
  } catch (err) {
    // Another analysis must not stay on screen under this one's address.
    if (shown && shown.analysis?.id !== id && analysisOfHash(location.hash) === id) {
      closeAnalysis();
    }
    handleError(err);
  }
}

/** Follow the address: open the analysis it names, or empty the page when it names none. */
function followHash(): void {
  const id = analysisOfHash(location.hash);
  if (id === undefined) {
    if (shown?.analysis) closeAnalysis();
    return;
  }
  if (id !== shown?.analysis?.id) void openById(id);
}
const refreshHistory = (): Promise<void> => refreshHistoryList(history);

function stem(): string {
  const name = shown?.analysis?.filename?.replace(/\.[^.]+$/, '') ?? '';
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
    review.renderFindings(shown.findings, shown.serverThreshold, shown.byClass);
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
window.addEventListener('hashchange', followHash);
// The printed page shows the whole X-ray, whatever the zoom on screen.
window.addEventListener('beforeprint', () => {
  const img = $<HTMLImageElement>('print-image');
  const snap = viewer.snapshot();
  if (snap) img.src = snap.toDataURL('image/png');
  else img.removeAttribute('src');
});

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken($<HTMLInputElement>('token-input').value.trim());
  $('token-form').hidden = true;
  showError(undefined);
  void start();
});

/** The server's model card (with its set), once read. */
let card: ModelCard | undefined;

async function start(): Promise<void> {
  try {
    card = await getJson<ModelCard>('/api/v1/model');
    const set = card.models ?? [card];
    $('model-badge').textContent =
      `${set.map((m) => `${m.name} ${m.version}`).join(' + ')} · ${card.engine}`;
    $('model-badge').title = set
      .map((m) => `${m.name}: ${m.task}. Licence: ${m.licence}`)
      .join('\n');
    await refreshHistory();
    followHash();
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
