/**
 * `dentseg predict --report`: the one-page PDF of one prediction (`X.report.pdf`), from the
 * segment result and the overlay and chart PNGs already encoded for `X.overlay.png` and
 * `X.chart.png`. Nothing is reviewed yet: every finding is `suggested`.
 */
import path from 'node:path';
import { toothAt } from './model-set.js';
import { buildReportPdf, type Paper, type ReportData } from '../report/index.js';
import { shrinkForReport } from '../report/images.node.js';
import { VERSION } from '../version.js';
import type { LoadedModel, SegmentResult } from './types.js';
import type { SetSegmentResult } from './model-set.node.js';

/** A finding as the report lists it, before the shared fields are added. */
type ReportFinding = Pick<
  ReportData['findings'][number],
  'id' | 'type' | 'tooth' | 'areaPx' | 'areaPct' | 'polygon'
>;

/**
 * The PDF of one prediction: every finding and tooth `suggested` (nothing is reviewed yet),
 * the overlay and chart shrunk for the page.
 */
async function reportPdf(
  input: string,
  r: Pick<SegmentResult, 'width' | 'height' | 'teeth' | 'missing'>,
  models: ReportData['models'],
  findings: readonly ReportFinding[],
  overlayPng: Uint8Array,
  chartPng: Uint8Array | undefined,
  paper: Paper,
): Promise<Uint8Array> {
  const [overlay, chart] = await Promise.all([
    shrinkForReport(overlayPng),
    chartPng ? shrinkForReport(chartPng) : undefined,
  ]);
  const data: ReportData = {
    filename: path.basename(input),
    created: new Date().toISOString(),
    image: { width: r.width, height: r.height },
    models,
    findings: findings.map((f) => ({ ...f, review: 'suggested' })),
    teeth: (r.teeth ?? []).map((t) => ({ fdi: t.fdi, review: 'suggested', polygon: t.polygon })),
    missing: r.missing ? [...r.missing] : null,
    note: '',
    reviewed: null,
    overlay,
    chart,
  };
  return buildReportPdf(data, { paper, generator: `dentseg ${VERSION}` });
}

/** The report of one predicted image as PDF bytes. */
export function predictReportPdf(
  input: string,
  model: LoadedModel,
  r: SegmentResult,
  overlayPng: Uint8Array,
  chartPng: Uint8Array | undefined,
  paper: Paper,
): Promise<Uint8Array> {
  const findings = r.findings.map((f, i) => ({
    id: `f${i + 1}`,
    type: f.class,
    tooth: toothAt(f.centroid, r.mask, r.width, r.height, r.classes),
    areaPx: f.areaPx,
    areaPct: f.areaPct,
    polygon: f.polygon,
  }));
  const models = [{ name: model.meta.name, version: model.meta.version }];
  return reportPdf(input, r, models, findings, overlayPng, chartPng, paper);
}

/** The report of one image predicted with a model set (every model listed, set findings). */
export function predictSetReportPdf(
  input: string,
  r: SetSegmentResult,
  overlayPng: Uint8Array,
  chartPng: Uint8Array | undefined,
  paper: Paper,
): Promise<Uint8Array> {
  const findings = r.findings.map((f) => ({
    id: f.id,
    type: f.type,
    tooth: f.tooth,
    areaPx: f.areaPx,
    areaPct: f.areaPct,
    polygon: f.polygon,
  }));
  const models = r.models.map((m) => ({ name: m.name, version: m.version }));
  return reportPdf(input, r, models, findings, overlayPng, chartPng, paper);
}
