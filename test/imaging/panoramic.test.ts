// The input check: real panoramics pass (also the edentulous one), the crafted wrong
// uploads are flagged with the right words, and the negative generator is deterministic.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, type GreyImage } from '../../src/data/index.node.js';
import { degradeImage, parseDegradeSpec } from '../../src/imaging/index.js';
import {
  NEGATIVE_KINDS,
  NEGATIVE_KINDS_FROM_PANORAMIC,
  makeNegative,
} from '../../src/imaging/negatives.js';
import {
  PANORAMIC_CLASSIFIER,
  QUALITY_ISSUES,
  checkInput,
  describeQuality,
} from '../../src/imaging/panoramic.js';
import { FEATURE_COUNT } from '../../src/imaging/panoramic-features.js';
import * as schemas from '../../src/serve/schemas.js';
import { HAS_SHARED_DATA, SAMPLES, UFBA } from '../helpers/paths.js';

let pano: GreyImage;
let edentulous: GreyImage;

beforeAll(async () => {
  if (!HAS_SHARED_DATA) return;
  // The first ufba425 val image: the detector never trained on val.
  const val = readFileSync(path.join(UFBA, 'split.csv'), 'utf8')
    .split('\n')
    .find((l) => l.endsWith(',val'))!
    .split(',')[0]!;
  pano = await decodeImage(path.join(UFBA, 'images', `${val}.jpg`));
  edentulous = await decodeImage(path.join(SAMPLES, 'images', 'abdi-5.png'));
});

describe('negative generator', () => {
  it('gives the same image for the same seed and another for another seed', () => {
    const a = makeNegative('photo', [5, 1]);
    const b = makeNegative('photo', [5, 1]);
    const c = makeNegative('photo', [5, 2]);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(false);
  });

  it('draws every kind (cut kinds need a panoramic)', () => {
    const src: GreyImage = {
      width: 400,
      height: 200,
      bitDepth: 8,
      data: Uint8Array.from({ length: 400 * 200 }, (_, i) => (i * 7) % 251),
    };
    for (const kind of NEGATIVE_KINDS) {
      const img = makeNegative(kind, [1, 0], src);
      expect(img.width * img.height).toBe(img.data.length);
      expect(img.width).toBeGreaterThan(16);
    }
    expect(() => makeNegative(NEGATIVE_KINDS_FROM_PANORAMIC[0]!, [1])).toThrow(/needs a panoramic/);
  });
});

describe.skipIf(!HAS_SHARED_DATA)('panoramic check', () => {
  it('the committed weights fit the features', () => {
    expect(PANORAMIC_CLASSIFIER.weights).toHaveLength(FEATURE_COUNT);
  });

  it('passes a real panoramic and the edentulous one, with no issues', () => {
    for (const img of [pano, edentulous]) {
      const q = checkInput(img);
      expect(q).toMatchObject({ panoramic: true, issues: [] });
      expect(q.score).toBeGreaterThan(0.5);
      expect(describeQuality(q)).toBeUndefined();
    }
  });

  it('flags an inverted panoramic as "inverted?"', () => {
    const q = checkInput(makeNegative('inverted', [3, 0], pano));
    expect(q.panoramic).toBe(false);
    expect(q.issues).toContain('inverted?');
    expect(describeQuality(q)).toMatch(/grey levels reversed/);
  });

  it('flags a blank image as "blank"', () => {
    const q = checkInput(makeNegative('blank', [3, 0]));
    expect(q).toMatchObject({ panoramic: false, issues: ['blank'] });
    expect(describeQuality(q)).toMatch(/blank/);
  });

  it('flags noise, a bitewing-like crop, a periapical-like crop and a photo', () => {
    const cases = [
      makeNegative('noise', [3, 0]),
      makeNegative('bitewing', [3, 0], pano),
      makeNegative('periapical', [3, 0], pano),
      makeNegative('photo', [3, 0]),
      makeNegative('chest', [3, 0]),
      makeNegative('text', [3, 0]),
    ];
    for (const img of cases) {
      const q = checkInput(img);
      expect(q.panoramic).toBe(false);
      expect(q.issues).toContain('not a panoramic X-ray');
      expect(describeQuality(q)).toMatch(/does not look like a panoramic dental X-ray/);
    }
    expect(checkInput(cases[0]!).issues).toContain('noisy');
  });

  it('names blur, motion, noise and low contrast on a real panoramic', async () => {
    const damaged = async (spec: string): Promise<GreyImage> =>
      degradeImage(pano, parseDegradeSpec(spec), { seed: [1] });
    expect(checkInput(pano).issues).toEqual([]);
    expect(checkInput(await damaged('blur:3')).issues).toContain('blurred');
    expect(checkInput(await damaged('blur:3')).issues).not.toContain('blurred by motion');
    // A streak is named for what it is, not as plain blur.
    expect(checkInput(await damaged('motion:20')).issues).toEqual(['blurred by motion']);
    expect(checkInput(await damaged('noise:0.05')).issues).toContain('noisy');
    expect(checkInput(await damaged('contrast:0.2')).issues).toContain('low contrast');
  });

  it('the API schema lists the same issue words', () => {
    const text = JSON.stringify(schemas);
    for (const issue of QUALITY_ISSUES) expect(text).toContain(JSON.stringify(issue));
  });
});
