/**
 * The model set's core: which models make a set, the bundled default set, and one run of a
 * numbering model plus a lesion model on one image — each lesion attached to the tooth it
 * overlaps most and to a surface, findings with stable ids, each model run once.
 */
import { describe, expect, it } from 'vitest';
import {
  bundledSetNames,
  checkModelSet,
  lesionFindings,
  modelRole,
  runModelSet,
  setRoles,
  surfaceOf,
  toothAt,
  toothOfRegion,
  type TeethMap,
} from '../../src/infer/index.js';
import { isDentsegError } from '../../src/errors.js';
import { numberingScheme } from '../../src/numbering/index.js';
import {
  H,
  LESIONS,
  W,
  binaryTeethMeta,
  fixedEngine,
  image,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
  TOOTH_36,
  TOOTH_46,
} from './set-fixtures.js';

/** The crafted teeth as a class map with FDI classes (1 = 46, 2 = 36). */
function teethMap(): TeethMap {
  const p = numberingProbs();
  const mask = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) mask[i] = p[i * 3 + 1] ? 1 : p[i * 3 + 2] ? 2 : 0;
  return {
    mask,
    width: W,
    height: H,
    scheme: numberingScheme(['background', 'tooth 46', 'tooth 36'])!,
  };
}

function lesionMask(): Uint8Array {
  const p = lesionProbs();
  return p.map((v) => (v >= 0.5 ? 1 : 0)) as unknown as Uint8Array;
}

describe('which models make a set', () => {
  it('a lesion model is one with postprocess.lesion; the rest are teeth models', () => {
    expect(modelRole(lesionMeta())).toBe('lesion');
    expect(modelRole(numberingMeta())).toBe('teeth');
    expect(modelRole(binaryTeethMeta())).toBe('teeth');
  });

  it('a binary teeth model beside a numbering model is its outline, wherever it stands', () => {
    const set = [binaryTeethMeta(), lesionMeta(), numberingMeta()];
    expect(setRoles(set)).toEqual(['outline', 'lesion', 'teeth']);
    expect(() => checkModelSet(set)).not.toThrow();
    // Alone, a binary teeth model is the teeth model.
    expect(setRoles([binaryTeethMeta(), lesionMeta()])).toEqual(['teeth', 'lesion']);
  });

  it('refuses two teeth models that are no numbering/outline pair, a multi-class lesion model and a finding type twice', () => {
    expect(() => checkModelSet([binaryTeethMeta(), binaryTeethMeta()], ['a', 'b'])).toThrow(
      /at most one teeth model .*but a and b/,
    );
    expect(() => checkModelSet([numberingMeta(), numberingMeta()], ['a', 'b'])).toThrow(
      /but a and b/,
    );
    expect(() =>
      checkModelSet([numberingMeta(), binaryTeethMeta(), binaryTeethMeta()], ['a', 'b', 'c']),
    ).toThrow(/but a and b and c/);
    const multi = { ...numberingMeta(), postprocess: { lesion: 'caries' } };
    expect(() => checkModelSet([multi])).toThrow(/must be binary/);
    expect(() => checkModelSet([lesionMeta(), lesionMeta('caries', 'other')])).toThrow(
      /two lesion models find caries/,
    );
    expect(() => checkModelSet([])).toThrow(/at least one/);
    // Each refusal says what to change, not only what is wrong.
    for (const metas of [[multi], [lesionMeta(), lesionMeta('caries', 'other')], []]) {
      let hint: string | undefined;
      try {
        checkModelSet(metas);
      } catch (err) {
        hint = isDentsegError(err) ? err.hint : undefined;
      }
      expect(hint, JSON.stringify(metas.map((m) => m.name))).toMatch(/\w/);
    }
    expect(() =>
      checkModelSet([numberingMeta(), lesionMeta(), lesionMeta('calculus', 'c')]),
    ).not.toThrow();
  });

  it('the bundled set: the numbering model outlined by the binary one, plus caries when present', () => {
    const has = (names: string[]) => (n: string) => names.includes(n);
    expect(bundledSetNames(has(['teeth-binary', 'teeth-fdi']))).toEqual([
      'teeth-fdi',
      'teeth-binary',
    ]);
    expect(bundledSetNames(has(['teeth-binary']))).toEqual(['teeth-binary']);
    expect(bundledSetNames(has(['teeth-fdi', 'caries']))).toEqual(['teeth-fdi', 'caries']);
    expect(bundledSetNames(has(['teeth-binary', 'teeth-fdi', 'caries']))).toEqual([
      'teeth-fdi',
      'teeth-binary',
      'caries',
    ]);
    expect(bundledSetNames(has([]))).toEqual([]);
  });
});

describe('tooth attachment on a crafted pair of masks', () => {
  it('a lesion gets the tooth it overlaps most, and null outside the teeth', () => {
    const teeth = teethMap();
    const [x, y] = LESIONS.mesial36;
    expect(toothOfRegion([y * W + x, y * W + x + 1], teeth)).toBe(36);
    expect(toothOfRegion([5 * W + 95], teeth)).toBeNull();
    // Straddling 46 (2 px) and the gap (1 px, listed first): 46 — overlap, not one pixel.
    expect(toothOfRegion([50 * W + 80, 50 * W + 78, 50 * W + 79], teeth)).toBe(46);
    // The single-point rule is the same rule.
    expect(toothAt([x, y], teeth.mask, W, H, ['background', 'tooth 46', 'tooth 36'])).toBe(36);
    expect(toothAt([x, y], teeth.mask, W, H, ['caries'])).toBeNull();
  });

  it('the surface from the position within the tooth: mesial towards the midline, occlusal at the crown', () => {
    const teeth = teethMap();
    const found = lesionFindings(lesionMask(), lesionProbs(), W, H, 'caries', 'm', 5, teeth);
    const at = (k: keyof typeof LESIONS) =>
      found.find((f) => f.bbox[0] === LESIONS[k][0] && f.bbox[1] === LESIONS[k][1]);
    // 36 is on the patient's left (image right): its mesial side faces the image's left.
    expect(at('mesial36')).toMatchObject({
      tooth: 36,
      surface: 'mesial',
      type: 'caries',
      areaPx: 36,
    });
    expect(at('distal36')).toMatchObject({ tooth: 36, surface: 'distal' });
    expect(at('occlusal36')).toMatchObject({ tooth: 36, surface: 'occlusal' });
    expect(at('outside')).toMatchObject({ tooth: null, surface: null });
    for (const f of found) expect(f.score).toBeCloseTo(0.9, 3);
    // Mirrored on 46 (image left): the side towards the image's right is mesial there.
    expect(surfaceOf(46, [78, 45], [76, 43, 4, 4], teeth)).toBe('mesial');
    expect(surfaceOf(46, [42, 45], [40, 43, 4, 4], teeth)).toBe('distal');
    // Mid-root, mid-width: not decidable.
    expect(surfaceOf(36, [140, 90], [138, 88, 4, 4], teeth)).toBeNull();
  });

  it('a lesion mostly beside a tooth, its centre in the gap, still gets that tooth', () => {
    // x 76…85 on rows 50…52: 4 columns on 46 (x ≤ 79), 6 in the gap; centre x 80.5.
    const mask = new Uint8Array(W * H);
    for (let y = 50; y <= 52; y++) for (let x = 76; x <= 85; x++) mask[y * W + x] = 1;
    const [f] = lesionFindings(mask, new Float32Array(W * H), W, H, 'caries', 'm', 5, teethMap());
    expect(
      toothAt(f!.centroid, teethMap().mask, W, H, ['background', 'tooth 46', 'tooth 36']),
    ).toBeNull();
    expect(f).toMatchObject({ tooth: 46, surface: 'mesial', score: 0 });
  });

  it('without a numbering model a lesion has no tooth', () => {
    const found = lesionFindings(lesionMask(), lesionProbs(), W, H, 'caries', 'm', 5);
    expect(found).toHaveLength(4);
    expect(found.every((f) => f.tooth === null && f.surface === null)).toBe(true);
  });
});

describe('runModelSet', () => {
  it('runs each model once on the same image and combines teeth and lesions', async () => {
    const fdi = fixedEngine(numberingProbs());
    const caries = fixedEngine(lesionProbs());
    const r = await runModelSet(
      [
        { meta: numberingMeta(), engine: fdi },
        { meta: lesionMeta(), engine: caries },
      ],
      image,
      { withholdIfNotPanoramic: false },
    );
    expect([fdi.calls, caries.calls]).toEqual([1, 1]);
    expect(r.quality).toBeDefined(); // checked once, for the set
    expect(r.models).toEqual([
      { name: 'fixed-fdi', version: '0.0.1', task: 'multiclass', engine: 'fixed', role: 'teeth' },
      {
        name: 'fixed-caries',
        version: '0.0.1',
        task: 'binary',
        engine: 'fixed',
        role: 'lesion',
        type: 'caries',
      },
    ]);
    expect(r.teeth?.map((t) => t.fdi)).toEqual([36, 46]);
    expect(r.missing).toHaveLength(30);
    // The union: both teeth, 0/1.
    expect(r.teethUnion?.reduce((a, v) => a + v, 0)).toBe(2 * 40 * 60);
    // Teeth model's findings first (its classes), then the lesions; ids in that order.
    expect(r.findings.map((f) => f.id)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
    const teethF = r.findings.filter((f) => f.model === 'fixed-fdi');
    expect(teethF.map((f) => [f.type, f.tooth])).toEqual([
      ['tooth 46', 46],
      ['tooth 36', 36],
    ]);
    const lesions = r.findings.filter((f) => f.type === 'caries');
    expect(lesions.map((f) => f.tooth)).toEqual([null, 36, 36, 36]);
    expect(lesions.map((f) => f.surface)).toEqual([null, 'occlusal', 'mesial', 'distal']);
    expect(r.lesions).toEqual({ caries: { count: 4, teeth: [36] } });
  });

  it('withholds findings, teeth and missing for an input that is not a panoramic', async () => {
    const r = await runModelSet(
      [
        { meta: numberingMeta(), engine: fixedEngine(numberingProbs()) },
        { meta: lesionMeta(), engine: fixedEngine(lesionProbs()) },
      ],
      image,
      { withholdIfNotPanoramic: true },
    );
    expect(r.quality?.panoramic).toBe(false); // a flat grey square
    expect(r.withheld).toBe(true);
    expect([r.findings, r.teeth, r.missing]).toEqual([[], [], []]);
    expect(r.lesions).toEqual({ caries: { count: 0, teeth: [] } });
  });

  it('a numbering model within an outline: the outline draws the teeth, the numbers come from the numbering model', async () => {
    // The outline: 46 two pixels wider on its left (within reach of its number), 36 cut to
    // its left half, and a blob far from any tooth (no number reaches it).
    const outline = new Float32Array(W * H);
    const fill = (x0: number, y0: number, w: number, h: number): void => {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) outline[y * W + x] = 0.9;
    };
    fill(TOOTH_46.x - 2, TOOTH_46.y, TOOTH_46.w + 2, TOOTH_46.h);
    fill(TOOTH_36.x, TOOTH_36.y, TOOTH_36.w / 2, TOOTH_36.h);
    fill(100, 5, 6, 6);
    const fdi = fixedEngine(numberingProbs());
    const teeth = fixedEngine(outline);
    const r = await runModelSet(
      [
        { meta: binaryTeethMeta(), engine: teeth },
        { meta: numberingMeta(), engine: fdi },
        { meta: lesionMeta(), engine: fixedEngine(lesionProbs()) },
      ],
      image,
      { withholdIfNotPanoramic: false },
    );
    expect([fdi.calls, teeth.calls]).toEqual([1, 1]);
    expect(r.models.map((m) => [m.name, m.role])).toEqual([
      ['fixed-teeth', 'outline'],
      ['fixed-fdi', 'teeth'],
      ['fixed-caries', 'lesion'],
    ]);
    expect(r.teethRun?.meta.name).toBe('fixed-fdi');
    const area = (fdiNo: number) => r.teeth?.find((t) => t.fdi === fdiNo)?.areaPx;
    expect(area(46)).toBe((TOOTH_46.w + 2) * TOOTH_46.h);
    expect(area(36)).toBe((TOOTH_36.w / 2) * TOOTH_36.h);
    // The union is the numbered outline: the far blob is no tooth.
    expect(r.teethUnion?.reduce((a, v) => a + v, 0)).toBe(
      (TOOTH_46.w + 2) * TOOTH_46.h + (TOOTH_36.w / 2) * TOOTH_36.h,
    );
    // The teeth model's findings describe the outlined teeth; lesions on 36's cut half lose it.
    const teethF = r.findings.filter((f) => f.model === 'fixed-fdi');
    expect(teethF.map((f) => [f.tooth, f.areaPx])).toEqual([
      [46, (TOOTH_46.w + 2) * TOOTH_46.h],
      [36, (TOOTH_36.w / 2) * TOOTH_36.h],
    ]);
    const lesions = r.findings.filter((f) => f.type === 'caries');
    expect(lesions.find((f) => f.bbox[0] === LESIONS.mesial36[0])?.tooth).toBe(36);
  });

  it("an outline takes its numbering model's mirrored pass, not its own default", async () => {
    // Engines that answer any batch and record the batch sizes they were asked for.
    const batches = (probs: Float32Array) => {
      const seen: number[] = [];
      const engine = {
        name: 'fixed',
        dispose: () => {},
        run: async (_x: Float32Array, n: number) => {
          seen.push(n);
          const out = new Float32Array(probs.length * n);
          for (let b = 0; b < n; b++) out.set(probs, b * probs.length);
          return out;
        },
      };
      return { engine, seen };
    };
    const symmetric = new Float32Array(W * H).fill(0.9);
    for (const tta of [true, false]) {
      const fdi = batches(numberingProbs());
      const outline = batches(symmetric);
      await runModelSet(
        [
          {
            meta: { ...numberingMeta(), postprocess: { numbering: 'none', minToothPx: 10, tta } },
            engine: fdi.engine,
          },
          { meta: { ...binaryTeethMeta(), postprocess: { tta: !tta } }, engine: outline.engine },
        ],
        image,
        { withholdIfNotPanoramic: false },
      );
      expect([fdi.seen, outline.seen]).toEqual(tta ? [[2], [2]] : [[1], [1]]);
    }
  });

  it('a binary teeth model: union as its mask, lesions without tooth', async () => {
    const teethProbs = new Float32Array(W * H);
    const p = numberingProbs();
    for (let i = 0; i < W * H; i++) teethProbs[i] = p[i * 3]! ? 0.1 : 0.8;
    const r = await runModelSet(
      [
        { meta: binaryTeethMeta(), engine: fixedEngine(teethProbs) },
        { meta: lesionMeta(), engine: fixedEngine(lesionProbs()) },
      ],
      image,
      { withholdIfNotPanoramic: false },
    );
    expect(r.teeth).toBeUndefined();
    expect(r.findings.filter((f) => f.type === 'teeth').map((f) => f.score)).toEqual([0.8, 0.8]);
    expect(r.findings.filter((f) => f.type === 'caries').every((f) => f.tooth === null)).toBe(true);
  });
});
