// The report and DICOM export routes through app.inject(): report.pdf (A4, ?paper=letter)
// is a real PDF whose text has the findings, their review state, the model and the notice;
// sc.dcm and seg.dcm parse with dcmjs with the right SOP classes, one SEG segment per
// tooth and per finding, frames of the image's size, and dciodvfy finds no errors. A DICOM
// upload's patient and study reach the exports only with keepDicomTags (never the JSON);
// another user's analysis is not found.
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { SECONDARY_CAPTURE_UID, SEGMENTATION_UID } from '../../src/report/index.js';
import { buildApp } from '../../src/serve/index.js';
import { parseTokensFile } from '../../src/serve/auth.js';
import { segmentsOf } from '../../src/serve/report-routes.js';
import type { AnalysisRecord } from '../../src/serve/types.js';
import { writeTinyModel } from '../helpers/tiny-model.js';
import { buildDicom } from '../infer/helpers.js';
import {
  dciodvfy,
  HAS_DCIODVFY,
  HAS_POPPLER,
  pdfText,
  readDicom,
} from '../helpers/report-tools.js';
import { HAS_SAMPLE, SAMPLE_XRAY, multipart, tempDir } from './helpers.js';
import type { AnalysisJson as Created } from '../../src/serve/wire.js';

const ORIGINAL = {
  StudyInstanceUID: '1.2.826.0.1.3680043.8.498.1',
  SeriesInstanceUID: '1.2.826.0.1.3680043.8.498.2',
  SOPInstanceUID: '1.2.826.0.1.3680043.8.498.3',
  StudyDate: '20260105',
  StudyTime: '101500',
  AccessionNumber: 'ACC-77',
  StudyID: 'S-9',
};

describe.skipIf(!HAS_SAMPLE)('report and DICOM export routes (inject)', () => {
  let model: LoadedModel;
  let png: Buffer;
  let dicom: Buffer;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    const dir = tempDir('dentseg-report-fdi-');
    await writeTinyModel(dir, {
      classes: 33,
      seed: 7,
      classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
    });
    model = await loadModel(dir);
    // The sample at a third of its size: the same picture, quicker to analyse and export.
    const { data, info } = await sharp(SAMPLE_XRAY)
      .greyscale()
      .resize({ width: 960 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    png = await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } })
      .png()
      .toBuffer();
    dicom = buildDicom({
      width: info.width,
      height: info.height,
      pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      extra: ORIGINAL,
    });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    model.dispose();
  });

  async function app(opts: { keepDicomTags?: boolean; users?: string } = {}) {
    const a = await buildApp({
      model,
      dataDir: tempDir(),
      webDir: false,
      keepDicomTags: opts.keepDicomTags,
      ...(opts.users ? { users: parseTokensFile(opts.users, 'users.txt') } : {}),
    });
    apps.push(a);
    return a;
  }

  async function upload(
    a: FastifyInstance,
    file: Buffer,
    name: string,
    headers: Record<string, string> = {},
  ): Promise<Created> {
    const body = multipart(file, name);
    const res = await a.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      payload: body.payload,
      headers: { ...body.headers, ...headers },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Created>();
  }

  it('serves a one-page PDF report with the findings, review state, model and notice', async () => {
    const a = await app();
    const created = await upload(a, png, 'panoramic.png');
    const res = await a.inject({ url: `/api/v1/analyses/${created.id}/report.pdf` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const letter = await a.inject({
      url: `/api/v1/analyses/${created.id}/report.pdf?paper=letter`,
    });
    expect(letter.statusCode).toBe(200);
    const page = (await PDFDocument.load(letter.rawPayload)).getPage(0).getSize();
    expect([page.width, page.height]).toEqual([612, 792]);
    const bad = await a.inject({ url: `/api/v1/analyses/${created.id}/report.pdf?paper=b5` });
    expect(bad.statusCode).toBe(400);
    const unknown = await a.inject({
      url: '/api/v1/analyses/00000000-0000-4000-8000-000000000000/report.pdf',
    });
    expect(unknown.statusCode).toBe(404);
    if (!HAS_POPPLER) return;
    const text = pdfText(res.rawPayload, 'served.pdf');
    expect(text).toContain('Research use only; not a medical device.');
    expect(text).toContain('panoramic.png');
    expect(text).toContain(`${model.meta.name} ${model.meta.version}`);
    expect(text).toMatch(/Reviewed:\s+not reviewed/);
    expect(text).toContain(`Findings (${created.findings.length})`);
    expect(created.findings.length).toBeGreaterThan(0);
    const first = created.findings[0]!;
    expect(text).toMatch(new RegExp(`${first.id}\\s+${first.type}\\s.*suggested`));
    expect(text).toMatch(/Teeth:\s+\d+ found; missing:/);
  });

  it('exports the overlay as Secondary Capture and the teeth and findings as SEG', async () => {
    const a = await app();
    const created = await upload(a, png, 'panoramic.png');
    const { width, height } = created.image;

    const sc = await a.inject({ url: `/api/v1/analyses/${created.id}/export/sc.dcm` });
    expect(sc.statusCode, sc.body).toBe(200);
    expect(sc.headers['content-type']).toBe('application/dicom');
    const scDs = readDicom(sc.rawPayload);
    expect(scDs.SOPClassUID).toBe(SECONDARY_CAPTURE_UID);
    expect([scDs.Columns, scDs.Rows, scDs.SamplesPerPixel]).toEqual([width, height, 3]);
    expect(JSON.stringify(scDs.PatientName ?? '')).not.toMatch(/\w/);

    const seg = await a.inject({ url: `/api/v1/analyses/${created.id}/export/seg.dcm` });
    expect(seg.statusCode, seg.body).toBe(200);
    const segDs = readDicom(seg.rawPayload);
    expect(segDs.SOPClassUID).toBe(SEGMENTATION_UID);
    const segments = created.teeth.length + created.findings.length;
    expect((segDs.SegmentSequence as unknown[]).length).toBe(segments);
    expect(Number(segDs.NumberOfFrames)).toBe(segments);
    expect([segDs.Columns, segDs.Rows, segDs.BitsAllocated]).toEqual([width, height, 1]);
    const pixels = new Uint8Array((segDs.PixelData as ArrayBuffer[])[0] as ArrayBuffer);
    expect(pixels.byteLength).toBeGreaterThanOrEqual(Math.ceil((segments * width * height) / 8));
    // Each frame holds its outline's pixels: the first tooth's frame about its area.
    const n = width * height;
    let ones = 0;
    for (let b = 0; b < n; b++) ones += ((pixels[b >> 3] as number) >> (b & 7)) & 1;
    const tooth = created.teeth[0];
    if (tooth) {
      expect(ones).toBeGreaterThan(0);
      expect(ones).toBeLessThanOrEqual(tooth.bbox[2] * tooth.bbox[3]);
    }
    // Both exports of one analysis file into one study of their own.
    expect(segDs.StudyInstanceUID).toBe(scDs.StudyInstanceUID);
    const other = await a.inject({ url: `/api/v1/analyses/${created.id}/export/rt.dcm` });
    expect(other.statusCode).toBe(400);
    if (!HAS_DCIODVFY) return;
    const scCheck = dciodvfy(sc.rawPayload, 'served-sc.dcm');
    expect(scCheck.errors).toEqual([]);
    const segCheck = dciodvfy(seg.rawPayload, 'served-seg.dcm');
    expect(segCheck.errors).toEqual([]);
    console.log(
      `dciodvfy warnings — SC: ${JSON.stringify(scCheck.warnings)}; SEG: ${JSON.stringify(segCheck.warnings)}`,
    );
  });

  it('carries the original study and patient only with keepDicomTags', async () => {
    const plain = await app();
    const kept = await app({ keepDicomTags: true });
    for (const [a, keep] of [
      [plain, false],
      [kept, true],
    ] as const) {
      const created = await upload(a, dicom, 'IM0001.dcm');
      const json = await a.inject({ url: `/api/v1/analyses/${created.id}` });
      const list = await a.inject({ url: '/api/v1/analyses' });
      // Patient data never goes out as JSON.
      for (const body of [JSON.stringify(created), json.body, list.body]) {
        expect(body).not.toMatch(/Doe|PID-12345|19700101|ACC-77/);
      }
      const scRes = await a.inject({ url: `/api/v1/analyses/${created.id}/export/sc.dcm` });
      const sc = readDicom(scRes.rawPayload);
      const segRes = await a.inject({ url: `/api/v1/analyses/${created.id}/export/seg.dcm` });
      const seg = readDicom(segRes.rawPayload);
      for (const ds of [sc, seg]) {
        if (keep) {
          expect(ds.StudyInstanceUID).toBe(ORIGINAL.StudyInstanceUID);
          expect(ds.PatientID).toBe('PID-12345');
          expect(JSON.stringify(ds.PatientName)).toContain('Doe^Jane');
          expect(ds.AccessionNumber).toBe('ACC-77');
          expect(ds.StudyDate).toBe(ORIGINAL.StudyDate);
        } else {
          expect(ds.StudyInstanceUID).not.toBe(ORIGINAL.StudyInstanceUID);
          expect(JSON.stringify(ds)).not.toMatch(/Doe|PID-12345|19700101|ACC-77|1\.2\.826\.0\.1/);
        }
        expect(ds.SeriesInstanceUID).not.toBe(ORIGINAL.SeriesInstanceUID);
      }
      const refs = seg.ReferencedSeriesSequence as Record<string, unknown>[] | undefined;
      const source = (sc.SourceImageSequence as Record<string, unknown>[] | undefined)?.[0];
      if (keep) {
        expect(refs?.[0]?.SeriesInstanceUID).toBe(ORIGINAL.SeriesInstanceUID);
        expect(source?.ReferencedSOPInstanceUID).toBe(ORIGINAL.SOPInstanceUID);
        expect(source?.ReferencedSOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.1.1');
        if (HAS_DCIODVFY) {
          expect(dciodvfy(segRes.rawPayload, 'kept-seg.dcm').errors).toEqual([]);
          expect(dciodvfy(scRes.rawPayload, 'kept-sc.dcm').errors).toEqual([]);
        }
      } else {
        expect(refs).toBeUndefined();
        expect(source).toBeUndefined();
      }
    }
  });

  it("answers 404 for another user's analysis and 401 without a token", async () => {
    const a = await app({ users: 'alice:tok-alice\nbob:tok-bob\n' });
    const created = await upload(a, png, 'x.png', { authorization: 'Bearer tok-alice' });
    for (const url of [
      `/api/v1/analyses/${created.id}/report.pdf`,
      `/api/v1/analyses/${created.id}/export/sc.dcm`,
      `/api/v1/analyses/${created.id}/export/seg.dcm`,
    ]) {
      expect((await a.inject({ url })).statusCode).toBe(401);
      const bob = await a.inject({ url, headers: { authorization: 'Bearer tok-bob' } });
      expect(bob.statusCode).toBe(404);
      const alice = await a.inject({ url, headers: { authorization: 'Bearer tok-alice' } });
      expect(alice.statusCode).toBe(200);
    }
  });

  it('follows the review: states, note and reviewer in the report; SEG without the rejected finding; SC from the corrected mask', async () => {
    const a = await app({ users: 'alice:tok-alice\n' });
    const headers = { authorization: 'Bearer tok-alice' };
    const created = await upload(a, png, 'panoramic.png', headers);
    expect(created.findings.length).toBeGreaterThanOrEqual(2);
    const base = `/api/v1/analyses/${created.id}`;
    const send = async (method: 'PATCH' | 'POST', url: string, payload: object) => {
      const res = await a.inject({ method, url: `${base}${url}`, payload, headers });
      expect(res.statusCode, res.body).toBeLessThan(300);
    };
    const scBefore = (await a.inject({ url: `${base}/export/sc.dcm`, headers })).rawPayload;
    await send('PATCH', '/findings/f1', { review: 'rejected' });
    await send('PATCH', '/findings/f2', { review: 'accepted', type: 'caries' });
    await send('POST', '/findings', {
      outline: [
        [10, 10],
        [60, 10],
        [60, 50],
      ],
      type: 'caries',
      tooth: 36,
    });
    await send('POST', '/review', { note: 'Recall in 6 months.' });
    const { width, height } = created.image;
    const blank = await sharp(Buffer.alloc(width * height), {
      raw: { width, height, channels: 1 },
    })
      .png()
      .toBuffer();
    const mask = multipart(blank, 'mask.png', 'file', 'image/png');
    const put = await a.inject({
      method: 'PUT',
      url: `${base}/masks/${encodeURIComponent(model.meta.name)}`,
      payload: mask.payload,
      headers: { ...mask.headers, ...headers },
    });
    expect(put.statusCode, put.body).toBeLessThan(300);

    const report = await a.inject({ url: `${base}/report.pdf`, headers });
    expect(report.statusCode, report.body).toBe(200);
    if (HAS_POPPLER) {
      const text = pdfText(report.rawPayload, 'reviewed.pdf');
      expect(text).toMatch(/f1\s+\S.*rejected/);
      expect(text).toMatch(/f2\s+caries\s.*edited/);
      expect(text).toMatch(/a1\s+caries\s+36\s.*added/);
      expect(text).toContain(`Findings (${created.findings.length + 1})`);
      expect(text).toMatch(/Note:\s+Recall in 6 months\./);
      expect(text).toMatch(/Reviewed:\s+by alice at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    }
    const seg = readDicom((await a.inject({ url: `${base}/export/seg.dcm`, headers })).rawPayload);
    const labels = (seg.SegmentSequence as Record<string, unknown>[]).map((x) => x.SegmentLabel);
    expect(labels).toHaveLength(created.teeth.length + created.findings.length);
    expect(labels).toContain('a1 caries tooth 36');
    expect(labels.filter((l) => String(l).startsWith('f1 '))).toEqual([]);
    const manual = (seg.SegmentSequence as Record<string, unknown>[]).find(
      (x) => x.SegmentLabel === 'a1 caries tooth 36',
    );
    expect(manual?.SegmentAlgorithmType).toBe('MANUAL');
    // The corrected (empty) mask, not the model's, is what the overlay now shows.
    const scAfter = (await a.inject({ url: `${base}/export/sc.dcm`, headers })).rawPayload;
    const pixels = (b: Buffer) =>
      Buffer.from((readDicom(b).PixelData as ArrayBuffer[])[0] as ArrayBuffer);
    expect(pixels(scAfter).equals(pixels(scBefore))).toBe(false);
  });

  it('documents the routes in OpenAPI', async () => {
    const a = await app();
    const doc = (await a.inject({ url: '/api/docs' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/analyses/{id}/report.pdf',
        '/api/v1/analyses/{id}/export/{file}',
      ]),
    );
  });
});

describe('SEG segments of a record', () => {
  it('are the teeth, then the findings the dentist did not reject', () => {
    const finding = (id: string, review: string) => ({
      id,
      review,
      type: 'caries',
      tooth: 36,
      class: 'caries',
      classIndex: 1,
      areaPx: 10,
      areaPct: 0.1,
      bbox: [0, 0, 1, 1],
      centroid: [0, 0],
      polygon: [],
    });
    const record = {
      teeth: [{ fdi: 36, review: 'edited', polygon: [] }],
      findings: [finding('f1', 'accepted'), finding('f2', 'rejected'), finding('a1', 'added')],
    } as unknown as AnalysisRecord;
    expect(segmentsOf(record).map((s) => s.label)).toEqual([
      'tooth 36',
      'f1 caries tooth 36',
      'a1 caries tooth 36',
    ]);
  });
});
