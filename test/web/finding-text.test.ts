// How the page words findings, in Node: the sentence a dentist reads for a lesion, areas in
// mm² only with a DICOM's pixel spacing, and the chart's marks per tooth (colours per type:
// test/infer/palette.test.ts).
import { describe, expect, it } from 'vitest';
import {
  areaText,
  findingMarks,
  findingTitle,
  isLesion,
  lesionModelNames,
  type FindingText,
} from '../../src/web/app/finding-text.js';

const caries = (over: Partial<FindingText> = {}): FindingText => ({
  class: 'caries',
  type: 'caries',
  tooth: 36,
  surface: 'distal',
  score: 0.8234,
  areaPx: 46,
  review: 'suggested',
  model: 'caries',
  ...over,
});
const LESION_MODELS = lesionModelNames([
  { name: 'teeth-fdi', role: 'teeth' },
  { name: 'caries', role: 'lesion' },
]);

describe('finding text', () => {
  it('reads "Caries — tooth 36 (distal), confidence 0.82"', () => {
    expect(findingTitle(caries(), true)).toBe('Caries — tooth 36 (distal), confidence 0.82');
    expect(findingTitle(caries({ surface: null }), true)).toBe(
      'Caries — tooth 36, confidence 0.82',
    );
    expect(findingTitle(caries({ tooth: null, surface: null }), true)).toBe(
      'Caries — tooth not identified, confidence 0.82',
    );
  });

  it('tells lesions by their model; teeth regions and drawn findings keep their words', () => {
    const tooth36: FindingText = {
      class: 'tooth 36',
      type: 'tooth 36',
      tooth: 36,
      areaPx: 9,
      score: 0.9,
    };
    const teethRegion = { ...tooth36, model: 'teeth-fdi' };
    expect(isLesion(caries(), LESION_MODELS)).toBe(true);
    expect(isLesion(teethRegion, LESION_MODELS)).toBe(false);
    // Stored before model sets: no model, so not a lesion.
    expect(isLesion(tooth36, LESION_MODELS)).toBe(false);
    // A numbering model's region is named after its tooth already.
    expect(findingTitle(teethRegion, false)).toBe('tooth 36');
    expect(findingTitle({ class: 'teeth', type: 'teeth', tooth: null, areaPx: 9 }, false)).toBe(
      'teeth',
    );
    const drawn = caries({ score: undefined, surface: null, review: 'added', model: undefined });
    expect(isLesion(drawn, LESION_MODELS)).toBe(true);
    expect(findingTitle(drawn, true)).toBe('Caries — tooth 36');
  });

  it('gives mm² only with a pixel spacing, else pixels', () => {
    expect(areaText(1234)).toBe('1,234 px');
    expect(areaText(1234, [0.1, 0.1])).toBe('12.34 mm²');
    expect(areaText(100, [0.1, 0.2])).toBe('2.00 mm²');
    expect(areaText(50, [0, 0.1])).toBe('50 px');
  });

  it('marks teeth with their lesion types, leaving out rejected and tooth-less ones', () => {
    const marks = findingMarks(
      [
        caries(),
        caries({ tooth: 36, type: 'abscess', class: 'abscess' }),
        caries({ tooth: 36 }),
        caries({ tooth: 11, review: 'rejected' }),
        caries({ tooth: null }),
        caries({ tooth: 21, score: undefined, review: 'added', model: undefined }),
        { class: 'tooth 46', type: 'tooth 46', tooth: 46, areaPx: 5, model: 'teeth-fdi' },
      ],
      LESION_MODELS,
    );
    expect([...marks.entries()]).toEqual([
      [36, ['abscess', 'caries']],
      [21, ['caries']],
    ]);
  });
});
