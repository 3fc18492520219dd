/**
 * A model's operating point in its dentseg.json: `postprocess.threshold` (the probability it
 * was validated at, which a caller's threshold overrides) and `postprocess.ttaScales` (a
 * tiled model's mirrored pair also run at other multiples of its working width, every map
 * averaged at the X-ray's size); and `focus`, the teeth near which a tiled lesion model
 * runs its tiles. Engines without weights make each visible.
 */
import { describe, expect, it } from 'vitest';
import { tileGrid, type TilingConfig } from '../../src/data/index.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { runPipeline, thresholdFor, type InferenceEngine } from '../../src/infer/index.js';
import type { ModelMeta } from '../../src/model/meta.js';
import { fixedMeta, identityEngine } from '../helpers/fixed-model.js';

/** Answers `p` everywhere; counts the images (or tiles) it ran. */
function constantEngine(p: number): InferenceEngine & { runs: number } {
  const engine = {
    name: 'tfjs' as const,
    runs: 0,
    dispose: () => {},
    run: (_x: Float32Array, n: number, h: number, w: number): Promise<Float32Array> => {
      engine.runs += n;
      return Promise.resolve(new Float32Array(n * h * w).fill(p));
    },
  };
  return engine;
}

const binaryMeta = (postprocess?: Record<string, unknown>): ModelMeta =>
  fixedMeta({
    task: 'binary',
    classes: ['caries'],
    size: [32, 32],
    preprocess: { aspect: 'stretch' },
    ...(postprocess ? { postprocess } : {}),
  });

const W = 192;
const H = 96;
const TILE = 64;

const tiledMeta = (postprocess: Record<string, unknown>): ModelMeta =>
  fixedMeta({
    task: 'binary',
    classes: ['caries'],
    size: [TILE, TILE],
    preprocess: { tiling: { tile: [TILE, TILE], width: W } },
    postprocess: { lesion: 'caries', ...postprocess },
  });

/** A dark X-ray with one bright vertical line, 2 px wide: thin things blur when shrunk. */
function thinLine(): GreyImage {
  const data = new Uint8Array(W * H).fill(20);
  for (let y = 10; y < H - 10; y++) for (const x of [100, 101]) data[y * W + x] = 240;
  return { width: W, height: H, bitDepth: 8, data };
}

const grey = (w: number, h: number): GreyImage => ({
  width: w,
  height: h,
  bitDepth: 8,
  data: new Uint8Array(w * h).fill(128),
});

const ones = (m: Uint8Array): number => m.reduce((s, v) => s + v, 0);

describe('postprocess.threshold', () => {
  it('is the threshold a run applies unless the caller gives one', async () => {
    const image = grey(40, 30);
    const own = binaryMeta({ threshold: 0.25 });
    // The engine says 0.3 everywhere: foreground at the model's 0.25, not at 0.5.
    const r = await runPipeline(constantEngine(0.3), own, image);
    expect(r.threshold).toBe(0.25);
    expect(ones(r.mask)).toBe(40 * 30);
    const asked = await runPipeline(constantEngine(0.3), own, image, { threshold: 0.5 });
    expect(asked.threshold).toBe(0.5);
    expect(ones(asked.mask)).toBe(0);
    const plain = await runPipeline(constantEngine(0.3), binaryMeta(), image);
    expect(plain.threshold).toBe(0.5);
    expect(ones(plain.mask)).toBe(0);
    expect(thresholdFor(own)).toBe(0.25);
    expect(thresholdFor(own, 0.7)).toBe(0.7);
    expect(thresholdFor(binaryMeta())).toBe(0.5);
  });

  it('is validated naming the key', () => {
    for (const threshold of [-0.1, 1.5, '0.3'])
      expect(() => binaryMeta({ threshold })).toThrow(/postprocess\.threshold/);
    expect(() =>
      fixedMeta({
        task: 'multiclass',
        classes: ['background', 'a', 'b'],
        size: [32, 32],
        postprocess: { threshold: 0.3 },
      }),
    ).toThrow(/postprocess\.threshold.*multi-class/);
  });
});

describe('postprocess.ttaScales', () => {
  const tiling: TilingConfig = tiledMeta({}).preprocess.tiling!;
  /** Tiles of the X-ray resized to `width` (its aspect kept). */
  const tilesAt = (width: number): number =>
    tileGrid(Math.round((H * width) / W), width, { ...tiling, width }).length;

  it('runs the mirrored pair at each scale and averages the maps at the X-ray size', async () => {
    const image = thinLine();
    const plainEngine = identityEngine();
    const plain = await runPipeline(plainEngine, tiledMeta({ tta: true }), image);
    const scaledEngine = identityEngine();
    const scaled = await runPipeline(
      scaledEngine,
      tiledMeta({ tta: true, ttaScales: [0.5, 1] }),
      image,
    );
    // Two passes (plain and mirrored) at each width: 192 and 96.
    expect(plainEngine.runs).toBe(2 * tilesAt(W));
    expect(scaledEngine.runs).toBe(2 * tilesAt(W) + 2 * tilesAt(W / 2));
    expect(scaled.probabilities).toHaveLength(W * H);
    // On the line the half-width view is blurred (lower), so the average is below the plain
    // map but well above half of it; on the dark background both agree.
    const on = (H / 2) * W + 100;
    const off = (H / 2) * W + 20;
    expect(scaled.probabilities[on]!).toBeLessThan(plain.probabilities[on]! - 0.05);
    expect(scaled.probabilities[on]!).toBeGreaterThan(plain.probabilities[on]! / 2);
    expect(scaled.probabilities[off]!).toBeCloseTo(plain.probabilities[off]!, 2);
  });

  it('runs only with the mirrored pass: --no-tta is one plain pass', async () => {
    const e = identityEngine();
    await runPipeline(e, tiledMeta({ tta: true, ttaScales: [0.5, 1, 1.5] }), thinLine(), {
      tta: false,
    });
    expect(e.runs).toBe(tilesAt(W));
  });

  it('is validated naming the key', () => {
    for (const ttaScales of [[], [0.2], [1, 1], [3], '1', [1, '2']])
      expect(() => tiledMeta({ ttaScales })).toThrow(/postprocess\.ttaScales/);
    expect(() => binaryMeta({ ttaScales: [1, 1.25] })).toThrow(
      /postprocess\.ttaScales.*preprocess\.tiling/,
    );
    expect(tiledMeta({ ttaScales: [0.8, 1, 1.25] }).postprocess?.ttaScales).toEqual([0.8, 1, 1.25]);
  });
});

describe('focus: a tiled model runs only the tiles near the teeth', () => {
  /** Teeth at the X-ray's size: one small block near the top-left corner. */
  const teethAt = (x0: number, y0: number, side: number): Uint8Array => {
    const m = new Uint8Array(W * H);
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) m[y * W + x] = 1;
    return m;
  };
  // 192 × 96 in 64² tiles: 4 × 2 of them (overlap 16, a quarter of the tile, by default).
  const meta = tiledMeta({});
  const all = tileGrid(H, W, meta.preprocess.tiling!).length;

  it('skips the tiles whose central part the teeth (grown by the reach) do not enter', async () => {
    const image = thinLine();
    const whole = identityEngine();
    const full = await runPipeline(whole, meta, image);
    const near = identityEngine();
    const focused = await runPipeline(near, meta, image, {
      focus: { mask: teethAt(4, 4, 8), width: W, height: H, reachPx: 2 },
    });
    expect(whole.runs).toBe(all);
    expect(near.runs).toBe(1); // the top-left tile only
    // Near the teeth the map is the full run's; where no run tile reaches, 0.
    expect(focused.probabilities[8 * W + 8]).toBeCloseTo(full.probabilities[8 * W + 8]!, 6);
    expect(focused.probabilities[(H / 2) * W + 100]).toBe(0);
    expect(full.probabilities[(H / 2) * W + 100]!).toBeGreaterThan(0.5);
  });

  it('mirrored, the mirrored pass runs the mirror images of the same tiles', async () => {
    const image = thinLine();
    const mirroredMeta = tiledMeta({ tta: true });
    const full = await runPipeline(identityEngine(), mirroredMeta, image);
    const e = identityEngine();
    const focus = { mask: teethAt(4, 4, 8), width: W, height: H, reachPx: 2 };
    const r = await runPipeline(e, mirroredMeta, image, { focus });
    expect(e.runs).toBe(2);
    expect(r.probabilities[8 * W + 8]).toBeCloseTo(full.probabilities[8 * W + 8]!, 6);
    // Teeth on the line: the line's tiles run, and the line keeps its full-run values.
    const onLine = await runPipeline(identityEngine(), mirroredMeta, image, {
      focus: { mask: teethAt(96, 40, 8), width: W, height: H, reachPx: 0 },
    });
    expect(onLine.probabilities[(H / 2) * W + 100]).toBeCloseTo(
      full.probabilities[(H / 2) * W + 100]!,
      6,
    );
  });

  it('teeth given at another size are mapped onto the tiles', async () => {
    const half = new Uint8Array((W / 2) * (H / 2));
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) half[y * (W / 2) + x] = 1;
    const e = identityEngine();
    await runPipeline(e, meta, thinLine(), {
      focus: { mask: half, width: W / 2, height: H / 2, reachPx: 1 },
    });
    expect(e.runs).toBe(1);
  });
});
