/**
 * Loader: batch shapes, the same bytes for any worker count (seeded order and
 * augmentation), errors carried out of workers, and the worker entry from both src
 * (tsx) and dist (compiled).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLoader,
  DEFAULT_AUGMENT,
  openDataset,
  validatePreprocessConfig,
  type Batch,
  type LoaderOptions,
  type SampleRef,
} from '../../src/data/index.node.js';
import { HAS_SHARED_DATA, REPO_ROOT, UFBA } from '../helpers/paths.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-loader-'));
let samples: SampleRef[] = [];

beforeAll(async () => {
  mkdirSync(path.join(dir, 'images'));
  mkdirSync(path.join(dir, 'masks'));
  for (let k = 0; k < 10; k++) {
    const w = 80 + k * 4;
    const h = 40 + k * 2;
    const img = Uint8Array.from(
      { length: w * h },
      (_, i) => ((i % w) * 3 + Math.floor(i / w) * k) % 256,
    );
    const mask = Uint8Array.from({ length: w * h }, (_, i) =>
      i % w > w / 3 && i % w < w / 2 ? 255 : 0,
    );
    await sharp(img, { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(path.join(dir, 'images', `s${k}.png`));
    await sharp(mask, { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(path.join(dir, 'masks', `s${k}.png`));
  }
  const ds = await openDataset({
    images: path.join(dir, 'images'),
    masks: path.join(dir, 'masks'),
    valFraction: 0,
  });
  samples = ds.train;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const preprocess = validatePreprocessConfig({ size: [32, 48], channels: 3, normalise: 'imagenet' });

async function collect(
  opts: Partial<LoaderOptions>,
): Promise<{ batches: Batch[]; waitMs: number }> {
  const loader = createLoader({
    samples,
    batchSize: 4,
    preprocess,
    seed: 11,
    epoch: 2,
    shuffle: true,
    augment: DEFAULT_AUGMENT,
    ...opts,
  });
  const batches: Batch[] = [];
  for await (const b of loader) batches.push(b);
  expect(loader.stats().batches).toBe(batches.length);
  return { batches, waitMs: loader.stats().waitMs };
}

const digest = (bs: Batch[]): string =>
  bs
    .map(
      (b) =>
        `${b.ids.join(',')}:${Buffer.from(b.images.buffer).toString('base64').length}:${Buffer.from(b.images.buffer).readUInt32LE(100)}:${b.masks.reduce((a, v) => a + v, 0)}`,
    )
    .join('|');

describe('createLoader', () => {
  it('yields NHWC batches; the last one may be short', async () => {
    const { batches, waitMs } = await collect({ workers: 0 });
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(batches[0]!.images.length).toBe(4 * 32 * 48 * 3);
    expect(batches[0]!.masks.length).toBe(4 * 32 * 48);
    expect(new Set(batches[0]!.masks)).toEqual(new Set([0, 1]));
    expect(waitMs).toBeGreaterThan(0);
    const dropped = await collect({ workers: 0, dropLast: true });
    expect(dropped.batches.map((b) => b.size)).toEqual([4, 4]);
  });

  it('gives the same bytes with 0, 1 and 2 workers', async () => {
    const runs = await Promise.all([0, 1, 2].map((workers) => collect({ workers })));
    const full = runs.map((r) =>
      r.batches.map((b) =>
        Buffer.concat([Buffer.from(b.images.buffer), Buffer.from(b.masks.buffer)]),
      ),
    );
    expect(Buffer.concat(full[1]!).equals(Buffer.concat(full[0]!))).toBe(true);
    expect(Buffer.concat(full[2]!).equals(Buffer.concat(full[0]!))).toBe(true);
  });

  it('shuffles per epoch, keeps order when shuffle is off', async () => {
    const a = await collect({ workers: 0, epoch: 0 });
    const b = await collect({ workers: 0, epoch: 1 });
    expect(digest(a.batches)).not.toBe(digest(b.batches));
    const plain = await collect({ workers: 0, shuffle: false, augment: undefined });
    expect(plain.batches.flatMap((x) => x.ids)).toEqual(samples.map((s) => s.id));
  });

  it('resumes mid-epoch: startBatch yields the remaining batches, byte for byte', async () => {
    const whole = await collect({ workers: 0 });
    const rest = await collect({ workers: 1, startBatch: 1 });
    expect(rest.batches.map((b) => b.ids)).toEqual(whole.batches.slice(1).map((b) => b.ids));
    expect(
      Buffer.from(rest.batches[0]!.images.buffer).equals(
        Buffer.from(whole.batches[1]!.images.buffer),
      ),
    ).toBe(true);
  });

  it('splits by a seeded fraction when there is no split file or second source', async () => {
    const opts = {
      images: path.join(dir, 'images'),
      masks: path.join(dir, 'masks'),
      valFraction: 0.3,
    };
    const a = await openDataset({ ...opts, seed: 1 });
    const b = await openDataset({ ...opts, seed: 1 });
    const c = await openDataset({ ...opts, seed: 2 });
    expect([a.train.length, a.val.length]).toEqual([7, 3]);
    expect(b.val.map((r) => r.id)).toEqual(a.val.map((r) => r.id));
    expect(c.val.map((r) => r.id)).not.toEqual(a.val.map((r) => r.id));
    await expect(openDataset({ ...opts, valFraction: 1 })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });

  it('carries a sample error out of a worker with its code and file', async () => {
    const broken = path.join(dir, 'images', 'broken.png');
    writeFileSync(broken, 'not a png');
    const bad: SampleRef = { ...samples[0]!, id: 'broken', image: broken } as SampleRef;
    const loader = createLoader({
      samples: [bad],
      batchSize: 1,
      preprocess,
      seed: 1,
      epoch: 0,
      shuffle: false,
      workers: 1,
    });
    await expect(async () => {
      for await (const _ of loader) void _;
    }).rejects.toMatchObject({ code: 'E_IMAGE_FORMAT', file: broken });
  });

  it.skipIf(!HAS_SHARED_DATA)(
    'flips ufba425 FDI masks with the left/right class swap (patient right stays image left)',
    async () => {
      const ds = await openDataset({
        images: path.join(UFBA, 'images'),
        masks: path.join(UFBA, 'masks_fdi'),
        split: path.join(UFBA, 'split.csv'),
        classes: path.join(UFBA, 'classes_fdi.json'),
        multiclass: true,
      });
      // The augment config carries no class map (as `--augment seed`): the dataset's must
      // reach the worker threads through the loader.
      const loader = createLoader({
        samples: ds.train.slice(0, 4),
        batchSize: 4,
        preprocess: validatePreprocessConfig({ size: [128, 128], channels: 1 }),
        augment: { transforms: [{ type: 'HorizontalFlip', p: 1 }] },
        seed: 3,
        epoch: 0,
        shuffle: false,
        workers: 1,
        flipClassMap: ds.flipClassMap,
      });
      const names = ds.classes;
      // Quadrants 1 and 4 (the patient's right) lie on the image's left on a panoramic.
      const right = (c: number): boolean => /^tooth [14]/.test(names[c] ?? '');
      for await (const b of loader) {
        for (let s = 0; s < b.size; s++) {
          const xs = { right: [0, 0], left: [0, 0] };
          for (let i = 0; i < 128 * 128; i++) {
            const c = b.masks[s * 128 * 128 + i]!;
            if (c === 0) continue;
            const side = right(c) ? xs.right : xs.left;
            side[0]! += i % 128;
            side[1]!++;
          }
          expect(xs.right[1]).toBeGreaterThan(0);
          expect(xs.right[0]! / xs.right[1]!).toBeLessThan(xs.left[0]! / xs.left[1]!);
        }
      }
    },
    60_000,
  );

  const distLoader = path.join(REPO_ROOT, 'dist/data/loader.js');
  it.skipIf(!existsSync(distLoader))('runs its workers from dist (compiled) too', async () => {
    const mod = (await import(distLoader)) as typeof import('../../src/data/loader.js');
    const loader = mod.createLoader({
      samples,
      batchSize: 5,
      preprocess,
      seed: 11,
      epoch: 2,
      shuffle: true,
      augment: DEFAULT_AUGMENT,
      workers: 2,
    });
    const batches: Batch[] = [];
    for await (const b of loader) batches.push(b);
    const ref = await collect({ workers: 0, batchSize: 5 });
    expect(
      Buffer.from(batches[1]!.images.buffer).equals(Buffer.from(ref.batches[1]!.images.buffer)),
    ).toBe(true);
  });
});
