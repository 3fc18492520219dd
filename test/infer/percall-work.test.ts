// Work `segment` does outside the forward pass, counted: an input whose results are withheld
// (not a panoramic) gets no findings or teeth worked out at all, and an image's 512² quality
// estimate is taken once, by the input check, then reused by `auto` enhancement.
import { describe, expect, it, vi } from 'vitest';
import * as findings from '../../src/imaging/findings.js';
import * as quality from '../../src/imaging/quality.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { segment, type LoadedModel } from '../../src/infer/index.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import * as teeth from '../../src/numbering/teeth.js';
import { fixedMeta } from '../helpers/fixed-model.js';

vi.mock('../../src/imaging/findings.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/imaging/findings.js')>();
  return { ...m, findingsFor: vi.fn(m.findingsFor) };
});
vi.mock('../../src/numbering/teeth.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/numbering/teeth.js')>();
  return { ...m, describeTeeth: vi.fn(m.describeTeeth) };
});
vi.mock('../../src/imaging/quality.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/imaging/quality.js')>();
  return {
    ...m,
    estimateQualityUnit: vi.fn(m.estimateQualityUnit),
    imageQualityEstimate: vi.fn(m.imageQualityEstimate),
  };
});

/** A model of `classes` that answers `p` for class 1 everywhere (no weights, no backend). */
function fixedModel(opts: {
  size: number;
  classes: readonly string[];
  enhance?: string;
}): LoadedModel {
  const k = opts.classes.length > 1 ? opts.classes.length : 1;
  const meta = fixedMeta({
    task: k === 1 ? 'binary' : 'multiclass',
    classes: opts.classes,
    size: [opts.size, opts.size],
    preprocess: {
      aspect: 'stretch',
      ...(opts.enhance !== undefined ? { enhance: opts.enhance } : {}),
    },
  });
  return {
    meta,
    dir: 'fixed',
    dispose: () => {},
    engine: {
      name: 'tfjs',
      dispose: () => {},
      run: async (_x, n, h, w) => {
        const out = new Float32Array(n * h * w * k);
        for (let i = 0; i < n * h * w; i++) {
          if (k === 1) out[i] = 0.9;
          else out[i * k + 1 + (i % (k - 1))] = 1; // every tooth number somewhere
        }
        return out;
      },
    },
  };
}

/** A flat grey image: the check calls it blank, i.e. not a panoramic. */
const blank = (w: number, h: number): GreyImage => ({
  width: w,
  height: h,
  bitDepth: 8,
  data: new Uint8Array(w * h).fill(90),
});

/** An image big enough to be shrunk to 512²: a gradient with a little noise. */
function textured(w: number, h: number): GreyImage {
  const data = new Uint8Array(w * h);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = Math.min(255, ((i % w) * 200) / w + ((s >>> 24) % 3));
  }
  return { width: w, height: h, bitDepth: 8, data };
}

describe('segment: withheld results are not worked out', () => {
  it('a binary model: findingsFor runs only when the results are kept', async () => {
    const model = fixedModel({ size: 64, classes: ['tooth'] });
    const spy = vi.mocked(findings.findingsFor);
    spy.mockClear();
    const withheld = await segment(model, blank(300, 150), { withholdIfNotPanoramic: true });
    expect(withheld.quality?.panoramic).toBe(false);
    expect(withheld.withheld).toBe(true);
    expect(withheld.findings).toEqual([]);
    expect(spy).not.toHaveBeenCalled();
    // The mask is still made.
    expect(withheld.mask.every((v) => v === 1)).toBe(true);
    const kept = await segment(model, blank(300, 150), { withholdIfNotPanoramic: false });
    expect(kept.withheld).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(kept.findings.length).toBeGreaterThan(0);
  });

  it('a numbering model: no teeth described, the lists present and empty', async () => {
    const model = fixedModel({
      size: 64,
      classes: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
    });
    const describe = vi.mocked(teeth.describeTeeth);
    const find = vi.mocked(findings.findingsFor);
    describe.mockClear();
    find.mockClear();
    const r = await segment(model, blank(300, 150), { withholdIfNotPanoramic: true });
    expect([r.findings, r.teeth, r.missing]).toEqual([[], [], []]);
    expect(typeof r.chart).toBe('function'); // an empty chart can still be drawn
    expect(describe).not.toHaveBeenCalled();
    expect(find).not.toHaveBeenCalled();
    const kept = await segment(model, blank(300, 150));
    expect(describe).toHaveBeenCalledTimes(1);
    expect(kept.teeth?.length).toBeGreaterThan(0);
  });
});

describe('segment: one quality estimate per image', () => {
  /** 512² estimates taken since the spies were cleared, however they were reached. */
  const estimates512 = (): number =>
    vi.mocked(quality.imageQualityEstimate).mock.calls.length +
    vi.mocked(quality.estimateQualityUnit).mock.calls.filter(([, w, h]) => w === 512 && h === 512)
      .length;

  it('the check takes it and auto enhancement of a 512² model reuses it', async () => {
    const model = fixedModel({ size: 512, classes: ['tooth'], enhance: 'auto' });
    vi.mocked(quality.imageQualityEstimate).mockClear();
    vi.mocked(quality.estimateQualityUnit).mockClear();
    const r = await segment(model, textured(1400, 700));
    expect(r.quality).toBeDefined();
    expect(estimates512()).toBe(1);
    // Without the check (as evaluate runs), the pipeline takes the same estimate itself,
    // so auto decides alike and the mask is the same.
    vi.mocked(quality.imageQualityEstimate).mockClear();
    vi.mocked(quality.estimateQualityUnit).mockClear();
    const unchecked = await segment(model, textured(1400, 700), { quality: false });
    expect(unchecked.quality).toBeUndefined();
    expect(estimates512()).toBe(1);
    expect(unchecked.mask).toEqual(r.mask);
  });
});
