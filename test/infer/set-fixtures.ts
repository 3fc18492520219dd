/**
 * Fixed-output models for the model-set tests: a "numbering" model whose class map is two
 * crafted teeth (36 and 46, lower left and lower right first molars) and a lesion model
 * whose mask is crafted squares — so that which tooth and surface a lesion gets is known
 * by construction, without training anything.
 */
import type { ModelMeta } from '../../src/model/index.js';
import type { InferenceEngine, LoadedModel } from '../../src/infer/index.js';
import { fixedMeta } from '../helpers/fixed-model.js';

export const W = 200;
export const H = 120;

/** Tooth 46 (patient's right: image left) and tooth 36 (image right), lower jaw. */
export const TOOTH_46 = { x: 40, y: 40, w: 40, h: 60 } as const;
export const TOOTH_36 = { x: 120, y: 40, w: 40, h: 60 } as const;

/** Lesion squares `[x, y, side]`: on 36 mesial (towards the midline, image left), on 36's
 * crown middle (occlusal: lower teeth point up), on 36 distal, and one outside any tooth. */
export const LESIONS = {
  mesial36: [121, 45, 6],
  occlusal36: [137, 41, 6],
  distal36: [153, 45, 6],
  outside: [95, 5, 6],
} as const;

function meta(
  name: string,
  task: 'binary' | 'multiclass',
  classes: string[],
  postprocess?: Record<string, unknown>,
): ModelMeta {
  return fixedMeta({ name, task, classes, size: [H, W], ...(postprocess ? { postprocess } : {}) });
}

/** An engine that always answers `probs` and counts its calls. */
export function fixedEngine(probs: Float32Array): InferenceEngine & { calls: number } {
  const e = {
    name: 'fixed',
    calls: 0,
    dispose: () => {},
    run: async () => {
      e.calls++;
      return probs.slice();
    },
  };
  return e;
}

function rect(
  buf: Float32Array,
  k: number,
  c: number,
  r: { x: number; y: number; w: number; h: number },
): void {
  for (let y = r.y; y < r.y + r.h; y++)
    for (let x = r.x; x < r.x + r.w; x++) {
      const o = (y * W + x) * k;
      for (let j = 0; j < k; j++) buf[o + j] = j === c ? 1 : 0;
    }
}

/** Softmax-like one-hot output: background everywhere, classes 1 (46) and 2 (36) on the teeth. */
export function numberingProbs(): Float32Array {
  const k = 3;
  const p = new Float32Array(W * H * k);
  for (let i = 0; i < W * H; i++) p[i * k] = 1;
  rect(p, k, 1, TOOTH_46);
  rect(p, k, 2, TOOTH_36);
  return p;
}

/** Binary output: 0.9 inside every lesion square, 0 elsewhere. */
export function lesionProbs(): Float32Array {
  const p = new Float32Array(W * H);
  for (const [x0, y0, s] of Object.values(LESIONS))
    for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) p[y * W + x] = 0.9;
  return p;
}

export const numberingMeta = (): ModelMeta =>
  meta('fixed-fdi', 'multiclass', ['background', 'tooth 46', 'tooth 36'], {
    numbering: 'none',
    minToothPx: 10,
  });
export const lesionMeta = (type = 'caries', name = 'fixed-caries'): ModelMeta =>
  meta(name, 'binary', [type], { lesion: type, minAreaPx: 5 });
export const binaryTeethMeta = (): ModelMeta => meta('fixed-teeth', 'binary', ['teeth']);

/** A LoadedModel around a fixed engine (for predictBatch). */
export function fixedModel(m: ModelMeta, probs: Float32Array, dir = '/fixed'): LoadedModel {
  return { meta: m, dir, engine: fixedEngine(probs), dispose: () => {} };
}

/** A flat grey test image of the fixture's size. */
export const image = {
  width: W,
  height: H,
  bitDepth: 8 as const,
  data: new Uint8Array(W * H).fill(90),
};
