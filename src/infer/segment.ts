/**
 * `segment`: Node's inference entry — decode the input (path, Buffer or grey image), run the
 * platform-free pipeline (./pipeline.ts: prepare → run → post-process, the same code the
 * browser's private mode runs) and add the pictures (overlay, chart), which need sharp.
 * The engine disposes every tensor it made.
 */
import type { GreyImage } from '../imaging/types.js';
import { decodeInput } from '../imaging/input.node.js';
import { inspectInput } from '../imaging/panoramic.js';
import { renderOverlay } from './overlay.js';
import { runPipeline } from './pipeline.js';
import type { LoadedModel, SegmentOptions, SegmentResult, SegmentStage } from './types.js';

export { flipHorizontal, probabilitiesToMask } from './pipeline.js';

/**
 * Segment one X-ray (a path, a Buffer, or a decoded grey image) with a loaded model.
 * Results are at the original image size; the engine disposes every tensor it made.
 */
export async function segment(
  model: LoadedModel,
  input: string | Buffer | GreyImage,
  opts: SegmentOptions = {},
): Promise<SegmentResult> {
  const t0 = performance.now();
  const { meta, engine } = model;
  const { image, dicom } = await decodeInput(input, opts.name);
  const decode = Math.round((performance.now() - t0) * 10) / 10;
  // Judged on the input as given (before enhancement), since that is what the user sent.
  const q0 = performance.now();
  const inspection = (opts.quality ?? opts.findings !== false) ? inspectInput(image) : undefined;
  const quality = inspection?.quality;
  const withheld =
    quality !== undefined && !quality.panoramic && opts.withholdIfNotPanoramic === true;
  const qualityMs = Math.round((performance.now() - q0) * 10) / 10;
  const r = await runPipeline(engine, meta, image, {
    ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
    ...(opts.tta !== undefined ? { tta: opts.tta } : {}),
    ...(opts.findings !== undefined ? { findings: opts.findings } : {}),
    ...(opts.minAreaPx !== undefined ? { minAreaPx: opts.minAreaPx } : {}),
    ...(opts.numbering !== undefined ? { numbering: opts.numbering } : {}),
    // One quality estimate per image: the check's, which `auto` enhancement reuses.
    ...(inspection ? { estimate: inspection.estimate } : {}),
    // Not a panoramic: findings and teeth are withheld, so the pipeline skips them.
    ...(withheld ? { withhold: true } : {}),
  });
  const timings: Record<SegmentStage, number> = { decode, quality: qualityMs, ...r.timings };
  const legend = meta.task === 'multiclass' ? meta.classes : null;
  const { mask, teeth, missing } = r;
  const scheme = r.numberingConfig?.scheme;
  return {
    width: r.width,
    height: r.height,
    classes: r.classes,
    task: r.task,
    mask,
    // Numbering models restore the probabilities only when someone reads them.
    get probabilities(): Float32Array {
      return r.probabilities;
    },
    ...(r.numbering ? { numbering: r.numbering } : {}),
    findings: r.findings,
    ...(quality ? { quality, withheld } : {}),
    threshold: r.threshold,
    tta: r.tta,
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
    timings,
    bitDepth: image.bitDepth,
    ...(dicom ? { dicom } : {}),
    overlay: (o) => renderOverlay(image, mask, legend, o),
    ...(teeth && missing && scheme
      ? {
          teeth,
          missing,
          // The chart's canvas loads only when a chart is drawn, so that predict's start-up
          // (and every command that never draws one) stays free of it.
          chart: async () =>
            (await import('./chart.js')).renderChart(image, mask, scheme, teeth, missing),
        }
      : {}),
  };
}
