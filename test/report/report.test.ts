// The report stage on its own: the PDF is a real one-page PDF (A4 or Letter) whose text,
// as poppler's pdftotext reads it, has the findings with their review states, the notice,
// the model, the reviewer and the note; a long table shrinks and then ends in "+N more"
// inside the page; the DICOM writers give files dcmjs reads back with the right SOP classes,
// frame counts and bits, that dciodvfy passes without errors.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildReportPdf,
  buildSecondaryCapture,
  buildSegmentation,
  packFrames,
  RESEARCH_NOTICE,
  SECONDARY_CAPTURE_UID,
  SEGMENTATION_UID,
  tableLayout,
  uidFromUuid,
  type ReportData,
  type ReportFinding,
} from '../../src/report/index.js';
import {
  dciodvfy,
  HAS_DCIODVFY,
  HAS_POPPLER,
  pdfText,
  readDicom,
  REPORT_DIR as dir,
} from '../helpers/report-tools.js';

const STATES = ['suggested', 'accepted', 'rejected', 'edited', 'added'] as const;

function finding(i: number): ReportFinding {
  return {
    id: `f${i + 1}`,
    type: i % 2 ? 'caries' : 'periapical lesion',
    tooth: i % 3 ? 36 : null,
    areaPx: 1000 + i,
    areaPct: 0.01 * i,
    review: STATES[i % STATES.length] as ReportFinding['review'],
    polygon: [
      [10, 10],
      [30, 10],
      [30, 25],
    ],
  };
}

describe('report PDF', () => {
  let overlayPng: Buffer;
  let chartPng: Buffer;
  let data: ReportData;

  beforeAll(async () => {
    // A panoramic-shaped picture with something in it (a grey ramp and a red box).
    const w = 800;
    const h = 380;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        const v = Math.round((x / w) * 200);
        const box = x > 300 && x < 360 && y > 150 && y < 200;
        raw[o] = box ? 230 : v;
        raw[o + 1] = box ? 30 : v;
        raw[o + 2] = box ? 30 : v;
      }
    overlayPng = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    chartPng = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .negate()
      .png()
      .toBuffer();
    data = {
      filename: 'panoramic-17.png',
      created: '2026-12-01T10:20:00.000Z',
      id: '0b6c8f2e-1111-4222-8333-444455556666',
      image: { width: w, height: h },
      models: [{ name: 'teeth-fdi', version: '2.1.0' }],
      findings: STATES.map((_, i) => finding(i)),
      teeth: [
        { fdi: 36, review: 'edited', polygon: [] },
        { fdi: 37, review: 'suggested', polygon: [] },
      ],
      missing: [18, 28, 38, 48],
      note: 'Caries on 36 distal; recall in 6 months.',
      reviewed: { by: 'dr-ada', at: '2026-12-01T11:00:00.000Z' },
      overlay: overlayPng,
      chart: chartPng,
    };
  });

  it('is a one-page A4 PDF with the findings, review states, notice, model and reviewer', async () => {
    const pdf = await buildReportPdf(data, { generator: 'dentseg test' });
    expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPageCount()).toBe(1);
    const { width, height } = doc.getPage(0).getSize();
    expect([Math.round(width), Math.round(height)]).toEqual([595, 842]);
    writeFileSync(path.join(dir, 'a4.pdf'), pdf);
    if (!HAS_POPPLER) return;
    const text = pdfText(pdf);
    expect(text).toContain(RESEARCH_NOTICE);
    expect(text).toContain('panoramic-17.png');
    expect(text).toContain('teeth-fdi 2.1.0');
    expect(text).toMatch(/Reviewed:\s+by dr-ada at 2026-12-01 11:00 UTC/);
    expect(text).toContain('Caries on 36 distal; recall in 6 months.');
    expect(text).toMatch(/Teeth:\s+2 found; missing: 18, 28, 38, 48; 1 renumbered/);
    expect(text).toContain('Findings (5)');
    for (const [i, state] of STATES.entries()) {
      const f = finding(i);
      expect(text).toMatch(
        new RegExp(
          `${f.id}\\s+${f.type}\\s+${f.tooth ?? '–'}\\s+${f.areaPx}\\s+[\\d.]+\\s+${state}`,
        ),
      );
    }
  });

  it('says "not reviewed" and fits Letter', async () => {
    const pdf = await buildReportPdf(
      { ...data, reviewed: null, note: '', chart: undefined, missing: null },
      { paper: 'letter' },
    );
    const { width, height } = (await PDFDocument.load(pdf)).getPage(0).getSize();
    expect([width, height]).toEqual([612, 792]);
    if (!HAS_POPPLER) return;
    const text = pdfText(pdf, 'letter.pdf');
    expect(text).toMatch(/Reviewed:\s+not reviewed/);
    expect(text).toMatch(/Note:\s+\(none\)/);
    expect(text).not.toContain('Teeth:');
  });

  it('shrinks a long table, then cuts it with "+N more", all on the one page', async () => {
    expect(tableLayout(10, 300)).toEqual({ size: 8.5, shown: 10, more: 0 });
    expect(tableLayout(30, 300).size).toBeLessThan(8.5);
    const cut = tableLayout(500, 300);
    expect(cut.shown + cut.more).toBe(500);
    expect(cut.more).toBeGreaterThan(0);

    const many = Array.from({ length: 240 }, (_, i) => finding(i));
    const pdf = await buildReportPdf({ ...data, findings: many, note: 'x '.repeat(2000) });
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPageCount()).toBe(1);
    if (!HAS_POPPLER) return;
    const text = pdfText(pdf, 'long.pdf');
    const more = /\+(\d+) more/.exec(text);
    expect(more).not.toBeNull();
    const shown = [...text.matchAll(/^\s*f(\d+)\s/gm)].length;
    expect(shown + Number(more?.[1])).toBe(240);
    // The footer is still there: nothing ran over it.
    expect(text).toContain(RESEARCH_NOTICE);
    // Rendered at 60 dpi for a look (see the report of the change).
    const png = path.join(dir, 'long');
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-f',
      '1',
      '-l',
      '1',
      path.join(dir, 'long.pdf'),
      png,
    ]);
    expect(existsSync(`${png}-1.png`)).toBe(true);
  });

  it('embeds JPEG pictures as they are', async () => {
    const jpeg = await sharp(overlayPng).jpeg().toBuffer();
    const pdf = await buildReportPdf({ ...data, overlay: jpeg, chart: jpeg });
    expect(Buffer.from(pdf).includes(jpeg)).toBe(true);
    expect(Buffer.from(pdf).toString('latin1')).toContain('/DCTDecode');
  });

  it('replaces characters the PDF fonts cannot encode instead of failing', async () => {
    const pdf = await buildReportPdf({
      ...data,
      filename: 'Zähne 😀 שן.png',
      note: 'ok ✓\nnext line',
    });
    if (!HAS_POPPLER) return;
    const text = pdfText(pdf, 'unicode.pdf');
    expect(text).toContain('Zähne ? ??.png');
    expect(text).toContain('ok ? next line');
  });
});

describe('DICOM writers', () => {
  const common = {
    analysisId: '0b6c8f2e-1111-4222-8333-444455556666',
    now: new Date('2026-12-01T12:00:00Z'),
    softwareVersion: '0.0.0-test',
    algorithm: 'teeth-fdi 2.1.0',
  };

  it('derives a study UID from the analysis id', () => {
    expect(uidFromUuid(common.analysisId)).toBe(
      `2.25.${BigInt('0x0b6c8f2e111142228333444455556666').toString()}`,
    );
  });

  it('writes an RGB Secondary Capture that dcmjs reads back and dciodvfy accepts', () => {
    const width = 7; // odd: the pixel data needs padding
    const height = 5;
    const rgb = new Uint8Array(width * height * 3).map((_, i) => i % 251);
    const bytes = buildSecondaryCapture({ ...common, width, height, rgb });
    const ds = readDicom(bytes);
    expect(ds.SOPClassUID).toBe(SECONDARY_CAPTURE_UID);
    expect((ds._meta as Record<string, unknown>).MediaStorageSOPClassUID).toBe(
      SECONDARY_CAPTURE_UID,
    );
    expect([ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation]).toEqual([
      height,
      width,
      3,
      'RGB',
    ]);
    expect(ds.StudyInstanceUID).toBe(uidFromUuid(common.analysisId));
    expect(JSON.stringify(ds.PatientName ?? '')).not.toMatch(/\w/);
    const pixels = new Uint8Array((ds.PixelData as ArrayBuffer[])[0] as ArrayBuffer);
    expect([...pixels.subarray(0, rgb.length)]).toEqual([...rgb]);
    if (!HAS_DCIODVFY) return;
    expect(dciodvfy(bytes, 'sc.dcm').errors).toEqual([]);
  });

  it('writes a binary SEG, one frame per segment, bits packed across frames', () => {
    const width = 13; // 13 × 7 = 91 pixels: frames do not start on a byte
    const height = 7;
    const segments = [
      {
        label: 'tooth 36',
        kind: { tooth: 36 },
        review: 'suggested' as const,
        polygon: [
          [0, 0],
          [6, 0],
          [6, 7],
          [0, 7],
        ] as [number, number][],
      },
      {
        label: 'a1 caries',
        kind: { finding: 'caries' },
        review: 'added' as const,
        polygon: [
          [8, 2],
          [12, 2],
          [12, 5],
          [8, 5],
        ] as [number, number][],
      },
    ];
    const input = { ...common, width, height, segments };
    const packed = packFrames(input);
    const bit = (f: number, x: number, y: number): number => {
      const b = f * width * height + y * width + x;
      return ((packed[b >> 3] as number) >> (b & 7)) & 1;
    };
    expect(bit(0, 0, 0)).toBe(1);
    expect(bit(0, 5, 6)).toBe(1);
    expect(bit(0, 6, 0)).toBe(0);
    expect(bit(1, 8, 2)).toBe(1);
    expect(bit(1, 11, 4)).toBe(1);
    expect(bit(1, 0, 0)).toBe(0);
    let ones = 0;
    for (let b = 0; b < 2 * width * height; b++)
      ones += ((packed[b >> 3] as number) >> (b & 7)) & 1;
    expect(ones).toBe(6 * 7 + 4 * 3);

    const bytes = buildSegmentation(input);
    const ds = readDicom(bytes);
    expect(ds.SOPClassUID).toBe(SEGMENTATION_UID);
    expect(ds.Modality).toBe('SEG');
    expect(ds.SegmentationType).toBe('BINARY');
    expect([ds.Rows, ds.Columns, ds.BitsAllocated, Number(ds.NumberOfFrames)]).toEqual([
      height,
      width,
      1,
      2,
    ]);
    const segs = ds.SegmentSequence as Record<string, unknown>[];
    expect(segs.map((s) => s.SegmentLabel)).toEqual(['tooth 36', 'a1 caries']);
    expect(segs.map((s) => s.SegmentAlgorithmType)).toEqual(['AUTOMATIC', 'MANUAL']);
    expect((ds.PerFrameFunctionalGroupsSequence as unknown[]).length).toBe(2);
    if (!HAS_DCIODVFY) return;
    expect(dciodvfy(bytes, 'seg.dcm').errors).toEqual([]);
  });
});
