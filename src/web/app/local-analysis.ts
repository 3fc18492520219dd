/**
 * Private mode's inference, without the DOM: the model's dentseg.json validated as the
 * server validates it, an ONNX Runtime session as the engine, and the same platform-free
 * input check and pipeline Node's `segment` runs (src/infer/check-and-run.ts) — so the page
 * and the server find the same masks, findings and warnings by construction. The page gives it
 * onnxruntime-web; tests in Node give it onnxruntime-node (both implement onnxruntime-common).
 */
import type { InferenceSession } from 'onnxruntime-common';
import { toGrey8 } from '../../imaging/grey8.js';
import { pixelsToGrey } from '../../imaging/luma.js';
import type { GreyImage } from '../../imaging/types.js';
import { onnxModelMeta } from '../../infer/onnx-metadata.js';
import { ortSessionEngine, type OrtModule } from '../../infer/ort-engine.js';
import { checkAndRun } from '../../infer/check-and-run.js';
import { probabilityImage } from '../../infer/pipeline.js';
import type { SetMember } from '../../infer/types.js';
import type { LocalAnalysis } from './hooks.js';

/** Where the page downloads the model, also the name it gets in error messages. */
export const MODEL_URL = '/api/v1/model/onnx';

/** A downloaded model ready to run: its validated metadata and its engine. */
export type LocalModel = SetMember;

/**
 * Open ONNX bytes (as `GET /api/v1/model/onnx` serves them) with an ONNX Runtime module:
 * dentseg.json from the file's metadata through `parseModelMeta`, then a session.
 */
export async function openLocalModel(
  ort: OrtModule & { readonly InferenceSession: typeof InferenceSession },
  bytes: Uint8Array,
  options: InferenceSession.SessionOptions,
  info: { readonly backend: string; readonly threads?: number },
): Promise<LocalModel> {
  const meta = onnxModelMeta(bytes, MODEL_URL);
  const session = await ort.InferenceSession.create(bytes, options);
  return { meta, engine: ortSessionEngine(ort, session, { ...info, file: MODEL_URL }) };
}

/** RGBA pixels (a canvas' ImageData) as a grey image, by the decoders' one luma rule. */
export function greyFromRgba(rgba: Uint8ClampedArray, width: number, height: number): GreyImage {
  const grey = pixelsToGrey(rgba, width * height, 4);
  return { width, height, data: Uint8Array.from(grey), bitDepth: 8 };
}

/**
 * Segment a decoded image in the page: the server's input check (platform-free, so the
 * page runs the same one) and the shared pipeline at the server's default threshold (the model's own),
 * the result in the shape the viewer shows. As on a server without `--force`, an image that
 * is not a panoramic X-ray gets its findings and teeth withheld.
 */
export async function analyseImage(
  model: LocalModel,
  image: GreyImage,
  filename: string,
  started = performance.now(),
): Promise<LocalAnalysis> {
  const { meta } = model;
  // The check runs (`quality: true`), so `quality` is always there.
  const { results, quality, withheld } = await checkAndRun([model], image, {
    quality: true,
    withholdIfNotPanoramic: true,
  });
  const r = results[0]!;
  return {
    filename,
    grey: toGrey8(image),
    width: r.width,
    height: r.height,
    probability: probabilityImage(r.confidence),
    mask: r.mask,
    ...(meta.task === 'multiclass' ? { classes: r.mask } : {}),
    classNames: meta.classes,
    task: meta.task,
    findings: r.findings,
    ...(r.teeth && r.missing ? { teeth: r.teeth, missing: r.missing } : {}),
    threshold: r.threshold,
    elapsedMs: Math.round(performance.now() - started),
    quality: { ...quality!, withheld },
  };
}
