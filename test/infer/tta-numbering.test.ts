/**
 * Test-time augmentation on a numbering model: the mirrored X-ray shows the patient's right
 * where the left belongs, so the network calls a right tooth by its left twin's number; the
 * flipped output must be relabelled (FDI quadrants 1 ↔ 2, 3 ↔ 4) before it is averaged, or
 * every tooth averages its own number with its mirror's. The fake engine numbers by position
 * (image left half = the patient's right = tooth 18, right half = 28), as a model does.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESS } from '../../src/data/preprocess.js';
import { flipHorizontal, runPipeline } from '../../src/infer/pipeline.js';
import type { InferenceEngine } from '../../src/infer/index.js';
import { architectureOf, type ModelMeta } from '../../src/model/index.js';
import { normalizeUnetOptions } from '../../src/model/unet.js';

const CLASSES = ['background', 'tooth 18', 'tooth 28'];

/** Rows 8–23 hold a tooth; its number is 18 left of the middle, 28 right of it. */
const byPosition: InferenceEngine = {
  name: 'onnx',
  run(_input, batch, h, w) {
    const out = new Float32Array(batch * h * w * 3);
    for (let b = 0; b < batch; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const k = y >= 8 && y < 24 ? (x < w / 2 ? 1 : 2) : 0;
          out[((b * h + y) * w + x) * 3 + k] = 1;
        }
    return Promise.resolve(out);
  },
  dispose: () => undefined,
};

function meta(tta?: boolean): ModelMeta {
  return {
    format: 1,
    name: 'fake-fdi',
    version: '0.0.1',
    task: 'multiclass',
    classes: CLASSES,
    input: { size: [32, 32], channels: 1 },
    preprocess: { ...DEFAULT_PREPROCESS, size: [32, 32], channels: 1 },
    architecture: architectureOf(
      normalizeUnetOptions({ inputSize: [32, 32], channels: 1, classes: 3, width: 1 / 16 }),
    ),
    postprocess: { numbering: 'none', minToothPx: 4, ...(tta !== undefined ? { tta } : {}) },
  };
}

const image = {
  width: 64,
  height: 64,
  data: new Uint8Array(64 * 64).fill(90),
  bitDepth: 8 as const,
};

describe('test-time augmentation of a numbering model', () => {
  it('relabels the mirrored output: channel k lands in its mirror class', () => {
    const data = Float32Array.from([1, 0, 0, 0, 1, 0]); // two pixels, three channels
    expect([...flipHorizontal(data, 1, 1, 2, 3, [0, 2, 1])]).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('keeps the numbers of a position-true network, with the flag or the model default', async () => {
    for (const [m, opts] of [
      [meta(), { tta: true }],
      [meta(true), {}],
    ] as const) {
      const r = await runPipeline(byPosition, m, image, opts);
      expect(r.tta).toBe(true);
      // left half of the tooth rows: 18 (class 1), right half: 28 (class 2), both kept
      expect(r.mask[20 * 64 + 5]).toBe(1);
      expect(r.mask[20 * 64 + 60]).toBe(2);
      expect(r.teeth?.map((t) => t.fdi)).toEqual([18, 28]);
    }
    const off = await runPipeline(byPosition, meta(true), image, { tta: false });
    expect(off.tta).toBe(false);
    // The winner's probability (probability.png) is taken at the network's size: away from
    // class borders (image rows 16 and 48, column 32) the same values as picking it from all
    // channels restored to the X-ray's size; at a border the two interpolate differently.
    const all = off.probabilities;
    expect(off.confidence).toHaveLength(64 * 64);
    const near = (v: number, edge: number): boolean => Math.abs(v - edge) <= 2;
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) {
        if (near(y, 16) || near(y, 48) || near(x, 32)) continue;
        const i = y * 64 + x;
        expect(off.confidence[i]).toBeCloseTo(all[i * 3 + off.mask[i]!]!, 5);
      }
  });

  it('mirrors the X-ray but not its coordinate channels', async () => {
    // A network that numbers by the x coordinate it is given (channel 2): left of the
    // frame's middle 18, right of it 28. Mirrored with its coordinates, the second pass
    // would call the image's right 18 and the average would split every tooth in two.
    const byCoordinate: InferenceEngine = {
      name: 'onnx',
      run(input, batch, h, w, c) {
        expect(c).toBe(3);
        const out = new Float32Array(batch * h * w * 3);
        for (let b = 0; b < batch; b++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++) {
              const i = (b * h + y) * w + x;
              const k = y >= 8 && y < 24 ? (input[i * 3 + 1]! < 0 ? 1 : 2) : 0;
              out[i * 3 + k] = 1;
            }
        return Promise.resolve(out);
      },
      dispose: () => undefined,
    };
    const m = meta(true);
    const coords: ModelMeta = {
      ...m,
      input: { size: [32, 32], channels: 3 },
      preprocess: { ...m.preprocess, channels: 3, coordinates: true },
    };
    const r = await runPipeline(byCoordinate, coords, image, {});
    expect(r.tta).toBe(true);
    expect(r.mask[20 * 64 + 5]).toBe(1);
    expect(r.mask[20 * 64 + 60]).toBe(2);
    // Both passes agree: the winner's probability is 1, not an average of 1 and 0.
    expect(r.confidence[20 * 64 + 5]).toBeCloseTo(1, 6);
    expect(r.confidence[20 * 64 + 60]).toBeCloseTo(1, 6);
  });
});
