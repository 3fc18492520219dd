/**
 * `dentseg predict` with a model set (the bundled set, or several `--model`): one input
 * decoded once and run through every model, written as `X.mask.png` (every tooth as one
 * class, 0/255), `X.teeth.png` (the numbering model's class indices), `X.<type>.png` per
 * lesion model (0/255), `X.overlay.png`, `X.chart.png`, `X.findings.png` and `X.json` (the
 * teeth model's fields as a single-model run writes them, plus `models` and the set's
 * findings). A single `--model` keeps ./batch.ts's single-model outputs.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { segmentOptionsOf, type PredictBatchOptions, type PredictItem } from './predict-types.js';
import { segmentSet, type LoadedModelSet, type SetSegmentResult } from './model-set.node.js';
import {
  areaPercent,
  dicomSummary,
  maskArea,
  perClassSummary,
  presentClasses,
} from './predict-json.js';

function setJson(
  input: string,
  r: SetSegmentResult,
  keepDicomTags: boolean,
  timings: Record<string, number>,
  elapsedMs: number,
): unknown {
  const first = r.teethRun ?? r.runs[0]!;
  const tr = first.result;
  const own = r.findings.filter((f) => f.model === first.meta.name);
  const n = r.width * r.height;
  const foreground = maskArea(tr.mask);
  return {
    input,
    // The teeth model's fields, as a single-model run of it writes them.
    model: { name: first.meta.name, version: first.meta.version, engine: first.engine },
    task: tr.task,
    classes: tr.classes,
    threshold: tr.threshold,
    tta: tr.tta,
    image: { width: r.width, height: r.height, bitDepth: r.bitDepth },
    models: r.models.map((m) => ({
      name: m.name,
      version: m.version,
      task: m.task,
      engine: m.engine,
      // teeth, outline (draws the numbering model's teeth) or lesion, as the API says it.
      role: m.role,
      // A lesion model's tooth gate: applied (margin, regions dropped) or why not.
      ...(m.toothGate ? { toothGate: m.toothGate } : {}),
      // A model that enhances its input: what it did to this X-ray (`none`, `deblur:5`, …).
      ...(m.enhanced !== undefined ? { enhanced: m.enhanced } : {}),
    })),
    ...(r.quality ? { quality: { ...r.quality, withheld: r.withheld } } : {}),
    elapsedMs,
    timings,
    summary: {
      regions: own.length,
      maskAreaPx: foreground,
      maskAreaPct: areaPercent(foreground, n),
      minAreaPx: first.minAreaPx,
      classesPresent: presentClasses(own),
      perClass: perClassSummary(own, n),
      // Per lesion type: how many regions, on which teeth.
      lesions: r.lesions,
    },
    // The teeth model's regions, then every lesion, each with id, type, tooth, surface, score.
    findings: r.findings,
    ...(r.teeth && r.missing ? { teeth: r.teeth, missing: r.missing } : {}),
    ...(r.dicom ? { dicom: dicomSummary(r.dicom) } : {}),
    ...(r.dicom && keepDicomTags ? { dicomTags: r.dicom.patientTags } : {}),
  };
}

/** Segment one input with the set and write its files; throws for the caller to report. */
export async function predictSetOne(
  set: LoadedModelSet,
  input: string,
  stem: string,
  opts: PredictBatchOptions,
): Promise<PredictItem> {
  const t0 = performance.now();
  const r = await segmentSet(set, input, segmentOptionsOf(opts));
  const tEncode = performance.now();
  const base = path.join(opts.outputDir, stem);
  const write = (suffix: string) => (png: Buffer | Uint8Array) =>
    writeFile(`${base}.${suffix}`, png);
  const chartPng = r.chart ? r.chart() : undefined;
  const overlayPng = r.overlay();
  const writes: Promise<void>[] = [
    overlayPng.then(write('overlay.png')),
    r
      .lesionPngs()
      .then((pngs) =>
        Promise.all(Object.entries(pngs).map(([type, png]) => write(`${type}.png`)(png))).then(
          () => undefined,
        ),
      ),
  ];
  if (r.maskPng) writes.push(r.maskPng().then(write('mask.png')));
  if (r.teethPng) writes.push(r.teethPng().then(write('teeth.png')));
  if (chartPng) writes.push(chartPng.then(write('chart.png')));
  if (r.lesionRuns.length > 0) {
    writes.push(
      Promise.all([chartPng, overlayPng])
        .then(([chart, overlay]) => r.findingsImage(chart, overlay))
        .then(write('findings.png')),
    );
  }
  if (opts.report) {
    const paper = opts.report;
    // Loaded on first use: only reports need pdf-lib.
    const { predictSetReportPdf } = await import('./predict-report.js');
    writes.push(
      Promise.all([overlayPng, chartPng])
        .then(([overlay, chart]) => predictSetReportPdf(input, r, overlay, chart, paper))
        .then(write('report.pdf')),
    );
  }
  await Promise.all(writes);
  const encode = Math.round((performance.now() - tEncode) * 10) / 10;
  const timings = { ...r.timings, encode };
  const elapsedMs = Math.round((performance.now() - t0) * 10) / 10;
  await writeFile(
    `${base}.json`,
    JSON.stringify(setJson(input, r, opts.keepDicomTags, timings, elapsedMs), null, 2) + '\n',
  );
  const first = r.teethRun ?? r.runs[0]!;
  const own = r.findings.filter((f) => f.model === first.meta.name);
  const areaPx = maskArea(first.result.mask);
  return {
    input,
    ok: true,
    stem,
    width: r.width,
    height: r.height,
    regions: own.length,
    areaPx,
    areaPct: areaPercent(areaPx, r.width * r.height),
    classesPresent: presentClasses(own),
    ...(r.teeth && r.missing ? { teeth: r.teeth.map((t) => t.fdi), missing: r.missing } : {}),
    lesions: r.lesions,
    ...(r.maskPng ? {} : { noMask: true }),
    ...(r.quality ? { quality: r.quality } : {}),
    elapsedMs,
    timings,
  };
}
