/**
 * The tooth gate on hand-built masks: a lesion on a tooth is kept, one far away dropped,
 * one within the margin kept, one just outside dropped (Euclidean, not a square), teeth at
 * another resolution give the same answer; the labelling the gate hands on is that of the
 * gated mask and gives the same findings; specks under the findings rule leave the mask,
 * gate or no gate; in a set, dropped regions leave the findings and the lesion mask, and a
 * set without a teeth model gates nothing and says so; the tiles a gated model need run
 * reach as far as the gate's margin.
 */
import { describe, expect, it } from 'vitest';
import { isDentsegError } from '../../src/errors.js';
import { labelComponents } from '../../src/imaging/components.js';
import {
  gateFocus,
  gateLesionMask,
  lesionFindings,
  lesionMaskRules,
  runModelSet,
  type TeethMask,
} from '../../src/infer/index.js';
import { parseModelMeta } from '../../src/model/meta.js';
import { fixedMeta } from '../helpers/fixed-model.js';
import {
  H,
  W,
  fixedEngine,
  image,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from './set-fixtures.js';

const IW = 100;
const IH = 60;

/** One tooth, x 20…39 and y 20…39, in a `w`×`h` mask (`scale` 1: the lesion grid's size). */
function teeth(scale = 1): TeethMask {
  const w = IW / scale;
  const h = IH / scale;
  const mask = new Uint8Array(w * h);
  for (let y = 20 / scale; y < 40 / scale; y++)
    for (let x = 20 / scale; x < 40 / scale; x++) mask[y * w + x] = 1;
  return { mask, width: w, height: h };
}

/** A lesion mask with 3×3 squares at the given top-left corners (and optional specks). */
function lesions(corners: readonly (readonly [number, number])[], side = 3): Uint8Array {
  const m = new Uint8Array(IW * IH);
  for (const [x0, y0] of corners)
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) m[y * IW + x] = 1;
  return m;
}

const ON = [25, 25] as const; // on the tooth
const FAR = [80, 5] as const; // far from it
const WITHIN = [45, 22] as const; // 6 px right of the tooth's edge (x = 39)
const OUTSIDE = [48, 30] as const; // 9 px right of it
const DIAGONAL = [45, 45] as const; // 6 px right and 6 px below its corner: 8.49 px

const count = (m: Uint8Array): number => m.reduce((a, v) => a + (v ? 1 : 0), 0);

describe('gateLesionMask', () => {
  it('keeps a lesion on a tooth and within the margin, drops one far away and one just outside', () => {
    const mask = lesions([ON, FAR, WITHIN, OUTSIDE, DIAGONAL]);
    const g = gateLesionMask(mask, IW, IH, teeth(), 8, 5);
    expect([g.kept, g.dropped]).toEqual([2, 3]);
    const expected = lesions([ON, WITHIN]);
    expect(Array.from(g.mask)).toEqual(Array.from(expected));
    expect(count(mask)).toBe(5 * 9); // the input is left alone
  });

  it('measures the margin as a distance (a corner 8.49 px away needs a margin of 9)', () => {
    const mask = lesions([DIAGONAL]);
    expect(gateLesionMask(mask, IW, IH, teeth(), 8, 5).dropped).toBe(1);
    const g = gateLesionMask(mask, IW, IH, teeth(), 9, 5);
    expect(g.dropped).toBe(0);
    expect(g.mask).toBe(mask); // nothing dropped: no copy
  });

  it('margin 0: a lesion must overlap a tooth; touching its edge from outside is not enough', () => {
    const beside = [40, 25] as const; // x 40…42, the tooth ends at 39
    const over = [38, 30] as const; // x 38…40
    const g = gateLesionMask(lesions([beside, over]), IW, IH, teeth(), 0, 5);
    expect([g.kept, g.dropped]).toEqual([1, 1]);
    expect(g.mask[25 * IW + 41]).toBe(0);
    expect(g.mask[31 * IW + 39]).toBe(1);
  });

  it('clears specks under minAreaPx, on a tooth or not, without counting them', () => {
    const mask = lesions([FAR], 2); // 4 px
    for (const [x, y] of [ON, [60, 50]]) mask[y! * IW + x!] = 1; // 1 px each
    const g = gateLesionMask(mask, IW, IH, teeth(), 0, 5);
    expect([g.kept, g.dropped, count(g.mask), g.components.count]).toEqual([0, 0, 0, 0]);
    expect(count(mask)).toBe(6); // the input is left as it was
  });

  it("hands on the gated mask's labelling: what labelling it again gives, the same findings", () => {
    const mask = lesions([ON, FAR, WITHIN, OUTSIDE, DIAGONAL]);
    mask[0] = 1; // a speck before every region in raster order: cleared, the rest renumbered
    const g = gateLesionMask(mask, IW, IH, teeth(), 8, 5);
    expect(g.dropped).toBe(3);
    expect(g.components).toEqual(labelComponents(g.mask, IW, IH));
    const probs = Float32Array.from(g.mask, (v, i) => (v ? 0.5 + (i % 7) / 20 : 0.1));
    const again = lesionFindings(g.mask, probs, IW, IH, 'caries', 'm', 5);
    expect(
      lesionFindings(g.mask, probs, IW, IH, 'caries', 'm', 5, undefined, g.components),
    ).toEqual(again);
    expect(again).toHaveLength(2);
  });

  it('teeth at half the resolution: coordinates mapped, the same answer', () => {
    const mask = lesions([ON, FAR, WITHIN, OUTSIDE, DIAGONAL]);
    const full = gateLesionMask(mask, IW, IH, teeth(), 8, 5);
    const half = gateLesionMask(mask, IW, IH, teeth(2), 8, 5);
    expect(Array.from(half.mask)).toEqual(Array.from(full.mask));
  });
});

describe('lesionMaskRules', () => {
  const gated = fixedMeta({
    task: 'binary',
    classes: ['caries'],
    size: [IH, IW],
    postprocess: { lesion: 'caries', toothGate: { marginPx: 8 } },
  });
  const plain = fixedMeta({ task: 'binary', classes: ['caries'], size: [IH, IW] });
  it('a model asking for no gate: regions kept, no report', () => {
    const mask = lesions([FAR]);
    const r = lesionMaskRules(plain, mask, IW, IH, 5, teeth());
    expect(r.mask).toBe(mask);
    expect(r.report).toBeUndefined();
    expect(r.components).toEqual(labelComponents(mask, IW, IH));
  });
  it('without teeth: not applied, and why', () => {
    const mask = lesions([FAR]);
    const r = lesionMaskRules(gated, mask, IW, IH, 5, undefined);
    expect(r.mask).toBe(mask);
    expect(r.report).toEqual({ applied: false, reason: 'no teeth model in the set' });
  });
  it('with teeth: applied, margin and dropped regions', () => {
    const r = lesionMaskRules(gated, lesions([ON, FAR]), IW, IH, 5, teeth());
    expect(r.report).toEqual({ applied: true, marginPx: 8, dropped: 1 });
    expect(count(r.mask)).toBe(9);
  });
  it('specks under the findings rule leave the mask with a gate and without one', () => {
    // A 3×3 region (9 px) and a 2×2 speck (4 px), both on the tooth; the rule at 5 px.
    const mask = lesions([ON]);
    for (const [x, y] of [
      [30, 30],
      [31, 30],
      [30, 31],
      [31, 31],
    ])
      mask[y! * IW + x!] = 1;
    for (const [meta, t] of [
      [plain, undefined],
      [gated, undefined],
      [gated, teeth()],
    ] as const) {
      const r = lesionMaskRules(meta, mask, IW, IH, 5, t);
      expect(count(r.mask)).toBe(9);
      expect(r.components.count).toBe(1);
      expect(r.components).toEqual(labelComponents(r.mask, IW, IH));
    }
    // A rule of 4 px keeps both.
    expect(count(lesionMaskRules(plain, mask, IW, IH, 4, undefined).mask)).toBe(13);
  });
});

describe('gateFocus', () => {
  it("a gated model looks at the teeth as far as the gate's margin", () => {
    const meta = fixedMeta({
      task: 'binary',
      classes: ['caries'],
      size: [IH, IW],
      postprocess: { lesion: 'caries', toothGate: { marginPx: 12 } },
    });
    const t = teeth(2);
    expect(gateFocus(meta, t)).toEqual({ mask: t.mask, width: 50, height: 30, reachPx: 12 });
    expect(gateFocus(meta, undefined)).toBeUndefined();
  });
  it('a model without a gate runs every tile', () => {
    const plain = fixedMeta({ task: 'binary', classes: ['caries'], size: [IH, IW] });
    expect(gateFocus(plain, teeth())).toBeUndefined();
  });
});

describe('the tooth gate in a model set', () => {
  // The fixture's lesion "outside" lies ~34 px from the nearest tooth; the others on 36.
  const gatedLesion = (marginPx: number) =>
    fixedMeta({
      name: 'gated-caries',
      task: 'binary',
      classes: ['caries'],
      size: [H, W],
      postprocess: { lesion: 'caries', minAreaPx: 5, toothGate: { marginPx } },
    });

  it('drops the lesion off the teeth from findings, summary and mask; says so in models', async () => {
    const r = await runModelSet(
      [
        { meta: numberingMeta(), engine: fixedEngine(numberingProbs()) },
        { meta: gatedLesion(24), engine: fixedEngine(lesionProbs()) },
      ],
      image,
      { withholdIfNotPanoramic: false },
    );
    const found = r.findings.filter((f) => f.type === 'caries');
    expect(found.map((f) => f.tooth)).toEqual([36, 36, 36]);
    expect(r.lesions).toEqual({ caries: { count: 3, teeth: [36] } });
    expect(count(r.lesionRuns[0]!.result.mask)).toBe(3 * 36);
    expect(r.runs[1]!.result.mask).toBe(r.lesionRuns[0]!.result.mask);
    expect(r.models[1]!.toothGate).toEqual({ applied: true, marginPx: 24, dropped: 1 });
    expect(r.findings.map((f) => f.id)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);
  });

  it('a margin wide enough keeps it', async () => {
    const r = await runModelSet(
      [
        { meta: numberingMeta(), engine: fixedEngine(numberingProbs()) },
        { meta: gatedLesion(40), engine: fixedEngine(lesionProbs()) },
      ],
      image,
      { withholdIfNotPanoramic: false },
    );
    expect(r.lesions.caries?.count).toBe(4);
    expect(r.models[1]!.toothGate).toEqual({ applied: true, marginPx: 40, dropped: 0 });
  });

  it('a set without a teeth model leaves every lesion, and says the gate did not run', async () => {
    const r = await runModelSet(
      [{ meta: gatedLesion(0), engine: fixedEngine(lesionProbs()) }],
      image,
      { withholdIfNotPanoramic: false },
    );
    expect(r.lesions.caries?.count).toBe(4);
    expect(count(r.lesionRuns[0]!.result.mask)).toBe(4 * 36);
    expect(r.models[0]!.toothGate).toEqual({
      applied: false,
      reason: 'no teeth model in the set',
    });
  });
});

describe('postprocess.toothGate in dentseg.json', () => {
  const withGate = (toothGate: unknown): unknown => ({
    format: 1,
    name: 'm',
    version: '1',
    task: 'binary',
    classes: ['caries'],
    input: { size: [64, 64], channels: 1 },
    preprocess: { size: [64, 64], channels: 1, normalise: 'unit' },
    architecture: { encoder: 'vgg16', width: 1, decoderFilters: [], batchNorm: false, dropout: 0 },
    postprocess: { lesion: 'caries', toothGate },
  });

  it('accepts integer margins 0…256', () => {
    for (const marginPx of [0, 24, 256])
      expect(
        parseModelMeta(withGate({ marginPx }), 'm/dentseg.json').postprocess?.toothGate,
      ).toEqual({ marginPx });
  });

  it.each([
    [{ marginPx: -1 }, 'postprocess.toothGate.marginPx'],
    [{ marginPx: 257 }, 'postprocess.toothGate.marginPx'],
    [{ marginPx: 1.5 }, 'postprocess.toothGate.marginPx'],
    [{ marginPx: '8' }, 'postprocess.toothGate.marginPx'],
    [{}, 'postprocess.toothGate.marginPx'],
    [{ marginPx: 8, extra: 1 }, 'postprocess.toothGate'],
    [8, 'postprocess.toothGate'],
  ])('refuses %j naming %s', (gate, key) => {
    let err: unknown;
    try {
      parseModelMeta(withGate(gate), 'm/dentseg.json');
    } catch (e) {
      err = e;
    }
    expect(isDentsegError(err) && err.code).toBe('E_MODEL_INVALID');
    expect((err as Error).message).toContain(`"${key}"`);
  });
});
