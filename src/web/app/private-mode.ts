/**
 * Private mode: segment the X-ray inside this browser with ONNX Runtime Web, so the image
 * never leaves the machine. The page downloads the model once as ONNX
 * (`GET /api/v1/model/onnx`, dentseg.json in its metadata), pre-processes exactly as the
 * server does (the same src/data code), runs it on wasm SIMD — multi-threaded when the page
 * is cross-origin isolated (the server sends COOP/COEP) — and draws the result with the
 * page's own viewer. ORT's script and wasm files are bundled as local assets: no CDN.
 */
import type * as Ort from 'onnxruntime-web';
// ORT's wasm build as plain assets (not bundled): its glue and worker load by URL. The
// package's exports map hides dist/, hence the relative paths into node_modules.
import ortUrl from '../../../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs?url';
import ortGlueUrl from '../../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs?url';
import ortWasmUrl from '../../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm?url';
import { preprocessImage, restoreToOriginal } from '../../data/preprocess.js';
import { slidingWindow } from '../../data/tiling.js';
import type { GreyImage } from '../../imaging/types.js';
import { findingsFor } from '../../imaging/findings.js';
import type { ModelMeta } from '../../model/meta.js';
import { onnxMetadata } from '../../infer/onnx-metadata.js';
import { getToken } from './api.js';
import type { LocalAnalysis, PrivateModeContext } from './hooks.js';

const STORAGE_KEY = 'dentseg.privateMode';
const MODEL_URL = '/api/v1/model/onnx';
const THRESHOLD = 0.5;

interface LoadedOnnx {
  readonly ort: typeof Ort;
  readonly session: Ort.InferenceSession;
  readonly meta: ModelMeta;
  readonly threads: number;
}

let loading: Promise<LoadedOnnx> | undefined;

/** Download the model (with the page's token, if any) reporting progress. */
async function download(onProgress: (fraction: number | undefined) => void): Promise<Uint8Array> {
  const token = getToken();
  const res = await fetch(
    MODEL_URL,
    token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  );
  if (!res.ok) {
    const text = await res.text();
    let message = `the server answered ${res.status}`;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not JSON
    }
    throw new Error(`cannot download the model: ${message}`);
  }
  const total = Number(res.headers.get('Content-Length')) || undefined;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let got = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
    onProgress(total ? got / total : undefined);
  }
  const bytes = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

function loadModel(ctx: PrivateModeContext): Promise<LoadedOnnx> {
  loading ??= (async () => {
    const ort = (await import(/* @vite-ignore */ ortUrl)) as typeof Ort;
    ort.env.wasm.wasmPaths = { mjs: ortGlueUrl, wasm: ortWasmUrl };
    // Threads need SharedArrayBuffer, i.e. a cross-origin isolated page.
    ort.env.wasm.numThreads = self.crossOriginIsolated
      ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1))
      : 1;
    // Run ORT in its own worker so the page stays responsive during inference.
    ort.env.wasm.proxy = true;
    const bytes = await download((f) =>
      ctx.showStatus(
        `Private mode: downloading the model${f === undefined ? '' : ` ${Math.round(f * 100)}%`}…`,
      ),
    );
    const json = onnxMetadata(bytes)['dentseg.json'];
    if (!json) throw new Error('the ONNX model has no dentseg.json metadata');
    const meta = JSON.parse(json) as ModelMeta;
    ctx.showStatus('Private mode: preparing the model in this browser…');
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    ctx.showStatus(undefined);
    return { ort, session, meta, threads: ort.env.wasm.numThreads ?? 1 };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/** Decode with the browser's own decoders to 8-bit grey (luma, as the server does). */
async function decodeInBrowser(file: File): Promise<GreyImage> {
  const bitmap = await createImageBitmap(file, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const c2d = canvas.getContext('2d', { willReadFrequently: true });
  if (!c2d) throw new Error('no 2D canvas');
  c2d.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = c2d.getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = new Uint8Array(canvas.width * canvas.height);
  for (let i = 0, p = 0; i < grey.length; i++, p += 4) {
    const r = rgba[p] ?? 0;
    const g = rgba[p + 1] ?? 0;
    const b = rgba[p + 2] ?? 0;
    grey[i] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  return { width: canvas.width, height: canvas.height, data: grey, bitDepth: 8 };
}

/** Probabilities (pixel-interleaved, k per pixel) → shown probability 0–255 and class mask. */
function postprocess(
  probs: Float32Array,
  k: number,
): { probability: Uint8Array; mask: Uint8Array } {
  const n = probs.length / k;
  const probability = new Uint8Array(n);
  const mask = new Uint8Array(n);
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let best = 0;
    let bestP = probs[o] ?? 0;
    for (let j = 1; j < k; j++) {
      const p = probs[o + j] ?? 0;
      if (p > bestP) {
        bestP = p;
        best = j;
      }
    }
    probability[i] = Math.round(Math.min(1, Math.max(0, bestP)) * 255);
    mask[i] = k === 1 ? (bestP >= THRESHOLD ? 1 : 0) : best;
  }
  return { probability, mask };
}

/** Segment one file in the browser; resolves true when handled (shown or refused). */
async function analyseLocally(ctx: PrivateModeContext, file: File): Promise<boolean> {
  const started = performance.now();
  let image: GreyImage;
  try {
    ctx.showStatus(`Private mode: decoding ${file.name} in this browser…`);
    image = await decodeInBrowser(file);
  } catch {
    ctx.showStatus(undefined);
    ctx.showError(
      `Private mode could not decode "${file.name}" in this browser (it reads JPEG, PNG, BMP and WebP). Nothing was uploaded; switch private mode off to analyse DICOM or TIFF on the server.`,
    );
    return true;
  }
  try {
    const { ort, session, meta } = await loadModel(ctx);
    ctx.showStatus(`Private mode: segmenting ${file.name} in this browser…`);
    const c = meta.preprocess.channels;
    const { data, geometry } = preprocessImage(image, meta.preprocess);
    const forward = async (x: Float32Array, n: number, h: number, w: number) => {
      const input = new ort.Tensor('float32', x, [n, h, w, c]);
      const out = await session.run({ input });
      const y = out.probabilities;
      if (!y) throw new Error('the model has no "probabilities" output');
      const p = (await y.getData()) as Float32Array;
      input.dispose();
      y.dispose();
      return p;
    };
    // A tiled model replays the server's sliding window (same code) at native resolution.
    const tiling = meta.preprocess.tiling;
    const probs = tiling
      ? await slidingWindow(data, geometry.height, geometry.width, c, tiling, forward)
      : await forward(data, 1, geometry.height, geometry.width);
    const k = probs.length / (geometry.height * geometry.width);
    const { probability, mask } = postprocess(restoreToOriginal(probs, k, geometry), k);
    const result: LocalAnalysis = {
      filename: file.name,
      grey: image.data as Uint8Array,
      width: image.width,
      height: image.height,
      probability,
      ...(meta.task === 'multiclass' ? { classes: mask } : {}),
      classNames: meta.classes,
      task: meta.task,
      findings: findingsFor(mask, image.width, image.height, meta.task, meta.classes, {
        ...(meta.postprocess?.minAreaPx !== undefined
          ? { minAreaPx: meta.postprocess.minAreaPx }
          : {}),
      }),
      threshold: THRESHOLD,
      elapsedMs: Math.round(performance.now() - started),
    };
    ctx.showStatus(undefined);
    ctx.showLocalResult(result);
    // For tests and automation: what was computed locally, independent of how it is shown.
    document.body.dataset.privateModeFindings = String(result.findings.length);
  } catch (err) {
    ctx.showStatus(undefined);
    ctx.showError(`Private mode failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return true;
}

/** Called by the page (hooks.ts): put the toggle in the toolbar slot. */
export function setup(ctx: PrivateModeContext): void {
  const label = document.createElement('label');
  label.className = 'private-toggle';
  label.title =
    'Segment X-rays in this browser: the image is not uploaded. The model is downloaded once.';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.id = 'private-mode';
  label.append(box, ' Private mode (in-browser)');
  ctx.slot.append(label);

  const apply = (on: boolean): void => {
    localStorage.setItem(STORAGE_KEY, on ? '1' : '0');
    document.body.dataset.privateMode = on ? 'on' : 'off';
    ctx.setUploadInterceptor(on ? (file) => analyseLocally(ctx, file) : undefined);
    if (on) {
      loadModel(ctx).then(
        (m) => {
          document.body.dataset.privateModeThreads = String(m.threads);
        },
        (err: unknown) =>
          ctx.showError(`Private mode: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  };
  box.addEventListener('change', () => apply(box.checked));
  box.checked = localStorage.getItem(STORAGE_KEY) === '1';
  if (box.checked) apply(true);
}
