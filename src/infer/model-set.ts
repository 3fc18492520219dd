/**
 * The model set: one analysis runs several models on one decoded X-ray — at most one teeth
 * model (binary teeth, or a numbering model) and any number of lesion models (binary, their
 * class a finding type such as caries) — and turns their masks into one list of findings,
 * each lesion attached to the tooth it overlaps most and to a surface of it. Defined once
 * here for `predict`, the server and the browser: platform-free (no Node, no DOM), typed
 * arrays in, plain data out. Node resolves the bundled folders in ./model-set.node.ts.
 *
 * API (kept stable for the server and the page):
 * - {@link BUNDLED_SET}, {@link bundledSetNames}: which bundled folders make the default set;
 * - {@link modelRole}, {@link lesionTypeOf}, {@link checkModelSet}: what each model is for;
 * - {@link runModelSet}: input check once, then each model's `runPipeline` on the same image;
 * - {@link lesionFindings}, {@link toothOfRegion}, {@link toothAt}, {@link surfaceOf}: the
 *   attachment rule, usable on stored masks too;
 * - {@link SetFinding}, {@link ModelSetResult}, {@link SetModelInfo}: the result's shape.
 */
import { DentsegError } from '../errors.js';
import { labelComponents } from '../imaging/components.js';
import { defaultMinArea, findRegions, type Finding } from '../imaging/findings.js';
import { checkInput, type InputQuality } from '../imaging/panoramic.js';
import type { GreyImage } from '../imaging/types.js';
import type { ModelMeta, NumberingMode } from '../model/meta.js';
import {
  isRight,
  isUpper,
  numberingScheme,
  type Fdi,
  type NumberingScheme,
  type ToothReport,
} from '../numbering/index.js';
import { runPipeline, type PipelineResult } from './pipeline.js';
import type { InferenceEngine } from './types.js';

/**
 * The bundled default set, by folder name under the package's `models/`: the first teeth
 * model present (the numbering model before the binary one), plus every lesion model
 * present. `evaluate` and `export` do not use it: they keep `teeth-binary` as default.
 */
export const BUNDLED_SET = Object.freeze({
  teeth: Object.freeze(['teeth-fdi', 'teeth-binary'] as const),
  lesions: Object.freeze(['caries'] as const),
});

/**
 * The folder names of the bundled default set, given which folders exist (`has(name)`):
 * e.g. `['teeth-fdi', 'caries']`, or `['teeth-binary']` before the others exist. Empty
 * when none does.
 */
export function bundledSetNames(has: (name: string) => boolean): string[] {
  const teeth = BUNDLED_SET.teeth.find((n) => has(n));
  return [...(teeth !== undefined ? [teeth] : []), ...BUNDLED_SET.lesions.filter((n) => has(n))];
}

/**
 * What a model does in a set: `teeth` (binary teeth or a numbering model; at most one per
 * set) or `lesion` (binary; `postprocess.lesion` in its dentseg.json names the finding type).
 */
export type ModelRole = 'teeth' | 'lesion';

/** The role of a model from its dentseg.json: `lesion` when `postprocess.lesion` is set. */
export function modelRole(meta: ModelMeta): ModelRole {
  return meta.postprocess?.lesion !== undefined ? 'lesion' : 'teeth';
}

/** A lesion model's finding type (`postprocess.lesion`, e.g. `"caries"`); undefined otherwise. */
export function lesionTypeOf(meta: ModelMeta): string | undefined {
  return meta.postprocess?.lesion;
}

/**
 * Check that models make a set: at least one; at most one teeth model; lesion models
 * binary, each finding type once (its mask is written as `X.<type>.png`). `names` label
 * the models in the refusal (their folders; default their dentseg.json names).
 * Throws E_USAGE.
 */
export function checkModelSet(metas: readonly ModelMeta[], names?: readonly string[]): void {
  const label = (i: number): string => names?.[i] ?? metas[i]!.name;
  if (metas.length === 0) throw new DentsegError('E_USAGE', 'a model set needs at least one model');
  const teeth = metas.map((m, i) => (modelRole(m) === 'teeth' ? i : -1)).filter((i) => i >= 0);
  if (teeth.length > 1) {
    throw new DentsegError(
      'E_USAGE',
      `a model set takes at most one teeth model, but ${teeth.map(label).join(' and ')} both are`,
      {
        hint: 'give one teeth model (binary or numbering) and lesion models (postprocess.lesion in dentseg.json)',
      },
    );
  }
  const types = new Map<string, number>();
  metas.forEach((m, i) => {
    const type = lesionTypeOf(m);
    if (type === undefined) return;
    if (m.task !== 'binary') {
      throw new DentsegError(
        'E_USAGE',
        `lesion model ${label(i)} (${type}) must be binary, but it is ${m.task}`,
      );
    }
    const other = types.get(type);
    if (other !== undefined) {
      throw new DentsegError(
        'E_USAGE',
        `two lesion models find ${type}: ${label(other)} and ${label(i)}`,
        { hint: 'give one model per finding type' },
      );
    }
    types.set(type, i);
  });
}

/** A tooth surface a lesion sits on, from its position within the tooth. */
export type Surface = 'mesial' | 'distal' | 'occlusal';

/**
 * One finding of a set: a region of a model's mask with today's fields (class, classIndex,
 * areaPx, areaPct, bbox, centroid, polygon) and what a dentist reads it by.
 */
export interface SetFinding extends Finding {
  /** Stable id within the analysis: `f1`, `f2`, … in the set's order (teeth model first). */
  readonly id: string;
  /** Finding type: a lesion model's `postprocess.lesion` (e.g. `"caries"`), else the class. */
  readonly type: string;
  /**
   * FDI number of the tooth the region overlaps most (most pixels of one number), or null
   * without a numbering model or without overlap.
   */
  readonly tooth: Fdi | null;
  /** Lesions: the surface of `tooth` it sits on, or null when not decidable (or no tooth). */
  readonly surface: Surface | null;
  /** Mean probability of the region's class over its pixels, 0…1 (3 decimals). */
  readonly score: number;
  /** Name of the model that found it (dentseg.json `name`). */
  readonly model: string;
}

/** What a set's result says about each model (`X.json`'s and the API's `models`). */
export interface SetModelInfo {
  readonly name: string;
  readonly version: string;
  readonly task: 'binary' | 'multiclass';
  readonly engine: string;
  readonly role: ModelRole;
  /** Lesion models: the finding type. */
  readonly type?: string;
}

/** One model of a set ready to run: its validated dentseg.json and an engine. */
export interface SetMember {
  readonly meta: ModelMeta;
  readonly engine: InferenceEngine;
}

/** Options of {@link runModelSet}. */
export interface ModelSetOptions {
  /** Binary models (teeth and lesions): foreground at or above this probability (default 0.5). */
  readonly threshold?: number;
  readonly tta?: boolean;
  /** Compute findings and teeth (default true). */
  readonly findings?: boolean;
  /** Smallest region of every model's findings, px (default: each model's own rule). */
  readonly minAreaPx?: number;
  /** The numbering model's anatomical steps (default: its own). */
  readonly numbering?: NumberingMode;
  /** Run the input check (default: whenever findings are computed). */
  readonly quality?: boolean;
  /** Empty findings, teeth and missing when the check says it is not a panoramic. */
  readonly withholdIfNotPanoramic?: boolean;
}

/** One model's run within a set. */
export interface SetRun {
  readonly meta: ModelMeta;
  readonly engine: string;
  readonly role: ModelRole;
  /** Lesion models: the finding type. */
  readonly type?: string;
  /** The pipeline's result (its own findings are the teeth model's; lesion models' are empty). */
  readonly result: PipelineResult;
  /** Smallest region kept for this model's findings, px. */
  readonly minAreaPx: number;
}

/** What {@link runModelSet} returns: every model's result apart, and their combination. */
export interface ModelSetResult {
  readonly image: GreyImage;
  readonly width: number;
  readonly height: number;
  /** Every model's run, in the set's order. */
  readonly runs: readonly SetRun[];
  /** The teeth model's run, when the set has one. */
  readonly teethRun?: SetRun;
  /** The lesion models' runs, in the set's order. */
  readonly lesionRuns: readonly SetRun[];
  /** `width*height` 0/1: every tooth as one class (undefined without a teeth model). */
  readonly teethUnion?: Uint8Array;
  /** The numbering model's scheme, when the teeth model numbers teeth. */
  readonly scheme?: NumberingScheme;
  /** The teeth model's findings, then every lesion region, with ids `f1`, `f2`, … */
  readonly findings: SetFinding[];
  /** Numbering model: present teeth and missing numbers (empty when withheld). */
  readonly teeth?: readonly ToothReport[];
  readonly missing?: readonly Fdi[];
  /** Per lesion type: regions and the teeth they sit on (ascending, unique). */
  readonly lesions: Readonly<Record<string, { readonly count: number; readonly teeth: Fdi[] }>>;
  readonly models: readonly SetModelInfo[];
  readonly quality?: InputQuality;
  readonly withheld: boolean;
  /** ms: `quality`, then one entry per model name (its whole pipeline), and `combine`. */
  readonly timings: Readonly<Record<string, number>>;
}

/** Where teeth are, to attach lesions to: the numbering model's class map at image size. */
export interface TeethMap {
  /** `width*height` class indices of the numbering model. */
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly scheme: NumberingScheme;
  /**
   * Each tooth's box `[x, y, w, h]` (e.g. from `ToothReport.bbox`), when known: the surface
   * rule then scans only there instead of the whole image.
   */
  readonly boxes?: ReadonlyMap<Fdi, readonly [number, number, number, number]>;
}

/** The most frequent tooth among class-index counts `hist` (index = class), or null. */
function mostOverlapped(hist: ArrayLike<number>, scheme: NumberingScheme): Fdi | null {
  let best = 0;
  let bestN = 0;
  for (let c = 1; c < hist.length; c++) {
    const n = hist[c]!;
    if (n > bestN && scheme.fdiOfClass[c] !== undefined) {
      bestN = n;
      best = c;
    }
  }
  return bestN > 0 ? (scheme.fdiOfClass[best] ?? null) : null;
}

/**
 * The tooth a region overlaps most: the FDI number holding most of `pixels` (indices into
 * `teeth.mask`), ties to the lower class index; null when none lies on a tooth. The one rule
 * for attaching anything to a tooth ({@link toothAt} is it for a single point).
 */
export function toothOfRegion(pixels: Iterable<number>, teeth: TeethMap): Fdi | null {
  const hist = new Uint32Array(256);
  for (const i of pixels) hist[teeth.mask[i] ?? 0]!++;
  return mostOverlapped(hist, teeth.scheme);
}

/**
 * The FDI number (11–48) of the numbered tooth under `centroid` (image pixels, clamped to
 * the image) in a class-index `mask`, or null when the pixel is background or the classes
 * are not FDI numbers — {@link toothOfRegion} for a one-pixel region.
 */
export function toothAt(
  centroid: readonly [number, number],
  mask: Uint8Array,
  width: number,
  height: number,
  classes: readonly string[],
): Fdi | null {
  const scheme = numberingScheme(classes);
  if (scheme === undefined) return null;
  const x = Math.min(width - 1, Math.max(0, Math.round(centroid[0])));
  const y = Math.min(height - 1, Math.max(0, Math.round(centroid[1])));
  return toothOfRegion([y * width + x], { mask, width, height, scheme });
}

/**
 * Share of a tooth's width at either side that counts as its mesial or distal surface, and
 * share of its height at the crown end that counts as occlusal (between: not decidable).
 */
const SIDE_SHARE = 0.3;
const CROWN_SHARE = 0.5;

/**
 * The surface of tooth `fdi` that a lesion with centroid `centroid` and box `bbox` sits on:
 * `mesial` or `distal` when it lies in the outer 30 % of the tooth's width in the lesion's
 * rows (mesial towards the midline: a panoramic shows the patient's right on the image's
 * left), else `occlusal` when it lies in the crown half (upper teeth point down, lower teeth
 * up), else null. Null when the tooth has no pixels.
 */
export function surfaceOf(
  fdi: Fdi,
  centroid: readonly [number, number],
  bbox: readonly [number, number, number, number],
  teeth: TeethMap,
): Surface | null {
  const c = teeth.scheme.classOfFdi.get(fdi);
  if (c === undefined) return null;
  const { mask, width, height } = teeth;
  // The tooth's height over all of it, its width within the lesion's rows (teeth tilt).
  const box = teeth.boxes?.get(fdi) ?? [0, 0, width, height];
  const [bx0, by0] = [Math.max(0, box[0]), Math.max(0, box[1])];
  const [bx1, by1] = [Math.min(width, box[0] + box[2]), Math.min(height, box[1] + box[3])];
  let y0 = height;
  let y1 = -1;
  let x0 = width;
  let x1 = -1;
  const r0 = bbox[1];
  const r1 = bbox[1] + bbox[3] - 1;
  for (let y = by0; y < by1; y++) {
    const o = y * width;
    const inRows = y >= r0 && y <= r1;
    for (let x = bx0; x < bx1; x++) {
      if (mask[o + x] !== c) continue;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (inRows) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  if (y1 < 0) return null;
  const [cx, cy] = centroid;
  if (x1 > x0) {
    const u = (cx - x0) / (x1 - x0);
    const towardMidline = isRight(fdi) ? u : 1 - u; // 1 at the mesial edge
    if (towardMidline >= 1 - SIDE_SHARE) return 'mesial';
    if (towardMidline <= SIDE_SHARE) return 'distal';
  }
  const v = y1 > y0 ? (cy - y0) / (y1 - y0) : 0.5;
  const towardCrown = isUpper(fdi) ? v : 1 - v; // 1 at the occlusal end
  return towardCrown >= CROWN_SHARE ? 'occlusal' : null;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * The findings of one lesion model: each 8-connected region of its binary `mask` (0/1) of
 * at least `minAreaPx`, with today's fields, `type`, the tooth it overlaps most and its
 * surface (when `teeth` is given), and `score` (mean of `probabilities`, one per pixel,
 * over it). Ids are left to the caller (`''` here).
 */
export function lesionFindings(
  mask: Uint8Array,
  probabilities: ArrayLike<number>,
  width: number,
  height: number,
  type: string,
  model: string,
  minAreaPx: number,
  teeth?: TeethMap,
): SetFinding[] {
  const regions = findRegions(mask, width, height, () => type, { minAreaPx });
  if (regions.length === 0) return [];
  // The same labelling findRegions made (raster order, same areas): per kept region the
  // probability sum and how many of its pixels lie on each class of the teeth map.
  const comp = labelComponents(mask, width, height);
  const slot = new Int32Array(comp.count).fill(-1);
  let kept = 0;
  for (let i = 0; i < comp.count; i++) if (comp.area[i]! >= minAreaPx) slot[i] = kept++;
  if (kept !== regions.length) {
    throw new DentsegError(
      'E_INTERNAL',
      `lesion regions: ${kept} labelled, ${regions.length} described`,
    );
  }
  const probSum = new Float64Array(kept);
  const hist = teeth ? new Uint32Array(kept * 256) : undefined;
  const labels = comp.labels;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l === 0) continue;
    const s = slot[l - 1]!;
    if (s < 0) continue;
    probSum[s]! += probabilities[i]!;
    if (hist && teeth) hist[s * 256 + teeth.mask[i]!]!++;
  }
  return regions.map((r, s) => {
    const tooth =
      hist && teeth ? mostOverlapped(hist.subarray(s * 256, s * 256 + 256), teeth.scheme) : null;
    return {
      ...r,
      id: '',
      type,
      tooth,
      surface: tooth !== null && teeth ? surfaceOf(tooth, r.centroid, r.bbox, teeth) : null,
      score: round3(probSum[s]! / r.areaPx),
      model,
    };
  });
}

/** The teeth model's own findings with the set's fields (its class is the type). */
function teethFindings(run: SetRun, teeth: TeethMap | undefined): SetFinding[] {
  const r = run.result;
  const toothScore = new Map((r.teeth ?? []).map((t) => [t.fdi, t.score] as const));
  const binary = r.task === 'binary';
  // Binary teeth: the mean probability over each region (one channel, restored already).
  let regionProb: Float64Array | undefined;
  let comp: ReturnType<typeof labelComponents> | undefined;
  if (binary && r.findings.length > 0) {
    comp = labelComponents(r.mask, r.width, r.height);
    regionProb = new Float64Array(comp.count);
    const p = r.probabilities;
    for (let i = 0; i < comp.labels.length; i++) {
      const l = comp.labels[i]!;
      if (l > 0) regionProb[l - 1]! += p[i]!;
    }
  }
  return r.findings.map((f) => {
    const fdi = teeth ? (teeth.scheme.fdiOfClass[f.classIndex] ?? null) : null;
    let score = fdi !== null ? (toothScore.get(fdi) ?? 0) : 0;
    if (comp && regionProb) {
      // The labelled region with the finding's box corner and area (findRegions' own).
      for (let i = 0; i < comp.count; i++) {
        if (comp.minX[i] === f.bbox[0] && comp.minY[i] === f.bbox[1] && comp.area[i] === f.areaPx) {
          score = regionProb[i]! / f.areaPx;
          break;
        }
      }
    }
    return {
      ...f,
      id: '',
      type: f.class,
      tooth: fdi,
      surface: null,
      score: round3(score),
      model: run.meta.name,
    };
  });
}

/**
 * Run a model set on one decoded image: the input check once (before any model), then each
 * model's `runPipeline` on the same image, in the set's order; then the combination — the
 * teeth union, the teeth model's findings and every lesion region attached to its tooth.
 * Models run one after the other (an engine computes with all threads already).
 */
export async function runModelSet(
  members: readonly SetMember[],
  image: GreyImage,
  opts: ModelSetOptions = {},
): Promise<ModelSetResult> {
  checkModelSet(members.map((m) => m.meta));
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (key: string): void => {
    const now = performance.now();
    timings[key] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  const findingsOn = opts.findings !== false;
  const quality = (opts.quality ?? findingsOn) ? checkInput(image) : undefined;
  const withheld =
    quality !== undefined && !quality.panoramic && opts.withholdIfNotPanoramic === true;
  lap('quality');

  const runs: SetRun[] = [];
  for (const m of members) {
    const role = modelRole(m.meta);
    const result = await runPipeline(m.engine, m.meta, image, {
      ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
      ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
      ...(opts.minAreaPx !== undefined ? { minAreaPx: opts.minAreaPx } : {}),
      ...(opts.numbering !== undefined ? { numbering: opts.numbering } : {}),
      // Lesion regions are described below, with their tooth.
      findings: findingsOn && role === 'teeth',
    });
    const type = lesionTypeOf(m.meta);
    runs.push({
      meta: m.meta,
      engine: m.engine.name,
      role,
      ...(type !== undefined ? { type } : {}),
      result,
      minAreaPx:
        opts.minAreaPx ??
        m.meta.postprocess?.minAreaPx ??
        defaultMinArea(image.width, image.height),
    });
    lap(m.meta.name);
  }

  const teethRun = runs.find((r) => r.role === 'teeth');
  const lesionRuns = runs.filter((r) => r.role === 'lesion');
  const { width, height } = image;
  let teethUnion: Uint8Array | undefined;
  let teethMap: TeethMap | undefined;
  const scheme = teethRun ? numberingScheme(teethRun.result.classes) : undefined;
  if (teethRun) {
    const m = teethRun.result.mask;
    teethUnion = new Uint8Array(m.length);
    for (let i = 0; i < m.length; i++) teethUnion[i] = m[i] !== 0 ? 1 : 0;
    if (scheme) {
      const boxes = new Map((teethRun.result.teeth ?? []).map((t) => [t.fdi, t.bbox] as const));
      teethMap = { mask: m, width, height, scheme, boxes };
    }
  }
  const findings: SetFinding[] = [];
  const lesions: Record<string, { count: number; teeth: Fdi[] }> = {};
  if (findingsOn && !withheld) {
    if (teethRun) findings.push(...teethFindings(teethRun, teethMap));
    for (const run of lesionRuns) {
      const type = run.type!;
      const found = lesionFindings(
        run.result.mask,
        run.result.probabilities,
        width,
        height,
        type,
        run.meta.name,
        run.minAreaPx,
        teethMap,
      );
      findings.push(...found);
      const teethHit = [...new Set(found.map((f) => f.tooth).filter((f): f is Fdi => f !== null))];
      lesions[type] = { count: found.length, teeth: teethHit.sort((a, b) => a - b) };
    }
  } else {
    for (const run of lesionRuns) lesions[run.type!] = { count: 0, teeth: [] };
  }
  findings.forEach((f, i) => {
    (f as { id: string }).id = `f${i + 1}`;
  });
  lap('combine');
  const tr = teethRun?.result;
  return {
    image,
    width,
    height,
    runs,
    ...(teethRun ? { teethRun } : {}),
    lesionRuns,
    ...(teethUnion ? { teethUnion } : {}),
    ...(scheme ? { scheme } : {}),
    findings,
    ...(tr?.teeth && tr.missing
      ? { teeth: withheld ? [] : tr.teeth, missing: withheld ? [] : tr.missing }
      : {}),
    lesions,
    models: runs.map((r) => ({
      name: r.meta.name,
      version: r.meta.version,
      task: r.meta.task,
      engine: r.engine,
      role: r.role,
      ...(r.type !== undefined ? { type: r.type } : {}),
    })),
    ...(quality ? { quality } : {}),
    withheld,
    timings,
  };
}
