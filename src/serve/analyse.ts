/**
 * One upload → one analysis: check the content (format, pixel limit), decode, segment with
 * the inference pipeline, and encode what is stored (original, mask, overlay and an 8-bit
 * probability image the web page re-thresholds client-side), plus the numbered teeth of a
 * numbering model. No storage or HTTP here.
 */
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { toGrey8 } from '../imaging/grey8.js';
import type { GreyImage } from '../imaging/types.js';
import { DentsegError } from '../errors.js';
import { decodeInput, maskPng, renderOverlay, type LoadedModel } from '../infer/index.js';
import { runModelSet, setRoles, toothAt, type SetRun } from '../infer/model-set.js';
import { probabilityImage } from '../infer/pipeline.js';
import { PICTURE_PNG_LEVEL, PROBABILITY_PNG_LEVEL } from '../infer/png-levels.js';
import { numberingScheme } from '../numbering/index.js';
import { assertPixelLimit, checkUpload } from './sniff.js';
import { lesionMaskFile, numbersTeeth, type AnalysisRecord, type LesionFileName } from './types.js';

/** Limits and settings for analysing an upload. */
export interface AnalyseOptions {
  /** Largest width × height accepted (decompression-bomb guard), pixels. */
  readonly maxPixels: number;
  /**
   * Probability threshold for the stored masks and findings, 0–1 (default: each model's
   * `postprocess.threshold`, else 0.5).
   */
  readonly threshold?: number;
  /** Recorded as the analysis' `user` (default null: a server without tokens). */
  readonly user?: string | null;
  /** The analysis id (default a new UUID v4; a queued upload keeps the id it was given). */
  readonly id?: string;
  /**
   * Keep a DICOM upload's patient, study and reference tags in the record (`dicomTags`) for
   * the DICOM exports (default false: dropped, never stored).
   */
  readonly keepDicomTags?: boolean;
  /** Keep findings and teeth of uploads that do not look like a panoramic X-ray (default false). */
  readonly force?: boolean;
}

/** A finished analysis, ready for the store (overlay and chart are rendered on first request). */
export interface AnalysisOutput {
  readonly record: AnalysisRecord;
  /** original, mask and probability, plus each lesion model's mask (`caries.png`). */
  readonly files: Record<'original.png' | 'mask.png' | 'probability.png', Buffer> &
    Partial<Record<LesionFileName, Buffer>>;
}

/**
 * Encode single-channel 8-bit pixels as a one-channel grey PNG at zlib `level`
 * (png-levels.ts); re-encoding also drops any metadata chunks (privacy).
 */
function grey8Png(data: Uint8Array, width: number, height: number, level: number): Promise<Buffer> {
  return (
    sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
      raw: { width, height, channels: 1 },
    })
      // Without 'b-w' libvips writes RGB with three equal channels: the same grey values
      // read back, for three times the bytes to compress (and ~40 % bigger files).
      .toColourspace('b-w')
      .png({ compressionLevel: level })
      .toBuffer()
  );
}

// The one rule that attaches a finding to a tooth lives with the model set.
export { toothAt };

/**
 * Analyse one uploaded file with a model set (or one model): decode and check it once, run
 * every model on it (the teeth model's mask stays `mask.png`, each lesion model's is
 * `<type>.png`). Errors are DentsegErrors naming `filename`.
 */
export async function analyseUpload(
  models: LoadedModel | readonly LoadedModel[],
  buf: Buffer,
  filename: string,
  options: AnalyseOptions,
): Promise<AnalysisOutput> {
  const started = performance.now();
  const list: readonly LoadedModel[] = Array.isArray(models) ? models : [models as LoadedModel];
  // The teeth model runs first, so that `models` and the findings' ids start with it; its
  // outline next, then the lesion models.
  const roles = setRoles(list.map((m) => m.meta));
  const members = (['teeth', 'outline', 'lesion'] as const).flatMap((role) =>
    list.filter((_m, i) => roles[i] === role),
  );
  const name = filename || 'upload';
  const format = await checkUpload(buf, name, options.maxPixels);

  const t0 = performance.now();
  let image: GreyImage;
  let dicomTags: Readonly<Record<string, string>> | undefined;
  let pixelSpacingMm: readonly [number, number] | undefined;
  try {
    // DICOM and the image formats alike; DICOM patient tags are dropped here, never stored,
    // unless the server keeps them for its DICOM exports.
    // DICOM's own size (and an embedded JPEG frame's) is checked before decoding there.
    const decoded = await decodeInput(buf, name, { maxPixels: options.maxPixels });
    image = decoded.image;
    // Not patient data: it lets the page give areas in mm².
    pixelSpacingMm = decoded.dicom?.pixelSpacingMm;
    if (options.keepDicomTags === true && decoded.dicom) {
      dicomTags = {
        ...decoded.dicom.patientTags,
        ...(decoded.dicom.sopClassUid ? { SOPClassUID: decoded.dicom.sopClassUid } : {}),
      };
    }
  } catch (err) {
    if (err instanceof DentsegError) throw err;
    throw new DentsegError('E_IMAGE_DECODE', `cannot decode the ${format} image`, {
      file: name,
      cause: err,
    });
  }
  assertPixelLimit(image, options.maxPixels, name);
  const decodeMs = performance.now() - t0;

  const result = await runModelSet(members, image, {
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
    // Not a panoramic X-ray: no findings or teeth drawn from it, unless the server's --force.
    withholdIfNotPanoramic: options.force !== true,
  });
  // The teeth model's run is the analysis' `model`, mask.png and probability.png, as before
  // model sets (a set without one: its first model).
  const main = result.teethRun ?? (result.runs[0] as SetRun);
  const r = main.result;
  const t1 = performance.now();
  const lesionFiles = result.lesionRuns.map((run) => ({
    run,
    file: lesionMaskFile(run.type as string),
  }));
  const [original, mask, probability, ...lesionPngs] = await Promise.all([
    grey8Png(toGrey8(image), image.width, image.height, PICTURE_PNG_LEVEL),
    maskPng(r.mask, r.width, r.height, r.task === 'binary'),
    grey8Png(probabilityImage(r.confidence), r.width, r.height, PROBABILITY_PNG_LEVEL),
    ...lesionFiles.map(({ run }) => maskPng(run.result.mask, r.width, r.height, true)),
  ]);
  const encodeMs = performance.now() - t1;

  const meta = main.meta;
  const record: AnalysisRecord = {
    id: options.id ?? randomUUID(),
    created: new Date().toISOString(),
    filename,
    user: options.user ?? null,
    image: {
      width: r.width,
      height: r.height,
      format,
      ...(pixelSpacingMm ? { pixelSpacingMm: [...pixelSpacingMm] } : {}),
    },
    model: { name: meta.name, version: meta.version, engine: main.engine, task: meta.task },
    models: result.runs.map((run) => ({
      name: run.meta.name,
      version: run.meta.version,
      engine: run.engine,
      task: run.meta.task,
      role: run.role,
      ...(run.type !== undefined ? { type: run.type } : {}),
      // An outline's mask is the teeth of mask.png (their pixels are its pixels).
      mask: run.role === 'lesion' ? lesionMaskFile(run.type as string) : 'mask.png',
      ...(run.toothGate ? { toothGate: run.toothGate } : {}),
      ...(run.result.enhanced !== undefined ? { enhanced: run.result.enhanced } : {}),
    })),
    classes: [...r.classes],
    // Multi-class masks are the arg-max: every class shown, i.e. a confidence threshold of 0.
    threshold: meta.task === 'multiclass' ? 0 : r.threshold,
    findings: result.findings.map((f) => ({
      id: f.id,
      review: 'suggested' as const,
      type: f.type,
      tooth: f.tooth,
      surface: f.surface,
      score: f.score,
      model: f.model,
      class: f.class,
      classIndex: f.classIndex,
      areaPx: f.areaPx,
      areaPct: f.areaPct,
      bbox: f.bbox,
      centroid: f.centroid,
      polygon: f.polygon,
    })),
    // Always present, so that clients need no second shape: empty for models that do not
    // number teeth (`missing` too: nothing was looked for, so nothing is missing).
    teeth: (result.teeth ?? []).map((t) => ({
      fdi: t.fdi,
      name: t.name,
      areaPx: t.areaPx,
      bbox: t.bbox,
      centroid: t.centroid,
      polygon: t.polygon,
      score: t.score,
      review: 'suggested' as const,
    })),
    missing: [...(result.missing ?? [])],
    ...(result.quality ? { quality: { ...result.quality, withheld: result.withheld } } : {}),
    elapsedMs: Math.round(performance.now() - started),
    timings: {
      ...Object.fromEntries(Object.entries(result.timings).map(([s, ms]) => [s, Math.round(ms)])),
      decode: Math.round(decodeMs),
      encodeOutputs: Math.round(encodeMs),
    },
    reviewed: null,
    corrections: { masks: [] },
    ...(dicomTags ? { dicomTags } : {}),
  };
  const files: AnalysisOutput['files'] = {
    'original.png': original,
    'mask.png': mask,
    'probability.png': probability,
  };
  lesionFiles.forEach(({ file }, i) => {
    files[file] = lesionPngs[i] as Buffer;
  });
  return { record, files };
}

/**
 * The overlay PNG of a stored analysis, rendered from its stored original and mask the
 * same way as `segment(...).overlay()` (a legend for multi-class models).
 */
export async function overlayFromStored(
  record: AnalysisRecord,
  originalPng: Buffer,
  maskPng: Buffer,
): Promise<Buffer> {
  const { image, classes } = await decodeStored(originalPng, maskPng);
  const binary = record.model.task === 'binary';
  if (binary) for (let i = 0; i < classes.length; i++) classes[i] = classes[i] ? 1 : 0;
  return renderOverlay(image, classes, binary ? null : record.classes);
}

/** Decode a stored original and class-index mask to the grey image and class map. */
async function decodeStored(
  originalPng: Buffer,
  maskPng: Buffer,
): Promise<{ image: GreyImage; classes: Uint8Array }> {
  const [grey, mask] = await Promise.all([
    sharp(originalPng).extractChannel(0).raw().toBuffer({ resolveWithObject: true }),
    sharp(maskPng).extractChannel(0).raw().toBuffer(),
  ]);
  return {
    image: {
      width: grey.info.width,
      height: grey.info.height,
      bitDepth: 8,
      data: new Uint8Array(grey.data.buffer, grey.data.byteOffset, grey.data.byteLength),
    },
    classes: new Uint8Array(mask.buffer, mask.byteOffset, mask.byteLength),
  };
}

/**
 * The chart PNG of a stored analysis of a numbering model (as `dentseg predict`'s
 * `X.chart.png`): drawn from its stored original, class-index mask, teeth and missing
 * numbers. E_USAGE when the analysis' model does not number teeth.
 */
export async function chartFromStored(
  record: AnalysisRecord,
  originalPng: Buffer,
  maskPng: Buffer,
): Promise<Buffer> {
  const scheme = numbersTeeth(record) ? numberingScheme(record.classes) : undefined;
  if (!scheme) {
    throw new DentsegError(
      'E_USAGE',
      `analysis ${record.id} has no chart: its model does not number teeth`,
    );
  }
  const { image, classes } = await decodeStored(originalPng, maskPng);
  // Loaded on first use, as in `segment`: only charts need the canvas.
  const { renderChart } = await import('../infer/chart.js');
  return renderChart(image, classes, scheme, record.teeth, record.missing);
}
