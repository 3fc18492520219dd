/**
 * The `Degrade` augmentation: the `--degrade` specs (with level ranges) in the
 * augmentation config, validated with errors naming the key and the bad token; applied to
 * the image as the spec says and never to the mask; the same seed gives the same bytes;
 * `jpeg:` needs the encoder that the Node loader injects.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  augmentSample,
  augmentSampleAsync,
  normaliseAugmentConfig,
  Rng,
  type AugmentConfig,
} from '../../src/augment/index.js';
import { createLoader, openDataset, validatePreprocessConfig } from '../../src/data/index.node.js';
import { jpegRoundTripUnit } from '../../src/data/jpeg.js';
import { DentsegError } from '../../src/errors.js';
import { laplacian, meanStd } from '../../src/imaging/kernels.js';

const W = 96;
const H = 64;

/** Flat mid-grey image with a two-class mask. */
function flat(): { grey: Float32Array; mask: Uint8Array } {
  const grey = new Float32Array(W * H).fill(0.5);
  const mask = Uint8Array.from({ length: W * H }, (_, i) => (i % W < 30 ? 1 : i % W < 60 ? 2 : 0));
  return { grey, mask };
}

/** Stripes and ramps, 0.2…0.8: plenty of high frequencies for blur to remove. */
function textured(): { grey: Float32Array; mask: Uint8Array } {
  const { mask } = flat();
  const grey = Float32Array.from({ length: W * H }, (_, i) => {
    const x = i % W;
    const y = Math.floor(i / W);
    return 0.5 + 0.15 * Math.sin(x / 7) * Math.cos(y / 5) + ((x + y) % 2 ? 0.15 : -0.15);
  });
  return { grey, mask };
}

const hf = (g: Float32Array): number => {
  const l = laplacian(Float64Array.from(g), W, H);
  return l.reduce((s, v) => s + v * v, 0) / l.length;
};

const degrade = (specs: string[], extra: Record<string, unknown> = {}): AugmentConfig => ({
  transforms: [{ type: 'Degrade', p: 1, specs, ...extra } as AugmentConfig['transforms'][number]],
});

function run(
  specs: string[],
  img = flat(),
  seed = 1,
  extra: Record<string, unknown> = {},
): ReturnType<typeof augmentSample> {
  const cfg = normaliseAugmentConfig(degrade(specs, extra));
  return augmentSample(img.grey, img.mask, W, H, cfg, Rng.seeded(seed, 0, 0));
}

describe('Degrade augmentation: config', () => {
  it('normalises specs, combined steps and level ranges', () => {
    const t = normaliseAugmentConfig(
      degrade(['noise:0.02-0.1', 'blur:1.5,motion:3-9', 'jpeg:30-90'], { choose: 'some' }),
    ).transforms[0]!;
    expect(t).toEqual({
      type: 'Degrade',
      p: 1,
      choose: 'some',
      options: [
        [{ kind: 'noise', level: [0.02, 0.1] }],
        [
          { kind: 'blur', level: [1.5, 1.5] },
          { kind: 'motion', level: [3, 9] },
        ],
        [{ kind: 'jpeg', level: [30, 90] }],
      ],
    });
    const dflt = normaliseAugmentConfig([{ type: 'Degrade', specs: ['poisson:1e3-1e5'] }]);
    expect(dflt.transforms[0]).toMatchObject({
      p: 0.5,
      choose: 'one',
      options: [[{ kind: 'poisson', level: [1000, 100000] }]],
    });
  });

  it('refuses bad specs with E_CONFIG_INVALID naming the key and the token', () => {
    const bad: [unknown, RegExp][] = [
      [{ transforms: [{ type: 'Degrade' }] }, /transforms\[0\]\.specs"/],
      [degrade([]), /transforms\[0\]\.specs" must be a non-empty array/],
      [degrade(['noise:0.05', 3 as unknown as string]), /transforms\[0\]\.specs\[1\]".*got 3/],
      [degrade(['none']), /specs\[0\]".*"none"/],
      [degrade(['noise:0.05', 'fog:1']), /specs\[1\]" must be kind:level.*got "fog:1"/],
      [degrade(['noise:2']), /specs\[0\]".*noise takes .*0…1.*got "noise:2"/],
      [degrade(['blur:3-1']), /specs\[0\]".*lo ≤ hi.*got "blur:3-1"/],
      [degrade(['motion:2.5']), /specs\[0\]".*motion takes .*integer.*got "motion:2.5"/],
      [degrade(['blur:1,jpeg:0-50']), /specs\[0\]".*jpeg takes .*got "jpeg:0-50"/],
      [degrade(['noise:-0.1']), /specs\[0\]".*got "noise:-0.1"/],
      [degrade(['noise:0.05'], { choose: 'all' }), /transforms\[0\]\.choose".*"all"/],
      [degrade(['noise:0.05'], { spec: 'x' }), /transforms\[0\]\.spec"/],
      [degrade(['noise:0.05'], { p: 1.5 }), /transforms\[0\]\.p"/],
    ];
    for (const [cfg, re] of bad) {
      let err: unknown;
      try {
        normaliseAugmentConfig(cfg);
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(DentsegError);
      expect((err as DentsegError).code).toBe('E_CONFIG_INVALID');
      expect((err as Error).message).toMatch(re);
    }
  });
});

describe('Degrade augmentation: effect', () => {
  it('noise:σ adds noise of that σ to the image and leaves the mask alone', () => {
    const input = flat();
    const before = { grey: input.grey.slice(), mask: input.mask.slice() };
    const out = run(['noise:0.05'], input);
    const { mean, std } = meanStd(out.grey);
    expect(std).toBeGreaterThan(0.047);
    expect(std).toBeLessThan(0.053);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(out.mask).toEqual(before.mask);
    expect(input.grey).toEqual(before.grey); // inputs are not written to
    expect(out.decision.applied).toEqual(['Degrade']);
    expect(out.decision.degraded).toEqual(['noise:0.05']);
  });

  it('a range draws the level per sample, and the drawn level is what is applied', () => {
    const levels = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const out = run(['noise:0.02-0.1'], flat(), i);
      const level = Number(/^noise:(.+)$/.exec(out.decision.degraded[0]!)![1]);
      expect(level).toBeGreaterThanOrEqual(0.02);
      expect(level).toBeLessThan(0.1);
      expect(meanStd(out.grey).std).toBeCloseTo(level, 2);
      levels.add(out.decision.degraded[0]!);
    }
    expect(levels.size).toBe(12);
    const motions = new Set(
      Array.from({ length: 40 }, (_, i) => run(['motion:3-5'], flat(), i).decision.degraded[0]),
    );
    expect([...motions].sort()).toEqual(['motion:3', 'motion:4', 'motion:5']);
  });

  it('blur lowers the high frequencies; contrast scales the deviation from the mean', () => {
    const img = textured();
    const blurred = run(['blur:2'], img);
    expect(hf(blurred.grey)).toBeLessThan(hf(img.grey) * 0.05);
    expect(blurred.mask).toEqual(img.mask);
    const c = run(['contrast:0.5'], img);
    expect(meanStd(c.grey).std).toBeCloseTo(meanStd(img.grey).std * 0.5, 3);
  });

  it('the same seed gives the same bytes; another seed other bytes', () => {
    const a = run(['noise:0.02-0.1', 'blur:0.5-2', 'motion:3-9'], textured(), 7);
    const b = run(['noise:0.02-0.1', 'blur:0.5-2', 'motion:3-9'], textured(), 7);
    const c = run(['noise:0.02-0.1', 'blur:0.5-2', 'motion:3-9'], textured(), 8);
    expect(b.grey).toEqual(a.grey);
    expect(b.decision.degraded).toEqual(a.decision.degraded);
    expect(c.grey).not.toEqual(a.grey);
  });

  it('choose one picks each spec; choose some applies non-empty subsets in list order', () => {
    const specs = ['noise:0.01', 'blur:1', 'gamma:1.5'];
    const one = new Set<string>();
    const some = new Set<string>();
    for (let i = 0; i < 60; i++) {
      one.add(run(specs, flat(), i).decision.degraded[0]!);
      some.add(run(specs, flat(), i, { choose: 'some' }).decision.degraded[0]!);
    }
    expect([...one].sort()).toEqual(['blur:1', 'gamma:1.5', 'noise:0.01']);
    expect(some.size).toBe(7); // 2³ − 1 non-empty subsets
    expect(some).toContain('noise:0.01,blur:1,gamma:1.5');
    expect(some).not.toContain('');
  });

  it('p is honoured: p 0 never degrades', () => {
    const cfg = normaliseAugmentConfig([{ type: 'Degrade', p: 0, specs: ['noise:0.5'] }]);
    const { grey, mask } = flat();
    const out = augmentSample(grey, mask, W, H, cfg, Rng.seeded(1));
    expect(out.grey).toEqual(grey);
    expect(out.decision.degraded).toEqual([]);
  });
});

describe('Degrade augmentation: jpeg', () => {
  const jpegCfg = normaliseAugmentConfig(degrade(['jpeg:10']));

  it('pure code without an encoder refuses jpeg: with E_USAGE', async () => {
    const { grey, mask } = textured();
    expect(() => augmentSample(grey, mask, W, H, jpegCfg, Rng.seeded(1))).toThrow(
      /jpeg: needs a JPEG encoder/,
    );
    await expect(
      augmentSampleAsync(grey, mask, W, H, jpegCfg, Rng.seeded(1)),
    ).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('with the injected encoder the image is JPEG-damaged, the mask untouched, reproducibly', async () => {
    const { grey, mask } = textured();
    const a = await augmentSampleAsync(grey, mask, W, H, jpegCfg, Rng.seeded(1), {
      jpeg: jpegRoundTripUnit,
    });
    const b = await augmentSampleAsync(grey, mask, W, H, jpegCfg, Rng.seeded(1), {
      jpeg: jpegRoundTripUnit,
    });
    expect(a.grey).toEqual(b.grey);
    expect(a.mask).toEqual(mask);
    let err = 0;
    for (let i = 0; i < grey.length; i++) err += Math.abs(a.grey[i]! - grey[i]!);
    expect(err / grey.length).toBeGreaterThan(0.01); // quality 10 on stripes: visible loss
    expect(err / grey.length).toBeLessThan(0.2);
  });

  describe('the training loader injects the encoder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-degaug-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a Degrade jpeg: config trains: image changed, mask as without augmentation', async () => {
      mkdirSync(path.join(dir, 'images'));
      mkdirSync(path.join(dir, 'masks'));
      const { grey, mask } = textured();
      const img = Uint8Array.from(grey, (v) => Math.round(v * 255));
      await sharp(img, { raw: { width: W, height: H, channels: 1 } })
        .png()
        .toFile(path.join(dir, 'images', 's.png'));
      await sharp(
        Uint8Array.from(mask, (v) => (v ? 255 : 0)),
        {
          raw: { width: W, height: H, channels: 1 },
        },
      )
        .png()
        .toFile(path.join(dir, 'masks', 's.png'));
      const ds = await openDataset({
        images: path.join(dir, 'images'),
        masks: path.join(dir, 'masks'),
        valFraction: 0,
      });
      const first = async (
        augment?: AugmentConfig,
      ): Promise<{ images: Float32Array; masks: Uint8Array }> => {
        const loader = createLoader({
          samples: ds.train,
          batchSize: 1,
          preprocess: validatePreprocessConfig({ size: [H, W], channels: 1, normalise: 'unit' }),
          ...(augment ? { augment } : {}),
          seed: 3,
          epoch: 0,
          shuffle: false,
          workers: 0,
        });
        for await (const b of loader) return { images: b.images, masks: b.masks };
        throw new Error('no batch');
      };
      const plain = await first(undefined);
      const damaged = await first(degrade(['jpeg:10']));
      expect(damaged.masks).toEqual(plain.masks);
      expect(damaged.images).not.toEqual(plain.images);
    });
  });
});
