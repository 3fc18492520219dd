/**
 * The orchestration every analysis shares, written once: check the input, run each model's
 * pipeline (./pipeline.ts) on the same image, and withhold what a non-panoramic input must
 * not give. One model (`segment`, the page's private mode) is a list of one; a set
 * (`runModelSet`) adds its combination on top. Platform-free, like the pipeline, so that the
 * browser and Node read the options and apply the withholding rule the same way.
 */
import { inspectInput, type InputQuality } from '../imaging/panoramic.js';
import type { GreyImage } from '../imaging/types.js';
import type { ModelMeta } from '../model/meta.js';
import { runPipeline, type PipelineResult } from './pipeline.js';
import type { InferOptions, SetMember, TileFocus } from './types.js';

/** What {@link checkAndRun} returns. */
export interface CheckedRuns {
  /** The input check, unless it was turned off (`quality: false`, or findings off). */
  readonly quality?: InputQuality;
  /**
   * Findings, teeth and missing numbers withheld (computed as empty lists): the check says
   * the input is not a panoramic X-ray and `withholdIfNotPanoramic` asked for it.
   */
  readonly withheld: boolean;
  /** Each model's pipeline result, in the order given. */
  readonly results: readonly PipelineResult[];
  /** ms of the input check. */
  readonly qualityMs: number;
  /** ms of each model's whole pipeline, in the order given. */
  readonly modelMs: readonly number[];
}

const ms = (since: number): number => Math.round((performance.now() - since) * 10) / 10;

/**
 * Check `image` once (before any model), then run each model's pipeline on it, one after
 * the other (an engine computes with all threads already). The check's quality estimate is
 * handed to every pipeline, so `auto` enhancement does not measure the image again.
 * `describes(meta, i)` says whether a model's pipeline describes its own findings (default
 * all do; a set describes its lesion models' regions itself, with their tooth);
 * `mirrored(meta, i)` whether it averages with the mirrored image where the caller's
 * `tta` does not say (default: the model's own `postprocess.tta`); `focus(meta, i, earlier)`
 * where a tiled model need look, from the results of the models before it (default: the
 * caller's `focus`).
 */
export async function checkAndRun(
  members: readonly SetMember[],
  image: GreyImage,
  opts: InferOptions = {},
  describes: (meta: ModelMeta, index: number) => boolean = () => true,
  mirrored: (meta: ModelMeta, index: number) => boolean | undefined = () => undefined,
  focus: (
    meta: ModelMeta,
    index: number,
    earlier: readonly PipelineResult[],
  ) => TileFocus | undefined = () => opts.focus,
): Promise<CheckedRuns> {
  const findingsOn = opts.findings !== false;
  const q0 = performance.now();
  // Judged on the input as given (before enhancement), since that is what the user sent.
  const inspection = (opts.quality ?? findingsOn) ? inspectInput(image) : undefined;
  const quality = inspection?.quality;
  const withheld =
    quality !== undefined && !quality.panoramic && opts.withholdIfNotPanoramic === true;
  const qualityMs = ms(q0);
  const results: PipelineResult[] = [];
  const modelMs: number[] = [];
  for (const [index, { meta, engine }] of members.entries()) {
    const tta = opts.tta ?? mirrored(meta, index);
    const near = focus(meta, index, results);
    const t0 = performance.now();
    results.push(
      await runPipeline(engine, meta, image, {
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
        ...(tta !== undefined ? { tta } : {}),
        ...(opts.minAreaPx !== undefined ? { minAreaPx: opts.minAreaPx } : {}),
        ...(opts.numbering !== undefined ? { numbering: opts.numbering } : {}),
        findings: findingsOn && describes(meta, index),
        ...(near ? { focus: near } : {}),
        ...(inspection ? { estimate: inspection.estimate } : {}),
        // Not a panoramic: findings and teeth are withheld, so the pipeline skips them.
        ...(withheld ? { withhold: true } : {}),
      }),
    );
    modelMs.push(ms(t0));
  }
  return { ...(quality ? { quality } : {}), withheld, results, qualityMs, modelMs };
}
