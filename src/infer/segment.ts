/**
 * `segment`: the inference pipeline, four steps as in transformers.js pipelines — prepare
 * (decode + the model's own pre-processing), forward (the engine), post-process (back to the
 * original size, threshold or arg-max, findings) and dispose (the engine frees its tensors).
 */
import {
  preprocessImage,
  restoreMaskToOriginal,
  restoreToOriginal,
  slidingWindow,
  type GreyImage,
} from '../data/index.js';
import { DentsegError } from '../errors.js';
import {
  describeTeeth,
  numberTeeth,
  numberingConfig,
  type NumberingResult,
} from '../numbering/index.js';
import { findingsFor } from '../imaging/findings.js';
import { decodeInput } from '../imaging/input.node.js';
import { renderOverlay } from './overlay.js';
import type { LoadedModel, SegmentOptions, SegmentResult, SegmentStage } from './types.js';

/** Mirror NHWC data (`h*w*c` per image, `batch` images) left–right. */
export function flipHorizontal(
  data: Float32Array,
  batch: number,
  h: number,
  w: number,
  c: number,
): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const row = (b * h + y) * w;
      for (let x = 0; x < w; x++) {
        const src = (row + x) * c;
        const dst = (row + w - 1 - x) * c;
        for (let k = 0; k < c; k++) out[dst + k] = data[src + k]!;
      }
    }
  }
  return out;
}

/** Binary: probability ≥ threshold → 1. Multi-class: arg-max over the k channels. */
export function probabilitiesToMask(
  probabilities: Float32Array,
  k: number,
  threshold: number,
): Uint8Array {
  const n = probabilities.length / k;
  const mask = new Uint8Array(n);
  if (k === 1) {
    for (let i = 0; i < n; i++) mask[i] = probabilities[i]! >= threshold ? 1 : 0;
    return mask;
  }
  for (let i = 0, o = 0; i < n; i++, o += k) {
    let best = 0;
    let bestP = probabilities[o]!;
    for (let j = 1; j < k; j++) {
      const p = probabilities[o + j]!;
      if (p > bestP) {
        bestP = p;
        best = j;
      }
    }
    mask[i] = best;
  }
  return mask;
}

/**
 * Segment one X-ray (a path, a Buffer, or a decoded grey image) with a loaded model.
 * Results are at the original image size; the engine disposes every tensor it made.
 */
export async function segment(
  model: LoadedModel,
  input: string | Buffer | GreyImage,
  opts: SegmentOptions = {},
): Promise<SegmentResult> {
  const threshold = opts.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new DentsegError('E_USAGE', `threshold must be in 0…1; received ${threshold}`);
  }
  const tta = opts.tta ?? false;
  const { meta, engine } = model;
  const minAreaPx = opts.minAreaPx ?? meta.postprocess?.minAreaPx;
  const t0 = performance.now();
  let t = t0;
  const timings = {} as Record<SegmentStage, number>;
  const lap = (stage: SegmentStage): void => {
    const now = performance.now();
    timings[stage] = Math.round((now - t) * 10) / 10;
    t = now;
  };

  const { image, dicom } = await decodeInput(input, opts.name);
  lap('decode');
  const { data, geometry } = preprocessImage(image, meta.preprocess);
  const [h, w] = [geometry.height, geometry.width];
  const c = meta.preprocess.channels;
  lap('preprocess');
  const tiling = meta.preprocess.tiling;
  // A tiled model sees the native-resolution image tile by tile, blended back together.
  const forward = (x: Float32Array, n: number): Promise<Float32Array> =>
    tiling
      ? slidingWindow(x, h, w, c, tiling, (b, m, th, tw) => engine.run(b, m, th, tw, c))
      : engine.run(x, n, h, w, c);
  let probs: Float32Array;
  if (tta && tiling) {
    const plain = await forward(data, 1);
    const flipped = await forward(flipHorizontal(data, 1, h, w, c), 1);
    const k = plain.length / (h * w);
    const back = flipHorizontal(flipped, 1, h, w, k);
    probs = new Float32Array(plain.length);
    for (let i = 0; i < probs.length; i++) probs[i] = (plain[i]! + back[i]!) / 2;
  } else if (tta) {
    const both = new Float32Array(data.length * 2);
    both.set(data);
    both.set(flipHorizontal(data, 1, h, w, c), data.length);
    const out = await engine.run(both, 2, h, w, c);
    const k = out.length / (2 * h * w);
    const plain = out.subarray(0, h * w * k);
    const flipped = flipHorizontal(out.subarray(h * w * k), 1, h, w, k);
    probs = new Float32Array(h * w * k);
    for (let i = 0; i < probs.length; i++) probs[i] = (plain[i]! + flipped[i]!) / 2;
  } else {
    probs = await forward(data, 1);
  }
  const k = probs.length / (h * w);
  if (!Number.isInteger(k) || k < 1) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `the model output has ${probs.length} values for ${w}×${h}`,
    );
  }
  lap('forward');
  const numberingCfg = numberingConfig(meta, opts.numbering);
  let mask: Uint8Array;
  let probabilities: Float32Array | undefined;
  let numbering: NumberingResult | undefined;
  if (numberingCfg) {
    // Numbering models: arg-max and anatomy at the network's size, then only the class map
    // goes back to the X-ray's size (K probability channels at full size cost ~0.5 GB).
    numbering = numberTeeth(probabilitiesToMask(probs, k, threshold), w, h, numberingCfg.scheme, {
      mode: numberingCfg.mode,
      minToothPx: numberingCfg.minToothPx,
      probabilities: probs,
    });
    lap('postprocess');
    mask = restoreMaskToOriginal(numbering.mask, geometry);
    lap('restore');
  } else {
    probabilities = restoreToOriginal(probs, k, geometry);
    lap('restore');
    mask = probabilitiesToMask(probabilities, k, threshold);
    lap('postprocess');
  }
  const findings =
    opts.findings === false
      ? []
      : findingsFor(mask, image.width, image.height, meta.task, meta.classes, {
          // The caller's value, else the model's own (lesions are far below the default).
          ...(minAreaPx !== undefined ? { minAreaPx } : {}),
        });
  // Numbering models: the teeth at the X-ray's size (outline polygons as findings have).
  const chart =
    numberingCfg && numbering && opts.findings !== false
      ? describeTeeth(mask, image.width, image.height, numbering, numberingCfg.scheme)
      : undefined;
  lap('findings');
  const legend = meta.task === 'multiclass' ? meta.classes : null;
  let restored = probabilities;
  return {
    width: image.width,
    height: image.height,
    classes: meta.classes,
    task: meta.task,
    mask,
    // Numbering models restore the probabilities only when someone reads them.
    get probabilities(): Float32Array {
      return (restored ??= restoreToOriginal(probs, k, geometry));
    },
    ...(numbering ? { numbering } : {}),
    findings,
    threshold,
    tta,
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
    timings,
    bitDepth: image.bitDepth,
    ...(dicom ? { dicom } : {}),
    overlay: (o) => renderOverlay(image, mask, legend, o),
    ...(chart && numberingCfg
      ? {
          teeth: chart.teeth,
          missing: chart.missing,
          // The chart's canvas loads only when a chart is drawn, so that predict's start-up
          // (and every command that never draws one) stays free of it.
          chart: async () =>
            (await import('./chart.js')).renderChart(
              image,
              mask,
              numberingCfg.scheme,
              chart.teeth,
              chart.missing,
            ),
        }
      : {}),
  };
}
