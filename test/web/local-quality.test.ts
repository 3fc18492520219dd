// Private mode runs the server's input check: the page's analysis of an image that is not a
// panoramic X-ray carries the same quality (issues, score) and withholds its findings as
// `segment` does on a server without --force; a real panoramic keeps them. DOM-free, in Node.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/index.node.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { segment } from '../../src/infer/index.js';
import { analyseImage } from '../../src/web/app/local-analysis.js';
import { constantModel } from '../helpers/fixed-model.js';
import { HAS_SHARED_DATA, SAMPLES } from '../helpers/paths.js';

const blank: GreyImage = {
  width: 300,
  height: 150,
  bitDepth: 8,
  data: new Uint8Array(300 * 150).fill(90),
};

describe("private mode's input check", () => {
  it('a blank image: the server quality, findings withheld', async () => {
    const model = constantModel(0.9);
    const local = await analyseImage(model, blank, 'blank.png');
    const server = await segment(model, blank, { withholdIfNotPanoramic: true });
    expect(local.quality).toEqual({ ...server.quality, withheld: true });
    expect(local.quality).toMatchObject({ panoramic: false, issues: ['blank'] });
    expect(local.findings).toEqual([]);
    expect(server.findings).toEqual([]);
    // The mask is still shown.
    expect(local.mask.every((v) => v === 1)).toBe(true);
  });

  it.skipIf(!HAS_SHARED_DATA)(
    'a real panoramic: passes, findings kept as on the server',
    async () => {
      const model = constantModel(0.9);
      const image = await decodeImage(path.join(SAMPLES, 'images', 'abdi-5.png'));
      const local = await analyseImage(model, image, 'abdi-5.png');
      const server = await segment(model, image, { withholdIfNotPanoramic: true });
      expect(local.quality).toEqual({ ...server.quality, withheld: false });
      expect(local.quality.panoramic).toBe(true);
      expect(local.findings.length).toBeGreaterThan(0);
      expect(local.findings).toEqual(server.findings);
    },
  );
});
