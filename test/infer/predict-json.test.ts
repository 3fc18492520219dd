// The pieces both predict writers (one model, a model set) share: the summaries they put in
// X.json and summary.csv, and the segmentation options they take from the batch's, against
// hand-computed cases: one definition, so the two writers agree.
import { describe, expect, it } from 'vitest';
import {
  areaPercent,
  dicomSummary,
  maskArea,
  perClassSummary,
  presentClasses,
} from '../../src/infer/predict-json.js';
import type { DicomInfo } from '../../src/imaging/types.js';
import { segmentOptionsOf } from '../../src/infer/predict-types.js';

describe('predict-json', () => {
  it('areaPercent rounds to 3 decimals of a percent', () => {
    expect(areaPercent(1, 3)).toBe(33.333);
    expect(areaPercent(2, 3)).toBe(66.667);
    expect(areaPercent(0, 7)).toBe(0);
    expect(areaPercent(7, 7)).toBe(100);
  });

  it('maskArea counts every non-zero pixel, whatever its class', () => {
    expect(maskArea(new Uint8Array([0, 1, 0, 255, 17, 0]))).toBe(3);
    expect(maskArea(new Uint8Array(0))).toBe(0);
  });

  it('presentClasses lists each class once, in class-index order', () => {
    const regions = [
      { class: '36', classIndex: 20, areaPx: 5 },
      { class: '11', classIndex: 1, areaPx: 3 },
      { class: '36', classIndex: 20, areaPx: 2 },
    ];
    expect(presentClasses(regions)).toEqual(['11', '36']);
    expect(presentClasses([])).toEqual([]);
  });

  it('perClassSummary sums regions and areas per class', () => {
    const regions = [
      { class: 'tooth', classIndex: 1, areaPx: 10 },
      { class: 'tooth', classIndex: 1, areaPx: 20 },
      { class: 'caries', classIndex: 2, areaPx: 1 },
    ];
    expect(perClassSummary(regions, 300)).toEqual({
      tooth: { regions: 2, areaPx: 30, areaPct: 10 },
      caries: { regions: 1, areaPx: 1, areaPct: 0.333 },
    });
  });

  it('dicomSummary keeps how the file was read, never its patient tags', () => {
    const info: DicomInfo = {
      transferSyntax: '1.2.840.10008.1.2.1',
      modality: undefined,
      photometric: 'MONOCHROME2',
      bitsStored: 12,
      window: [2048, 4096],
      patientTags: { PatientName: 'Doe^Jane' },
    };
    expect(dicomSummary(info)).toEqual({
      transferSyntax: '1.2.840.10008.1.2.1',
      modality: null,
      photometric: 'MONOCHROME2',
      bitsStored: 12,
      window: [2048, 4096],
    });
  });
});

describe('segmentOptionsOf', () => {
  const base = { inputs: [], outputDir: 'out', threshold: 0.4, tta: true, concurrency: 1 };
  it('withholds a non-panoramic input unless --force, and passes the minimum area only when given', () => {
    expect(segmentOptionsOf({ ...base, keepDicomTags: false })).toEqual({
      threshold: 0.4,
      tta: true,
      withholdIfNotPanoramic: true,
    });
    expect(segmentOptionsOf({ ...base, keepDicomTags: false, force: true, minAreaPx: 12 })).toEqual(
      { threshold: 0.4, tta: true, minAreaPx: 12, withholdIfNotPanoramic: false },
    );
  });
});
