/**
 * `segment`: Node's inference entry — decode the input (path, Buffer or grey image), check
 * it and run the model's platform-free pipeline through ./check-and-run.ts (the code the
 * browser's private mode and a model set run too), then add the pictures (overlay, chart),
 * which need sharp. The engine disposes every tensor it made.
 */
import type { GreyImage } from '../imaging/types.js';
import { decodeInput } from '../imaging/input.node.js';
import { checkAndRun } from './check-and-run.js';
import { renderOverlay } from './overlay.js';
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
  const { meta } = model;
  const { image, dicom } = await decodeInput(input, opts.name);
  const decode = Math.round((performance.now() - t0) * 10) / 10;
  const { results, quality, withheld, qualityMs } = await checkAndRun([model], image, opts);
  const r = results[0]!;
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
