/**
 * The platform-free inference pipeline, three steps as in transformers.js pipelines:
 * prepare (the model's own pre-processing from its validated dentseg.json), run (an engine:
 * ONNX Runtime or TensorFlow.js in Node, onnxruntime-web in the browser) and post-process
 * (back to the image's size, threshold or arg-max, tooth numbering, findings). Typed arrays
 * in, plain data out: Node's `segment` adds decoding and pictures around it, the browser's
 * private mode the page's own pixels, so both give the same masks and findings by
 * construction. No Node, no DOM, no tfjs backend here.
 */
import {
  computeGeometry,
  restoreClassMapToOriginal,
  restoreToOriginal,
  preprocessImage,
  writeCoordinates,
  type PreprocessConfig,
} from '../data/preprocess.js';
import { flipClassMapFor } from '../data/classes.js';
import {
  slidingWindow,
  TILE_WIDTH_MAX,
  TILE_WIDTH_MIN,
  type TileOrigin,
  type TilingConfig,
} from '../data/tiling.js';
import { DentsegError } from '../errors.js';
import { defaultMinArea, findingsFor } from '../imaging/findings.js';
import type { QualityEstimate } from '../imaging/quality.js';
import type { GreyImage } from '../imaging/types.js';
import type { ModelMeta, NumberingMode } from '../model/meta.js';
import { numberingConfig, type NumberingConfig } from '../numbering/config.js';
import { numberTeeth, type NumberingResult } from '../numbering/postprocess.js';
import { describeTeeth } from '../numbering/teeth.js';
import type { InferenceEngine, Segmentation, TileFocus } from './types.js';

/**
 * Mirror NHWC data (`h*w*c` per image, `batch` images) left–right. With `channelMap`,
 * channel k lands in channel `channelMap[k]`: a mirrored X-ray's tooth 11 is the patient's
 * 21, so a numbering model's output on the flipped image is relabelled on the way back.
 */
export function flipHorizontal(
  data: Float32Array,
  batch: number,
  h: number,
  w: number,
  c: number,
  channelMap?: readonly number[],
): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const row = (b * h + y) * w;
      for (let x = 0; x < w; x++) {
        const src = (row + x) * c;
        const dst = (row + w - 1 - x) * c;
        if (channelMap) for (let k = 0; k < c; k++) out[dst + channelMap[k]!] = data[src + k]!;
        else for (let k = 0; k < c; k++) out[dst + k] = data[src + k]!;
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
 * A result's `confidence` (the probability of each pixel's class) as 0–255: what the server
 * stores as probability.png and the page re-thresholds.
 */
export function probabilityImage(confidence: Float32Array): Uint8Array {
  const out = new Uint8Array(confidence.length);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.max(0, Math.min(255, Math.round(confidence[i]! * 255)));
  return out;
}

/**
 * For each label of a post-processed class map, the probability channel that speaks for it:
 * the arg-max class most of its pixels had before post-processing renamed any region (a
 * label no pixel carries speaks for its own channel).
 */
export function channelsOfLabels(labels: Uint8Array, argMax: Uint8Array, k: number): Uint8Array {
  const counts = new Uint32Array(k * k);
  for (let i = 0; i < labels.length; i++) counts[labels[i]! * k + argMax[i]!]! += 1;
  const out = new Uint8Array(k);
  for (let label = 0; label < k; label++) {
    let best = label;
    for (let c = 0; c < k; c++) if (counts[label * k + c]! > counts[label * k + best]!) best = c;
    out[label] = best;
  }
  return out;
}

/** Per pixel, the probability of the class `classMap` holds there (`k` channels in). */
function winnerOf(probabilities: Float32Array, k: number, classMap: Uint8Array): Float32Array {
  const out = new Float32Array(classMap.length);
  for (let i = 0; i < out.length; i++) out[i] = probabilities[i * k + classMap[i]!]!;
  return out;
}

/**
 * The smallest region kept in a model's findings on a `width × height` image, in that
 * image's pixels: `override` (the caller's `--min-area`, image pixels) when given, else the
 * model's `postprocess.minAreaPx`, else `defaultMinArea`. The model's value counts pixels
 * at the scale the model works at: for a tiled model with `tiling.width` that is the image
 * resized to that width, so the value is scaled by the area ratio (a 20 px rule of a
 * 1472-wide caries model becomes ~89 px on a 3100-wide X-ray); otherwise the image's own.
 */
export function findingsMinAreaPx(
  meta: ModelMeta,
  width: number,
  height: number,
  override?: number,
): number {
  if (override !== undefined) return override;
  const own = meta.postprocess?.minAreaPx;
  if (own === undefined) return defaultMinArea(width, height);
  if (meta.preprocess.tiling?.width === undefined) return own;
  const g = computeGeometry(width, height, meta.preprocess);
  return Math.max(1, Math.round((own * width * height) / (g.width * g.height)));
}

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /**
   * Binary models: probability at or above which a pixel is foreground (0…1; default the
   * model's `postprocess.threshold`, else 0.5).
   */
  readonly threshold?: number;
  /**
   * Average with the horizontally flipped image's prediction, and at a tiled model's
   * `postprocess.ttaScales` (default: the model's `postprocess.tta`, else false).
   */
  readonly tta?: boolean;
  /** Compute findings and teeth (default true). */
  readonly findings?: boolean;
  /**
   * Tiled models: run only the tiles near these pixels (see {@link TileFocus}); the others'
   * probabilities are 0. Default: every tile.
   */
  readonly focus?: TileFocus;
  /**
   * Smallest region kept in findings, in the image's pixels (default: the model's, scaled
   * to the image as {@link findingsMinAreaPx} says, else `defaultMinArea`).
   */
  readonly minAreaPx?: number;
  /** Numbering models: the anatomical steps, overriding the model's `postprocess.numbering`. */
  readonly numbering?: NumberingMode;
  /**
   * The image's quality estimate, when the input check already took it: `auto` enhancement
   * decides on it instead of measuring the image again (see `imageQualityEstimate`).
   */
  readonly estimate?: QualityEstimate;
  /**
   * The input check withholds the results (not a panoramic X-ray): findings and teeth are
   * not computed at all, and come back as empty lists (`teeth` and `missing` for numbering
   * models too). The mask is made as usual.
   */
  readonly withhold?: boolean;
}

/** Steps timed by the pipeline, in milliseconds. */
export type PipelineStage = 'preprocess' | 'forward' | 'restore' | 'postprocess' | 'findings';

/** What {@link runPipeline} returns: plain data at the image's size. */
export interface PipelineResult extends Segmentation {
  /** The image it ran on (the caller's; its size is the result's). */
  readonly image: GreyImage;
  /** Channels per pixel of `probabilities` (1 binary, K multi-class). */
  readonly k: number;
  /** Numbering models: how they were numbered (scheme, mode, presence threshold). */
  readonly numberingConfig?: NumberingConfig;
  /**
   * Models with `preprocess.enhance` (or an `--enhance` override): the steps applied to this
   * image at network size (`none` when `auto` found nothing to do; `deblur:5`, …).
   */
  readonly enhanced?: string;
  /**
   * `width*height`: the probability of the class `mask` holds at each pixel (binary: the
   * probability itself), what the server stores as probability.png and the page
   * re-thresholds. Numbering models take it at the network's size and restore that one
   * channel, never their K probability channels (0.5 GB and a second at 3100×1300 × 33).
   */
  readonly confidence: Float32Array;
  readonly timings: Readonly<Record<PipelineStage, number>>;
}

/** Which tiles of an `h × w` working image (mirrored or not) a run keeps. */
type TilesNear = (
  h: number,
  w: number,
  tiling: TilingConfig,
) => (tile: TileOrigin, mirrored: boolean) => boolean;

/**
 * The tiles that come near `focus`, at any working size: a summed-area table of the mask,
 * built once per X-ray (every scale and the mirrored pass read it), answers each tile's
 * grown rectangle in four reads.
 */
function tilesNear(focus: TileFocus): TilesNear {
  const { mask, width: fw, height: fh } = focus;
  const sat = new Uint32Array((fw + 1) * (fh + 1));
  for (let y = 0; y < fh; y++) {
    let row = 0;
    for (let x = 0; x < fw; x++) {
      row += mask[y * fw + x] !== 0 ? 1 : 0;
      sat[(y + 1) * (fw + 1) + x + 1] = sat[y * (fw + 1) + x + 1]! + row;
    }
  }
  return (h, w, tiling) => tilesNearAt(focus, sat, h, w, tiling);
}

function tilesNearAt(
  focus: TileFocus,
  sat: Uint32Array,
  h: number,
  w: number,
  tiling: TilingConfig,
): (tile: TileOrigin, mirrored: boolean) => boolean {
  const { width: fw, height: fh } = focus;
  const sx = fw / w;
  const sy = fh / h;
  const [th, tw] = tiling.tile;
  // A tile's central part: the tile less half the overlap on each side inside the image.
  // Those parts cover the image, so each pixel near the mask keeps a tile that sees it with
  // a tile's full context.
  const inset = Math.floor(tiling.overlap / 2);
  const clampX = (v: number): number => Math.min(fw, Math.max(0, Math.round(v)));
  const clampY = (v: number): number => Math.min(fh, Math.max(0, Math.round(v)));
  return (t, mirrored) => {
    // The central part's columns in the tiled (possibly mirrored) image, then in the X-ray's.
    const left = t.x === 0 ? 0 : t.x + inset;
    const right = t.x + tw >= w ? w : t.x + tw - inset;
    const [a, b] = mirrored ? [w - right, w - left] : [left, right];
    const top = t.y === 0 ? 0 : t.y + inset;
    const bottom = t.y + th >= h ? h : t.y + th - inset;
    const x0 = clampX(a * sx - focus.reachPx);
    const x1 = clampX(b * sx + focus.reachPx);
    const y0 = clampY(top * sy - focus.reachPx);
    const y1 = clampY(bottom * sy + focus.reachPx);
    if (x1 <= x0 || y1 <= y0) return false;
    const s = fw + 1;
    return sat[y1 * s + x1]! - sat[y0 * s + x1]! - sat[y1 * s + x0]! + sat[y0 * s + x0]! > 0;
  };
}

/**
 * The binary threshold a run applies: the caller's, else the operating point the model was
 * validated at (`postprocess.threshold`), else 0.5. One rule for the pipeline and reports.
 */
export function thresholdFor(meta: Pick<ModelMeta, 'postprocess'>, asked?: number): number {
  return asked ?? meta.postprocess?.threshold ?? 0.5;
}

/**
 * The network's output on pre-processed `data` (`h × w`, the model's channels): tile by tile
 * for a tiled model, and with `tta` averaged with its output on the mirrored X-ray (flipped
 * back, FDI classes swapped right ↔ left when it has one channel per class).
 */
async function forwardWithTta(
  engine: InferenceEngine,
  meta: ModelMeta,
  data: Float32Array,
  h: number,
  w: number,
  tta: boolean,
  tilesKept?: TilesNear,
): Promise<Float32Array> {
  const c = meta.preprocess.channels;
  const tiling = meta.preprocess.tiling;
  const near = tiling && tilesKept ? tilesKept(h, w, tiling) : undefined;
  const forward = (x: Float32Array, n: number, mirrored = false): Promise<Float32Array> =>
    tiling
      ? slidingWindow(
          x,
          h,
          w,
          c,
          tiling,
          (b, m, th, tw) => engine.run(b, m, th, tw, c),
          undefined,
          near ? (t) => near(t, mirrored) : undefined,
        )
      : engine.run(x, n, h, w, c);
  if (!tta) return forward(data, 1);
  const averageWithMirror = (plain: Float32Array, mirrored: Float32Array): Float32Array => {
    const k = plain.length / (h * w);
    const map = k === meta.classes.length ? flipClassMapFor(meta.classes) : undefined;
    const back = flipHorizontal(mirrored, 1, h, w, k, map);
    const out = new Float32Array(plain.length);
    for (let i = 0; i < out.length; i++) out[i] = (plain[i]! + back[i]!) / 2;
    return out;
  };
  // The mirrored input: the X-ray mirrors, its coordinate channels (if any) do not.
  const mirrored = flipHorizontal(data, 1, h, w, c);
  if (meta.preprocess.coordinates === true) writeCoordinates(mirrored, 0, h, w);
  if (tiling) return averageWithMirror(await forward(data, 1), await forward(mirrored, 1, true));
  // Both in one batch of two.
  const both = new Float32Array(data.length * 2);
  both.set(data);
  both.set(mirrored, data.length);
  const out = await engine.run(both, 2, h, w, c);
  return averageWithMirror(out.subarray(0, out.length / 2), out.subarray(out.length / 2));
}

/** A tiled model's `postprocess.ttaScales` other than 1 (the pass every model makes). */
function otherScales(meta: ModelMeta): readonly number[] {
  if (!meta.preprocess.tiling) return [];
  return (meta.postprocess?.ttaScales ?? []).filter((s) => s !== 1);
}

/**
 * A tiled model's pre-processing at `scale` times its working width (`tiling.width`, else
 * the X-ray's own), kept within the widths a tiling allows.
 */
function scaledPreprocess(meta: ModelMeta, imageWidth: number, scale: number): PreprocessConfig {
  const tiling = meta.preprocess.tiling!;
  const base = tiling.width ?? imageWidth;
  const width = Math.min(TILE_WIDTH_MAX, Math.max(TILE_WIDTH_MIN, Math.round(base * scale)));
  return { ...meta.preprocess, tiling: { ...tiling, width } };
}

/**
 * Segment a decoded grey image with `engine`, replaying the pre-processing of `meta` — the
 * model's dentseg.json as `parseModelMeta` validated it. Tiled models (`preprocess.tiling`)
 * run by sliding window at the image's own resolution, or at `tiling.width` (resized there
 * first, probabilities resized back before thresholding); numbering models are arg-maxed
 * and numbered at the network's size, and only the class map is resized to the image.
 */
export async function runPipeline(
  engine: InferenceEngine,
  meta: ModelMeta,
  image: GreyImage,
  opts: PipelineOptions = {},
): Promise<PipelineResult> {
  const threshold = thresholdFor(meta, opts.threshold);
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new DentsegError('E_USAGE', `threshold must be in 0…1; received ${threshold}`);
  }
  const tta = opts.tta ?? meta.postprocess?.tta ?? false;
  let t = performance.now();
  const timings = {} as Record<PipelineStage, number>;
  const lap = (stage: PipelineStage): void => {
    const now = performance.now();
    timings[stage] = Math.round((now - t) * 10) / 10;
    t = now;
  };

  // prepare
  const { data, geometry, enhanced } = preprocessImage(image, meta.preprocess, opts.estimate);
  const [h, w] = [geometry.height, geometry.width];
  lap('preprocess');

  // run
  const kept = opts.focus && meta.preprocess.tiling ? tilesNear(opts.focus) : undefined;
  const probs = await forwardWithTta(engine, meta, data, h, w, tta, kept);
  const k = probs.length / (h * w);
  if (!Number.isInteger(k) || k < 1) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `the model output has ${probs.length} values for ${w}×${h}`,
    );
  }
  // A tiled model asking for more scales (`postprocess.ttaScales`): the same passes at each
  // other width, every map brought back to the X-ray's size and averaged with this one.
  const scales = tta ? otherScales(meta) : [];
  let scaledSum: Float32Array | undefined;
  for (const s of scales) {
    const cfg = scaledPreprocess(meta, image.width, s);
    const at = preprocessImage(image, cfg, opts.estimate);
    const out = await forwardWithTta(
      engine,
      meta,
      at.data,
      at.geometry.height,
      at.geometry.width,
      tta,
      kept,
    );
    const back = restoreToOriginal(out, k, at.geometry);
    if (scaledSum) for (let i = 0; i < back.length; i++) scaledSum[i]! += back[i]!;
    else scaledSum = back;
  }
  lap('forward');

  // post-process
  const numberingCfg = numberingConfig(meta, opts.numbering);
  let mask: Uint8Array;
  let probabilities: Float32Array | undefined;
  let numbering: NumberingResult | undefined;
  if (numberingCfg) {
    // Numbering models: arg-max and anatomy at the network's size, then only the class map
    // goes back to the X-ray's size (K probability channels at full size cost ~0.5 GB).
    const raw = probabilitiesToMask(probs, k, threshold);
    numbering = numberTeeth(raw, w, h, numberingCfg.scheme, {
      mode: numberingCfg.mode,
      minToothPx: numberingCfg.minToothPx,
      probabilities: probs,
    });
    lap('postprocess');
    // Borders between teeth where their probabilities cross, not in network-pixel steps.
    mask = restoreClassMapToOriginal(
      numbering.mask,
      probs,
      k,
      channelsOfLabels(numbering.mask, raw, k),
      geometry,
    );
    lap('restore');
  } else {
    probabilities = restoreToOriginal(probs, k, geometry);
    if (scaledSum) {
      const n = scales.length + 1;
      for (let i = 0; i < probabilities.length; i++)
        probabilities[i] = (probabilities[i]! + scaledSum[i]!) / n;
    }
    lap('restore');
    mask = probabilitiesToMask(probabilities, k, threshold);
    lap('postprocess');
  }
  // Withheld results are never looked at, so they are not worked out either.
  const look = opts.findings !== false && opts.withhold !== true;
  const findings = look
    ? findingsFor(mask, image.width, image.height, meta.task, meta.classes, {
        // The caller's value, else the model's own (lesions are far below the default).
        minAreaPx: findingsMinAreaPx(meta, image.width, image.height, opts.minAreaPx),
      })
    : [];
  // Numbering models: the teeth at the X-ray's size (outline polygons as findings have);
  // withheld, the lists stay present and empty, since nothing was looked for.
  const chart =
    numberingCfg && numbering && opts.findings !== false
      ? look
        ? describeTeeth(mask, image.width, image.height, numbering, numberingCfg.scheme)
        : { teeth: [], missing: [] }
      : undefined;
  lap('findings');
  let restored = probabilities;
  const restoredProbabilities = (): Float32Array =>
    (restored ??= restoreToOriginal(probs, k, geometry));
  let confidence: Float32Array | undefined;
  const netMask = numbering?.mask;
  return {
    image,
    width: image.width,
    height: image.height,
    classes: meta.classes,
    task: meta.task,
    mask,
    get probabilities(): Float32Array {
      return restoredProbabilities();
    },
    get confidence(): Float32Array {
      if (confidence) return confidence;
      if (netMask)
        return (confidence = restoreToOriginal(winnerOf(probs, k, netMask), 1, geometry));
      return (confidence =
        k === 1 ? restoredProbabilities() : winnerOf(restoredProbabilities(), k, mask));
    },
    k,
    ...(numbering ? { numbering } : {}),
    ...(numberingCfg ? { numberingConfig: numberingCfg } : {}),
    ...(enhanced !== undefined ? { enhanced } : {}),
    findings,
    ...(chart ? { teeth: chart.teeth, missing: chart.missing } : {}),
    threshold,
    tta,
    timings,
  };
}
