// FDI helpers by hand: names, types, quadrants, the 32 numbers, missing teeth, and which
// class lists make a numbering model.
import { describe, expect, it } from 'vitest';
import {
  FDI_NUMBERS,
  fdiOf,
  isPermanentFdi,
  missingTeeth,
  numberingScheme,
  positionOf,
  quadrantFor,
  quadrantOf,
  toothName,
  toothType,
} from '../../src/numbering/index.js';

describe('FDI helpers', () => {
  it('lists the 32 permanent numbers in order', () => {
    expect(FDI_NUMBERS).toHaveLength(32);
    expect(FDI_NUMBERS.slice(0, 9)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 21]);
    expect(FDI_NUMBERS.at(-1)).toBe(48);
    expect(Object.isFrozen(FDI_NUMBERS)).toBe(true);
  });

  it('names teeth as a dentist reads them', () => {
    expect(toothName(36)).toBe('lower left first molar');
    expect(toothName(18)).toBe('upper right third molar');
    expect(toothName(11)).toBe('upper right central incisor');
    expect(toothName(22)).toBe('upper left lateral incisor');
    expect(toothName(43)).toBe('lower right canine');
    expect(toothName(34)).toBe('lower left first premolar');
    expect(toothName(45)).toBe('lower right second premolar');
    expect(toothName(27)).toBe('upper left second molar');
  });

  it('types teeth for colouring, third molars apart', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((p) => toothType(30 + p))).toEqual([
      'incisor',
      'incisor',
      'canine',
      'premolar',
      'premolar',
      'molar',
      'molar',
      'third molar',
    ]);
  });

  it('splits numbers into quadrant and position and back', () => {
    expect(quadrantOf(36)).toBe(3);
    expect(positionOf(36)).toBe(6);
    expect(fdiOf(4, 6)).toBe(46);
    expect(quadrantFor(true, true)).toBe(1);
    expect(quadrantFor(true, false)).toBe(2);
    expect(quadrantFor(false, false)).toBe(3);
    expect(quadrantFor(false, true)).toBe(4);
  });

  it('rejects numbers that are not permanent teeth', () => {
    for (const bad of [0, 10, 19, 51, 85, 9, 49, 36.5]) {
      expect(isPermanentFdi(bad)).toBe(false);
    }
    expect(() => toothName(19)).toThrow(RangeError);
    expect(() => toothType(55)).toThrow(/permanent FDI/);
    expect(() => fdiOf(1, 9)).toThrow(RangeError);
  });

  it('computes the missing teeth', () => {
    const allButWisdom = FDI_NUMBERS.filter((f) => f % 10 !== 8);
    expect(missingTeeth(allButWisdom)).toEqual([18, 28, 38, 48]);
    expect(missingTeeth(FDI_NUMBERS)).toEqual([]);
    expect(missingTeeth([])).toHaveLength(32);
    expect(missingTeeth(new Set([11, 99]))).toHaveLength(31);
  });

  it('recognises a numbering model by its class names', () => {
    const ufba = ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)];
    const s = numberingScheme(ufba)!;
    expect(s.fdiOfClass[1]).toBe(11);
    expect(s.fdiOfClass[22]).toBe(36);
    expect(s.classOfFdi.get(48)).toBe(32);
    // A subset of numbers still numbers teeth.
    expect(numberingScheme(['background', '36', 'FDI-46'])?.classOfFdi.get(46)).toBe(2);
    // Not numbering: binary, a non-tooth class, a deciduous tooth, a duplicate number.
    expect(numberingScheme(['teeth'])).toBeUndefined();
    expect(numberingScheme(['background', 'tooth 11', 'caries'])).toBeUndefined();
    expect(numberingScheme(['background', 'tooth 11', 'tooth 55'])).toBeUndefined();
    expect(numberingScheme(['background', 'tooth 11', '11'])).toBeUndefined();
  });
});
