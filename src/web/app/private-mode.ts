/**
 * Private mode: segment the X-ray inside this browser with ONNX Runtime Web, so the image
 * never leaves the machine. The page downloads the model once as ONNX
 * (`GET /api/v1/model/onnx`, dentseg.json in its metadata, validated as the server does)
 * and runs the server's own inference pipeline on it (./local-analysis.ts) with ONNX Runtime
 * Web on wasm SIMD — multi-threaded when the page is cross-origin isolated (the server sends
 * COOP/COEP). Only the browser-specific parts live here: the download, the browser's image
 * decoder giving pixels, and the toggle. ORT's script and wasm files are bundled as local
 * assets: no CDN.
 */
import type * as Ort from 'onnxruntime-web';
// ORT's wasm build as plain assets (not bundled): its glue and worker load by URL. The
// package's exports map hides dist/, hence the relative paths into node_modules.
import ortUrl from '../../../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs?url';
import ortGlueUrl from '../../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs?url';
import ortWasmUrl from '../../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm?url';
import { sniffFormat } from '../../imaging/sniff.js';
import type { GreyImage } from '../../imaging/types.js';
import { getToken } from './api.js';
import type { PrivateModeContext } from './hooks.js';
import {
  analyseImage,
  greyFromRgba,
  MODEL_URL,
  openLocalModel,
  type LocalModel,
} from './local-analysis.js';

const STORAGE_KEY = 'dentseg.privateMode';

interface LoadedOnnx extends LocalModel {
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
    ctx.showStatus('Private mode: preparing the model in this browser…');
    const threads = ort.env.wasm.numThreads ?? 1;
    const model = await openLocalModel(
      ort,
      bytes,
      { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
      { backend: 'onnxruntime-web', threads },
    );
    ctx.showStatus(undefined);
    return { ...model, threads };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * The browser's own image decoder gives the pixels (no sharp here); turning them into the
 * grey image is shared with Node. DICOM and TIFF are for the server: the browser has no
 * decoder for them.
 */
async function decodeInBrowser(file: File): Promise<GreyImage> {
  const format = sniffFormat(new Uint8Array(await file.slice(0, 132).arrayBuffer()));
  if (format === 'dicom' || format === 'tiff') throw new Error(`no ${format} decoder`);
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
  return greyFromRgba(rgba, canvas.width, canvas.height);
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
    const model = await loadModel(ctx);
    ctx.showStatus(`Private mode: segmenting ${file.name} in this browser…`);
    const result = await analyseImage(model, image, file.name, started);
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
