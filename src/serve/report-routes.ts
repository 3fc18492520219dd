/**
 * The report and DICOM export routes: `GET …/report.pdf` and `GET …/export/{sc,seg}.dcm`,
 * built on request from the stored record and images (they follow every review change, so
 * nothing is cached). The documents themselves come from the platform-free report stage;
 * this file fetches and decodes what it needs.
 */
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import {
  buildReportPdf,
  buildSecondaryCapture,
  buildSegmentation,
  type Paper,
  type ReportData,
  type SegSegment,
} from '../report/index.js';
import { shrinkForReport } from '../report/images.node.js';
import { VERSION } from '../version.js';
import { chartFromStored, overlayFromStored } from './analyse.js';
import type { Auth } from './auth.js';
import { DentsegError } from '../errors.js';
import { notFound } from './http-errors.js';
import { errors, security } from './schemas.js';
import type { Store } from './store-api.js';
import { API_PREFIX, numbersTeeth, type AnalysisRecord } from './types.js';

const idParam = { id: { type: 'string', format: 'uuid' } } as const;

const reportRoute = {
  summary:
    'A one-page PDF report: overlay, dental chart, findings with their review state, note, models, reviewer',
  tags: ['analyses'],
  security,
  params: { type: 'object', properties: idParam, required: ['id'] },
  querystring: {
    type: 'object',
    properties: {
      paper: { type: 'string', enum: ['a4', 'letter'], default: 'a4', description: 'page size' },
    },
    additionalProperties: false,
  },
  produces: ['application/pdf'],
  response: {
    200: { description: 'PDF document', type: 'string', format: 'binary' },
    ...errors(400, 401, 404),
  },
} as const;

const exportRoute = {
  summary:
    'DICOM export: sc.dcm, a Secondary Capture (RGB) of the overlay; seg.dcm, a binary Segmentation with one segment per tooth and per finding not rejected. With `serve --keep-dicom-tags` and a DICOM upload both file with the original study; otherwise they carry no patient data.',
  tags: ['analyses'],
  security,
  params: {
    type: 'object',
    properties: { ...idParam, file: { type: 'string', enum: ['sc.dcm', 'seg.dcm'] } },
    required: ['id', 'file'],
  },
  produces: ['application/dicom'],
  response: {
    200: { description: 'DICOM Part-10 file', type: 'string', format: 'binary' },
    ...errors(400, 401, 404),
  },
} as const;

/** What the routes need from the app. */
export interface ReportRouteDeps {
  readonly store: Store;
  readonly auth: Auth;
  /** The stored overlay or chart, rendered on first request (the app's cache). */
  readonly rendered: (id: string, file: 'overlay.png' | 'chart.png') => Promise<Buffer | undefined>;
}

/**
 * The overlay or chart to show: drawn from the dentist's corrected mask when there is one
 * (afresh: it changes with each correction), else the model's, rendered once and stored.
 */
async function current(
  deps: ReportRouteDeps,
  record: AnalysisRecord,
  file: 'overlay.png' | 'chart.png',
): Promise<Buffer | undefined> {
  if (record.corrections.masks.length > 0) {
    const [original, corrected] = await Promise.all([
      deps.store.readFile(record.id, 'original.png'),
      deps.store.readFile(record.id, 'mask.corrected.png'),
    ]);
    if (original && corrected) {
      return file === 'overlay.png'
        ? overlayFromStored(record, original, corrected)
        : chartFromStored(record, original, corrected);
    }
  }
  return deps.rendered(record.id, file);
}

/** The report's data of a stored analysis. */
export function reportDataOf(
  record: AnalysisRecord,
  overlay: Uint8Array,
  chart: Uint8Array | undefined,
): ReportData {
  const teethModel = numbersTeeth(record);
  return {
    filename: record.filename,
    created: record.created,
    id: record.id,
    image: { width: record.image.width, height: record.image.height },
    // Every model of a set (stored before sets: the one model).
    models: (record.models ?? [record.model]).map((m) => ({ name: m.name, version: m.version })),
    findings: record.findings.map((f) => ({
      id: f.id,
      type: f.type,
      tooth: f.tooth,
      areaPx: f.areaPx,
      areaPct: f.areaPct,
      review: f.review,
      polygon: f.polygon,
    })),
    teeth: record.teeth.map((t) => ({ fdi: t.fdi, review: t.review, polygon: t.polygon })),
    missing: teethModel ? record.missing : null,
    note: record.reviewed?.note ?? '',
    reviewed: record.reviewed ? { by: record.reviewed.by, at: record.reviewed.at } : null,
    overlay,
    chart,
  };
}

/**
 * The SEG's segments: every numbered tooth, then every finding the dentist did not reject
 * (a rejected finding is not a finding; it stays in the audit and the JSON).
 */
export function segmentsOf(record: AnalysisRecord): SegSegment[] {
  return [
    ...record.teeth.map((t): SegSegment => ({
      label: `tooth ${t.fdi}`,
      kind: { tooth: t.fdi },
      review: t.review,
      polygon: t.polygon,
    })),
    ...record.findings
      .filter((f) => f.review !== 'rejected')
      .map((f): SegSegment => ({
        label: `${f.id} ${f.type}${f.tooth !== null ? ` tooth ${f.tooth}` : ''}`,
        kind: { finding: f.type },
        review: f.review,
        polygon: f.polygon,
      })),
  ];
}

/** Register the report and export routes (after auth is installed). */
export function registerReportRoutes(app: FastifyInstance, deps: ReportRouteDeps): void {
  const { store, auth } = deps;

  app.get<{ Params: { id: string }; Querystring: { paper: Paper } }>(
    `${API_PREFIX}/analyses/:id/report.pdf`,
    { schema: reportRoute },
    async (request, reply) => {
      const { id } = request.params;
      const record = await store.get(id, auth.owner(request));
      if (!record) throw notFound(`analysis ${id}`);
      const [overlay, chart] = await Promise.all([
        current(deps, record, 'overlay.png'),
        numbersTeeth(record) ? current(deps, record, 'chart.png') : undefined,
      ]);
      if (!overlay) throw notFound(`analysis ${id}`);
      const [overlaySmall, chartSmall] = await Promise.all([
        shrinkForReport(overlay),
        chart ? shrinkForReport(chart) : undefined,
      ]);
      const pdf = await buildReportPdf(reportDataOf(record, overlaySmall, chartSmall), {
        paper: request.query.paper,
        generator: `dentseg ${VERSION}`,
      });
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="dentseg-${id}.report.pdf"`)
        .header('Cache-Control', 'private, no-cache')
        .send(Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength));
    },
  );

  app.get<{ Params: { id: string; file: 'sc.dcm' | 'seg.dcm' } }>(
    `${API_PREFIX}/analyses/:id/export/:file`,
    { schema: exportRoute },
    async (request, reply) => {
      const { id, file } = request.params;
      const record = await store.get(id, auth.owner(request));
      if (!record) throw notFound(`analysis ${id}`);
      const common = {
        analysisId: id,
        source: record.dicomTags,
        now: new Date(),
        softwareVersion: VERSION,
        algorithm: (record.models ?? [record.model])
          .map((m) => `${m.name} ${m.version}`)
          .join(' + '),
      };
      let bytes: Uint8Array;
      if (file === 'sc.dcm') {
        const overlay = await current(deps, record, 'overlay.png');
        if (!overlay) throw notFound(`analysis ${id}`);
        const { data, info } = await sharp(overlay)
          .removeAlpha()
          .toColourspace('srgb')
          .raw()
          .toBuffer({ resolveWithObject: true });
        bytes = buildSecondaryCapture({
          ...common,
          width: info.width,
          height: info.height,
          rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        });
      } else {
        const segments = segmentsOf(record);
        if (segments.length === 0) {
          throw new DentsegError(
            'E_NOT_FOUND',
            `analysis ${id} has no teeth or findings to export as a segmentation`,
            { hint: 'draw a finding first (POST …/findings), or export sc.dcm' },
          );
        }
        bytes = buildSegmentation({
          ...common,
          width: record.image.width,
          height: record.image.height,
          segments,
        });
      }
      return reply
        .type('application/dicom')
        .header('Content-Disposition', `attachment; filename="dentseg-${id}.${file}"`)
        .header('Cache-Control', 'private, no-cache')
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );
}
