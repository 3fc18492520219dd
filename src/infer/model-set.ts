/**
 * The model set: one analysis runs several models on one decoded X-ray — one teeth model
 * (binary teeth, or a numbering model, which a binary teeth model may outline: ./outline.ts)
 * and any number of lesion models (binary, their class a finding type such as caries) — and
 * turns their masks into one list of findings, each lesion attached to the tooth it
 * overlaps most and to a surface of it. Defined once
 * here for `predict`, the server and the browser: platform-free (no Node, no DOM), typed
 * arrays in, plain data out. Node resolves the bundled folders in ./model-set.node.ts.
 *
 * API (kept stable for the server and the page):
 * - {@link BUNDLED_SET}, {@link bundledSetNames}: which bundled folders make the default set;
 * - {@link modelRole}, {@link setRoles}, {@link lesionTypeOf}, {@link checkModelSet}: what
 *   each model is for;
 * - {@link runModelSet}: input check once, then each model's `runPipeline` on the same image
 *   (./check-and-run.ts, which `segment` runs too), then the combination;
 * - {@link lesionFindings}, {@link toothOfRegion}, {@link toothAt}, {@link surfaceOf}: the
 *   attachment rule, usable on stored masks too;
 * - {@link SetFinding}, {@link ModelSetResult}, {@link SetModelInfo}: the result's shape.
 */
import { DentsegError } from '../errors.js';
import { binarise, labelComponents, type Components } from '../imaging/components.js';
import type { InputQuality } from '../imaging/panoramic.js';
import type { GreyImage } from '../imaging/types.js';
import type { ModelMeta } from '../model/meta.js';
import {
  describeTeeth,
  numberingConfig,
  numberingScheme,
  type Fdi,
  type NumberingScheme,
  type ToothReport,
} from '../numbering/index.js';
import { lesionFindings, lesionSummary, round3, type SetFinding, type TeethMap } from './attach.js';

// Which bundled folders make the default set lives in ./bundled-set.ts (free of imports, so
// the CLI's help text can name them without loading this file); it is part of this API.
export { BUNDLED_SET, BUNDLED_SET_TEXT, bundledSetNames } from './bundled-set.js';
import { checkAndRun } from './check-and-run.js';
import { gateFocus, lesionMaskRules, type TeethMask, type ToothGateReport } from './lesion-gate.js';
import { anyTooth, outlinedTeeth, outlineMirrored } from './outline.js';
import { findingsMinAreaPx, type PipelineResult } from './pipeline.js';
import { findingsFor } from '../imaging/findings.js';
import type { InferOptions, SetMember } from './types.js';

export type { SetMember } from './types.js';

/**
 * What a model does in a set: `teeth` (binary teeth or a numbering model; one per set),
 * `outline` (a binary teeth model next to a numbering model: it draws which pixels are
 * tooth, the numbering model says which tooth; see ./outline.ts) or `lesion` (binary;
 * `postprocess.lesion` in its dentseg.json names the finding type).
 */
export type ModelRole = 'teeth' | 'outline' | 'lesion';

/**
 * The role of a model from its dentseg.json alone: `lesion` when `postprocess.lesion` is
 * set, else `teeth` (whether a binary teeth model outlines depends on the set: {@link setRoles}).
 */
export function modelRole(meta: ModelMeta): ModelRole {
  return meta.postprocess?.lesion !== undefined ? 'lesion' : 'teeth';
}

/** Whether a model numbers teeth (multi-class with FDI classes). */
const numbers = (meta: ModelMeta): boolean => numberingConfig(meta) !== undefined;

/**
 * Each model's role within a set: as {@link modelRole}, except that a binary teeth model
 * next to a numbering model is its `outline`.
 */
export function setRoles(metas: readonly ModelMeta[]): ModelRole[] {
  const numbered = metas.some((m) => modelRole(m) === 'teeth' && numbers(m));
  return metas.map((m) => {
    const role = modelRole(m);
    return role === 'teeth' && numbered && m.task === 'binary' ? 'outline' : role;
  });
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
  if (metas.length === 0) {
    throw new DentsegError('E_USAGE', 'a model set needs at least one model', {
      hint: 'give --model DIR, or train the bundled teeth model',
    });
  }
  const teeth = metas.map((m, i) => (modelRole(m) === 'teeth' ? i : -1)).filter((i) => i >= 0);
  // Two teeth models make a pair only as a numbering model and the binary one outlining it.
  const pair =
    teeth.length === 2 &&
    teeth.filter((i) => numbers(metas[i]!)).length === 1 &&
    teeth.filter((i) => metas[i]!.task === 'binary').length === 1;
  if (teeth.length > 1 && !pair) {
    throw new DentsegError(
      'E_USAGE',
      `a model set takes at most one teeth model (or a numbering model and a binary teeth model that outlines it), but ${teeth.map(label).join(' and ')} all are teeth models`,
      {
        hint: 'give one teeth model (binary or numbering), optionally a binary teeth model beside a numbering one, and lesion models (postprocess.lesion in dentseg.json)',
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
        {
          hint: 'a lesion model has task "binary" with its one class in dentseg.json; a numbering model takes no postprocess.lesion',
        },
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
// The attachment rule (tooth, surface) lives in ./attach.ts; it is part of this API.
export {
  lesionFindings,
  lesionSummary,
  surfaceOf,
  toothAt,
  toothOfRegion,
  type LesionSummary,
  type SetFinding,
  type Surface,
  type TeethMap,
} from './attach.js';

/** What a set's result says about each model (`X.json`'s and the API's `models`). */
export interface SetModelInfo {
  readonly name: string;
  readonly version: string;
  readonly task: 'binary' | 'multiclass';
  readonly engine: string;
  readonly role: ModelRole;
  /** Lesion models: the finding type. */
  readonly type?: string;
  /** Lesion models asking for a tooth gate (`postprocess.toothGate`): what it did. */
  readonly toothGate?: ToothGateReport;
  /** Models that enhance their input: the steps applied (`none`, `deblur:5`, …). */
  readonly enhanced?: string;
}

/** Options of {@link runModelSet}: those of every analysis (threshold, TTA, input check, …). */
export type ModelSetOptions = InferOptions;

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
  /** Lesion models asking for a tooth gate: what it did (`result.mask` is the gated mask). */
  readonly toothGate?: ToothGateReport;
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
 * A numbering model's run with its teeth redrawn within the outline model's mask
 * (./outline.ts): the class map, then — as its pipeline would have — the findings, present
 * teeth and missing numbers on that map (empty lists when withheld, none when findings are
 * off).
 */
function outlinedRun(
  run: SetRun,
  outline: SetRun,
  findingsOn: boolean,
  withheld: boolean,
): { run: SetRun; gate: Uint8Array } {
  const r = run.result;
  const cfg = r.numberingConfig;
  const numbering = r.numbering;
  if (!cfg || !numbering) return { run, gate: r.mask };
  const { width, height } = r;
  const { mask, gate } = outlinedTeeth(run.meta, cfg, r.mask, outline.result.mask, width, height);
  const look = findingsOn && !withheld;
  const findings = look
    ? findingsFor(mask, width, height, run.meta.task, run.meta.classes, {
        minAreaPx: run.minAreaPx,
      })
    : [];
  const chart = look
    ? describeTeeth(mask, width, height, numbering, cfg.scheme)
    : { teeth: [], missing: [] };
  // The pipeline's result keeps its getters (probabilities, confidence): spread would read
  // them, so the outlined result delegates to it instead.
  const result: PipelineResult = Object.create(r, {
    mask: { value: mask, enumerable: true },
    findings: { value: findings, enumerable: true },
    ...(findingsOn ? { teeth: { value: chart.teeth, enumerable: true } } : {}),
    ...(findingsOn ? { missing: { value: chart.missing, enumerable: true } } : {}),
  }) as PipelineResult;
  return { run: { ...run, result }, gate };
}

/**
 * The teeth a lesion model's gate will read, as far as they are known before it runs: every
 * pixel the set's teeth model or its outline (when they ran before it, as in the bundled set)
 * calls tooth — the same pixels as the outlined gate's, since the outlined map lies within
 * the outline. Undefined for other roles, or before the teeth are known.
 */
function teethBefore(
  role: ModelRole,
  roles: readonly ModelRole[],
  earlier: readonly PipelineResult[],
): TeethMask | undefined {
  if (role !== 'lesion') return undefined;
  const teeth = earlier[roles.indexOf('teeth')];
  if (!teeth) return undefined;
  const outline = earlier[roles.indexOf('outline')];
  const mask = outline ? anyTooth(teeth.mask, outline.mask) : teeth.mask;
  return { mask, width: teeth.width, height: teeth.height };
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
  const findingsOn = opts.findings !== false;
  const roles = setRoles(members.map((m) => m.meta));
  const outlineAt = roles.indexOf('outline');
  const numbering = members[roles.indexOf('teeth')]?.meta;
  // Lesion regions are described below, with their tooth; the teeth model's by its pipeline,
  // unless an outline redraws its teeth (then below, on the outlined map). checkAndRun
  // applies the caller's own `tta` before asking `mirrored`.
  const checked = await checkAndRun(
    members,
    image,
    opts,
    (_meta, i) => roles[i] === 'teeth' && outlineAt < 0,
    (_meta, i) => (roles[i] === 'outline' ? outlineMirrored(numbering) : undefined),
    (meta, i, earlier) => gateFocus(meta, teethBefore(roles[i]!, roles, earlier)) ?? opts.focus,
  );
  const { quality, withheld } = checked;
  const timings: Record<string, number> = { quality: checked.qualityMs };
  const runs: SetRun[] = members.map((m, i) => {
    const type = lesionTypeOf(m.meta);
    timings[m.meta.name] = checked.modelMs[i]!;
    return {
      meta: m.meta,
      engine: m.engine.name,
      role: roles[i]!,
      ...(type !== undefined ? { type } : {}),
      result: checked.results[i]!,
      minAreaPx: findingsMinAreaPx(m.meta, image.width, image.height, opts.minAreaPx),
    };
  });
  const t = performance.now();

  const teethAt = roles.indexOf('teeth');
  // What the gate calls tooth: with an outline, every pixel either model calls tooth.
  let gateTeeth = teethAt >= 0 ? runs[teethAt]!.result.mask : undefined;
  if (teethAt >= 0 && outlineAt >= 0) {
    const outlined = outlinedRun(runs[teethAt]!, runs[outlineAt]!, findingsOn, withheld);
    runs[teethAt] = outlined.run;
    gateTeeth = outlined.gate;
  }
  const teethRun = runs.find((r) => r.role === 'teeth');
  const { width, height } = image;
  // A lesion model's specks and the tooth gate (./lesion-gate.ts) before any lesion region
  // becomes a finding: what they drop leaves the run's mask too, so that X.<type>.png,
  // findings and counts agree. The labelling of the mask left goes on to the findings,
  // which so do not label it again.
  const teethMask = gateTeeth ? { mask: gateTeeth, width, height } : undefined;
  const gateLabels = new Map<SetRun, Components>();
  runs.forEach((run, i) => {
    if (run.role !== 'lesion') return;
    const g = lesionMaskRules(run.meta, run.result.mask, width, height, run.minAreaPx, teethMask);
    const ruled = {
      ...run,
      result: { ...run.result, mask: g.mask },
      ...(g.report ? { toothGate: g.report } : {}),
    };
    runs[i] = ruled;
    gateLabels.set(ruled, g.components);
  });
  const lesionRuns = runs.filter((r) => r.role === 'lesion');
  let teethUnion: Uint8Array | undefined;
  let teethMap: TeethMap | undefined;
  const scheme = teethRun ? numberingScheme(teethRun.result.classes) : undefined;
  if (teethRun) {
    const m = teethRun.result.mask;
    teethUnion = binarise(m);
    if (scheme) {
      const boxes = new Map((teethRun.result.teeth ?? []).map((t) => [t.fdi, t.bbox] as const));
      teethMap = { mask: m, width, height, scheme, boxes };
    }
  }
  const findings: SetFinding[] = [];
  const lesionFound: SetFinding[] = [];
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
        gateLabels.get(run),
      );
      findings.push(...found);
      lesionFound.push(...found);
    }
  }
  // Withheld or not looked for: every lesion type that ran counts 0.
  const lesions = lesionSummary(
    lesionRuns.map((r) => r.type!),
    lesionFound,
  );
  findings.forEach((f, i) => {
    (f as { id: string }).id = `f${i + 1}`;
  });
  timings.combine = Math.round((performance.now() - t) * 10) / 10;
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
      ...(r.toothGate ? { toothGate: r.toothGate } : {}),
      ...(r.result.enhanced !== undefined ? { enhanced: r.result.enhanced } : {}),
    })),
    ...(quality ? { quality } : {}),
    withheld,
    timings,
  };
}
