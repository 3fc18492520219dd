/**
 * What enhancement ran is reported per image: a model with `preprocess.enhance: "auto"`
 * says `deblur:N` for a motion-streaked X-ray and `none` for a clean one (and the network
 * saw the filtered image); a model without enhancement reports nothing.
 */
import { describe, expect, it } from 'vitest';
import { degradeImage, parseDegradeSpec } from '../../src/imaging/index.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { runPipeline, type InferenceEngine } from '../../src/infer/index.js';
import { fixedMeta } from '../helpers/fixed-model.js';

const S = 256;

/** Smooth waves with bright squares: edges in every direction, no noise, no streak. */
function textured(): GreyImage {
  const data = new Uint8Array(S * S);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const square = x % 32 > 8 && x % 32 < 24 && y % 29 > 6 && y % 29 < 22 ? 0.3 : 0;
      const v = 0.3 + 0.12 * Math.sin(x / 5) * Math.cos(y / 7) + square;
      data[y * S + x] = Math.round(Math.min(1, v) * 255);
    }
  return { width: S, height: S, bitDepth: 8, data };
}

/** Answers its input (unit-normalised grey) as the probability; keeps the last input. */
function identityEngine(): InferenceEngine & { last?: Float32Array } {
  const engine: InferenceEngine & { last?: Float32Array } = {
    name: 'tfjs',
    dispose: () => {},
    run: (x: Float32Array): Promise<Float32Array> => {
      engine.last = x.slice();
      return Promise.resolve(x.slice());
    },
  };
  return engine;
}

const meta = (enhance?: string) =>
  fixedMeta({
    task: 'binary',
    classes: ['tooth'],
    size: [S, S],
    ...(enhance !== undefined ? { preprocess: { enhance } } : {}),
  });

describe('the enhancement applied is reported', () => {
  it('auto: deblur on a streaked image, none on a clean one; nothing without enhance', async () => {
    const clean = textured();
    const streaked = await degradeImage(clean, parseDegradeSpec('motion:8'), { seed: [1] });
    const e = identityEngine();
    const onStreak = await runPipeline(e, meta('auto'), streaked);
    expect(onStreak.enhanced).toBe('deblur:8');
    const seen = e.last!;
    expect((await runPipeline(e, meta('auto'), clean)).enhanced).toBe('none');
    const plain = await runPipeline(e, meta(), streaked);
    expect(plain.enhanced).toBeUndefined();
    // The network saw the filtered image, not the streaked one.
    expect(e.last!.some((v, i) => Math.abs(v - seen[i]!) > 0.01)).toBe(true);
  });
});
