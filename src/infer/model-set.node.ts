/**
 * The model set in Node: which bundled folders make the default set (the rule itself is
 * platform-free, in ./model-set.ts), loading the set's folders, and `segmentSet` — decode
 * once, run the set, and draw its pictures (teeth union, class map, lesion masks, overlay,
 * chart, findings).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeInput } from '../imaging/input.node.js';
import type { DicomInfo } from '../imaging/types.js';
import { DentsegError } from '../errors.js';
import { bundledOutlineName, bundledTeethName } from './bundled-set.js';
import { loadModel, PACKAGE_ROOT, type LoadModelOptions } from './load.js';
import {
  bundledSetNames,
  checkModelSet,
  runModelSet,
  type ModelSetOptions,
  type ModelSetResult,
} from './model-set.js';
import { maskPng, renderOverlay } from './overlay.js';
import type { LoadedModel } from './types.js';

/** Where the bundled model folders live: the package's `models/`. */
export const BUNDLED_MODELS_DIR = path.join(PACKAGE_ROOT, 'models');

/**
 * The folders of the bundled default set (absolute): `models/teeth-fdi` when present, else
 * `models/teeth-binary`, plus `models/caries` when present. E_MODEL_INVALID when none is.
 */
export function defaultModelSetDirs(root: string = BUNDLED_MODELS_DIR): string[] {
  const names = bundledSetNames((n) => existsSync(path.join(root, n, 'dentseg.json')));
  if (names.length === 0) {
    throw new DentsegError('E_MODEL_INVALID', 'the bundled default models are missing', {
      file: root,
      hint: 'pass --model DIR with a folder written by `dentseg train`',
    });
  }
  return names.map((n) => path.join(root, n));
}

/**
 * The folder of the bundled set's teeth model (absolute): `models/teeth-fdi` when present,
 * else `models/teeth-binary` — the one `predict` runs. E_MODEL_INVALID when neither is.
 */
export function defaultTeethModelDir(root: string = BUNDLED_MODELS_DIR): string {
  const name = bundledTeethName((n) => existsSync(path.join(root, n, 'dentseg.json')));
  if (name === undefined) {
    throw new DentsegError('E_MODEL_INVALID', 'the bundled teeth model is missing', {
      file: root,
      hint: 'pass --teeth-model DIR with a teeth model folder, or --teeth-model none to score ungated',
    });
  }
  return path.join(root, name);
}

/**
 * The folder of the bundled set's outline (absolute): `models/teeth-binary` when the bundled
 * teeth model is the numbering one and both are present, else undefined.
 */
export function defaultOutlineModelDir(root: string = BUNDLED_MODELS_DIR): string | undefined {
  const name = bundledOutlineName((n) => existsSync(path.join(root, n, 'dentseg.json')));
  return name === undefined ? undefined : path.join(root, name);
}

/** Loaded models of a set, in the set's order. */
export interface LoadedModelSet {
  readonly models: readonly LoadedModel[];
  /** Dispose every model's engine. */
  dispose(): void;
}

/**
 * Load the models of a set (default: the bundled set), each once, and check that they make
 * a set (at most one teeth model; see `checkModelSet`). A failure disposes what was loaded.
 */
export async function loadModelSet(
  dirs?: readonly string[],
  opts: LoadModelOptions = {},
): Promise<LoadedModelSet> {
  const folders = dirs && dirs.length > 0 ? dirs : defaultModelSetDirs();
  const models: LoadedModel[] = [];
  try {
    for (const dir of folders) models.push(await loadModel(dir, opts));
    checkModelSet(
      models.map((m) => m.meta),
      folders,
    );
  } catch (err) {
    for (const m of models) m.dispose();
    throw err;
  }
  return { models, dispose: () => models.forEach((m) => m.dispose()) };
}

/** Options of {@link segmentSet}. */
export interface SegmentSetOptions extends ModelSetOptions {
  /** A name for error messages when `input` is a Buffer. */
  readonly name?: string;
}

/** What {@link segmentSet} returns: the set's plain data, and its pictures on demand. */
export interface SetSegmentResult extends ModelSetResult {
  /** ms of the whole call. */
  readonly elapsedMs: number;
  readonly bitDepth: 8 | 16;
  readonly dicom?: DicomInfo;
  /** `X.mask.png`: every tooth as one class, 0/255 (undefined without a teeth model). */
  maskPng?(): Promise<Buffer>;
  /** `X.teeth.png`: the numbering model's class indices (undefined without one). */
  teethPng?(): Promise<Buffer>;
  /** `X.<type>.png` per lesion type: 0/255. */
  lesionPngs(): Promise<Record<string, Buffer>>;
  /** `X.overlay.png`: the teeth model's overlay (else the first lesion model's). */
  overlay(): Promise<Buffer>;
  /** `X.chart.png`: the numbered chart (undefined without a numbering model). */
  chart?(): Promise<Buffer>;
  /** `X.findings.png`: the lesions over the numbered chart (else over the overlay). */
  findingsImage(chartPng?: Buffer, overlayPng?: Buffer): Promise<Buffer>;
}

/**
 * Segment one X-ray with a set: decode once, check the input once, run every model on the
 * same image (./model-set.ts), and offer the set's pictures.
 */
export async function segmentSet(
  set: LoadedModelSet,
  input: string | Buffer,
  opts: SegmentSetOptions = {},
): Promise<SetSegmentResult> {
  const t0 = performance.now();
  const { image, dicom } = await decodeInput(input, opts.name);
  const decode = Math.round((performance.now() - t0) * 10) / 10;
  const r = await runModelSet(set.models, image, opts);
  const { width, height } = r;
  const teethRun = r.teethRun;
  const scheme = r.scheme;
  const first = teethRun ?? r.runs[0]!;
  const legend = first.result.task === 'multiclass' ? first.result.classes : null;
  const union = r.teethUnion;
  const teeth = r.teeth;
  const missing = r.missing;
  const chart =
    scheme && teethRun && teeth && missing
      ? async (): Promise<Buffer> =>
          (await import('./chart.js')).renderChart(
            image,
            teethRun.result.mask,
            scheme,
            teeth,
            missing,
          )
      : undefined;
  const overlay = (): Promise<Buffer> => renderOverlay(image, first.result.mask, legend);
  return {
    ...r,
    timings: { decode, ...r.timings },
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
    bitDepth: image.bitDepth,
    ...(dicom ? { dicom } : {}),
    ...(union ? { maskPng: () => maskPng(union, width, height, true) } : {}),
    ...(scheme && teethRun
      ? { teethPng: () => maskPng(teethRun.result.mask, width, height, false) }
      : {}),
    lesionPngs: async () =>
      Object.fromEntries(
        await Promise.all(
          r.lesionRuns.map(
            async (l) => [l.type!, await maskPng(l.result.mask, width, height, true)] as const,
          ),
        ),
      ),
    overlay,
    ...(chart ? { chart } : {}),
    findingsImage: async (chartPng, overlayPng) => {
      const base = chartPng ?? (chart ? await chart() : (overlayPng ?? (await overlay())));
      const { renderFindings } = await import('./findings-image.js');
      return renderFindings(
        base,
        width,
        height,
        r.findings.filter((f) => r.lesionRuns.some((l) => l.meta.name === f.model)),
      );
    },
  };
}
