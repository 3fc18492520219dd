// The numbered chart from a hand-made class map: teeth described at the image's size
// (names, boxes, centres, outlines, scores, missing numbers) and the PNG drawn with a
// colour per tooth type, outlines in the solid colour and the legend in the corner.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../src/infer/chart.js';
import { TOOTH_TYPE_COLOURS, describeTeeth, numberTeeth } from '../../src/numbering/index.js';
import { H, SCHEME, W, chart, slotRect } from '../numbering/chart.js';

describe('describeTeeth and renderChart', () => {
  const mask = chart({ 46: null, 18: null });
  const numbered = numberTeeth(mask, W, H, SCHEME, { minToothPx: 100 });
  const { teeth, missing } = describeTeeth(numbered.mask, W, H, numbered, SCHEME);

  it('describes each present tooth and names the missing ones', () => {
    expect(missing).toEqual([18, 46]);
    expect(teeth).toHaveLength(30);
    const t = teeth.find((x) => x.fdi === 36)!;
    const [x0, y0] = slotRect(36);
    expect(t).toMatchObject({
      name: 'lower left first molar',
      areaPx: 420,
      bbox: [x0, y0, 14, 30],
      centroid: [x0 + 6.5, y0 + 14.5],
      score: 1,
    });
    // a rectangle's outline simplifies to its four corners
    expect(t.polygon).toHaveLength(4);
    expect(teeth.map((x) => x.fdi)).toEqual([...teeth.map((x) => x.fdi)].sort((a, b) => a - b));
  });

  it('draws types in their colours, outlines solid, at the image size', async () => {
    const image = {
      width: W,
      height: H,
      data: new Uint8Array(W * H).fill(100),
      bitDepth: 8 as const,
    };
    const png = await renderChart(image, numbered.mask, SCHEME, teeth, missing);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([W, H]);
    const px = (x: number, y: number): number[] => {
      const o = (y * W + x) * info.channels;
      return [data[o]!, data[o + 1]!, data[o + 2]!];
    };
    // 36 (molar): its left edge solid, its fill a 35 % blend over grey 100, away from the
    // number at its centre.
    const [x0, y0, x1] = slotRect(36);
    expect(px(x0, y0 + 3)).toEqual([...TOOTH_TYPE_COLOURS.molar]);
    const blend = TOOTH_TYPE_COLOURS.molar.map((c) => (c * 89 + 100 * 166) / 255);
    px(x0 + 3, y0 + 27).forEach((v, i) => expect(Math.abs(v - blend[i]!)).toBeLessThanOrEqual(1));
    // 33 (canine) and 38 (third molar) in their own colours; 46's slot stays grey
    expect(px(slotRect(33)[0], slotRect(33)[1] + 3)).toEqual([...TOOTH_TYPE_COLOURS.canine]);
    expect(px(slotRect(38)[0], slotRect(38)[1] + 3)).toEqual([
      ...TOOTH_TYPE_COLOURS['third molar'],
    ]);
    const [ax, ay] = slotRect(46);
    expect(px(ax + 2, ay + 27)).toEqual([100, 100, 100]);
    expect(x1).toBeGreaterThan(x0);
    // the number is drawn: white pixels near 36's centre
    const [cx, cy] = teeth.find((t) => t.fdi === 36)!.centroid;
    let white = 0;
    for (let y = Math.floor(cy) - 4; y <= cy + 4; y++) {
      for (let x = Math.floor(cx) - 6; x <= cx + 6; x++)
        if (px(x, y).every((v) => v > 240)) white++;
    }
    expect(white).toBeGreaterThan(3);
  });
});
