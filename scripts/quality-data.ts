/**
 * The material of the panoramic check, shared by its fit (scripts/train-quality.ts) and its
 * measurement (bench/quality.ts): real panoramics from ../shared/data, seeded negatives cut
 * from them or drawn from nothing (src/imaging/negatives.ts), and their feature vectors.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, type GreyImage } from '../src/data/index.node.js';
import { toUnit } from '../src/imaging/image.js';
import {
  NEGATIVE_KINDS,
  NEGATIVE_KINDS_FROM_PANORAMIC,
  makeNegative,
  type NegativeKind,
} from '../src/imaging/negatives.js';
import { panoramicFeatures } from '../src/imaging/panoramic-features.js';
import { SAMPLES, CARIES, UFBA } from '../test/helpers/paths.js';

/** One labelled sample: where it came from and its features. */
export interface Sample {
  readonly name: string;
  /** `panoramic` or a negative kind. */
  readonly kind: 'panoramic' | NegativeKind;
  readonly vector: Float64Array;
}

/** ufba425 image paths of one split (`train` or `val`), in split.csv order. */
export function ufbaSplit(split: 'train' | 'val'): string[] {
  return readFileSync(path.join(UFBA, 'split.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c[2] === split)
    .map((c) => path.join(UFBA, 'images', `${c[0]}.jpg`));
}

/** Image files of a folder, sorted. */
export function folderImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The held-out real panoramics, by set: ufba425 val, samples/, dc1000-caries/. */
export function heldOutPanoramics(): Record<string, string[]> {
  return {
    'ufba425-val': ufbaSplit('val'),
    samples: folderImages(path.join(SAMPLES, 'images')),
    'dc1000-caries': folderImages(path.join(CARIES, 'images')),
  };
}

export async function load(file: string): Promise<GreyImage> {
  return decodeImage(file);
}

/** Features of a decoded image. */
export function features(image: GreyImage): Float64Array {
  return panoramicFeatures(toUnit(image), image.width, image.height).vector;
}

/**
 * `perKind` negatives of every kind from `seed`; kinds cut from a panoramic take the
 * `sources` in turn (decoded once each).
 */
export async function negatives(
  seed: number,
  perKind: number,
  sources: readonly string[],
  onImage?: (kind: NegativeKind, image: GreyImage, index: number) => void,
): Promise<Sample[]> {
  const cache = new Map<string, GreyImage>();
  const out: Sample[] = [];
  let s = 0;
  for (const kind of NEGATIVE_KINDS) {
    for (let i = 0; i < perKind; i++) {
      let pano: GreyImage | undefined;
      let from = '';
      if (NEGATIVE_KINDS_FROM_PANORAMIC.includes(kind)) {
        from = sources[s++ % sources.length]!;
        pano = cache.get(from) ?? (await load(from));
        cache.set(from, pano);
      }
      const image = makeNegative(kind, [seed, NEGATIVE_KINDS.indexOf(kind), i], pano);
      onImage?.(kind, image, i);
      out.push({
        name: `${kind}-${i}${from ? ` (${path.basename(from)})` : ''}`,
        kind,
        vector: features(image),
      });
    }
  }
  return out;
}
