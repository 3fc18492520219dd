// `dentseg data export` with a model set: a caries mask the dentist corrected through
// `PUT …/masks/{model}` wins over the findings for that analysis (taken as painted, a
// finding the dentist drew filled in, a rejected one erased even where the painting kept
// it); an analysis without a correction still gives its confirmed findings only. Fixed
// models: teeth 46 and 36, four 6×6 caries squares (three on 36, one off the teeth).
import sharp from 'sharp';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/serve/index.js';
import { exportDataset, type ExportReport } from '../../src/serve/export-dataset.js';
import type { AnalysisJson } from '../../src/serve/wire.js';
import {
  H,
  LESIONS,
  W,
  fixedModel,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from '../infer/set-fixtures.js';
import { multipart, tempDir } from './helpers.js';

type Square = readonly [number, number, number];
const PAINTED: Square = [60, 60, 8]; // painted by the dentist, no finding there
const DRAWN: Square = [10, 80, 10]; // drawn as a finding (`added`)

function paint(px: Uint8Array, [x0, y0, s]: Square, v = 255): void {
  for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) px[y * W + x] = v;
}

/** How many pixels of the square are 255, of how many. */
function covered(px: Uint8Array, [x0, y0, s]: Square): string {
  let n = 0;
  for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) if (px[y * W + x]) n++;
  return `${n}/${s * s}`;
}

describe('data export: corrected lesion masks', () => {
  let corrected: AnalysisJson;
  let plain: AnalysisJson;
  let out: string;
  let report: ExportReport;
  const masks = async (id: string): Promise<Uint8Array> =>
    new Uint8Array(
      await sharp(path.join(out, 'masks_caries', `${id}.png`))
        .extractChannel(0)
        .raw()
        .toBuffer(),
    );

  beforeAll(async () => {
    const dataDir = tempDir('dentseg-export-lesion-');
    const app = await buildApp({
      models: [
        fixedModel(numberingMeta(), numberingProbs(), '/fixed-fdi'),
        fixedModel(lesionMeta(), lesionProbs(), '/fixed-caries'),
      ],
      dataDir,
      webDir: false,
      force: true,
    });
    try {
      const flat = await sharp(Buffer.alloc(W * H, 90), {
        raw: { width: W, height: H, channels: 1 },
      })
        .png()
        .toBuffer();
      const post = async (): Promise<AnalysisJson> => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/analyses',
          ...multipart(flat, 'x.png', 'file', 'image/png'),
        });
        expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
        return res.json<AnalysisJson>();
      };
      const findingAt = (a: AnalysisJson, [x, y]: Square): string => {
        const f = a.findings.find((g) => g.type === 'caries' && g.bbox[0] === x && g.bbox[1] === y);
        expect(f, `a caries finding at ${x},${y}`).toBeDefined();
        return f!.id;
      };
      const patch = async (a: AnalysisJson, id: string, review: string) => {
        const res = await app.inject({
          method: 'PATCH',
          url: `${a.links.self}/findings/${id}`,
          payload: { review },
        });
        expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      };

      corrected = await post();
      // The dentist erases the lesion off the teeth, paints one on 46 and keeps the rest…
      const px = new Uint8Array(W * H);
      for (const sq of [LESIONS.mesial36, LESIONS.occlusal36, LESIONS.distal36]) paint(px, sq);
      paint(px, PAINTED);
      const png = await sharp(px, { raw: { width: W, height: H, channels: 1 } })
        .png()
        .toBuffer();
      const put = await app.inject({
        method: 'PUT',
        url: `${corrected.links.self}/masks/fixed-caries`,
        ...multipart(png, 'caries.png', 'file', 'image/png'),
      });
      expect(put.statusCode, put.body.slice(0, 300)).toBe(200);
      // …rejects the distal finding (the painting still holds it) and draws one more.
      await patch(corrected, findingAt(corrected, LESIONS.distal36), 'rejected');
      const [x, y, s] = DRAWN;
      const draw = await app.inject({
        method: 'POST',
        url: `${corrected.links.self}/findings`,
        payload: {
          outline: [
            [x, y],
            [x + s, y],
            [x + s, y + s],
            [x, y + s],
          ],
          type: 'caries',
          tooth: 46,
        },
      });
      expect(draw.statusCode, draw.body.slice(0, 300)).toBe(201);

      // No correction: only what the dentist confirmed.
      plain = await post();
      await patch(plain, findingAt(plain, LESIONS.mesial36), 'accepted');
      await patch(plain, findingAt(plain, LESIONS.distal36), 'rejected');
    } finally {
      await app.close();
    }
    out = tempDir('dentseg-export-lesion-out-');
    report = await exportDataset({ dataDir, out });
  });

  it('a corrected caries mask wins over the findings: painted, drawn in, rejected out', async () => {
    const px = await masks(corrected.id);
    expect(new Set(px)).toEqual(new Set([0, 255]));
    expect({
      mesial: covered(px, LESIONS.mesial36),
      occlusal: covered(px, LESIONS.occlusal36),
      distal: covered(px, LESIONS.distal36),
      outside: covered(px, LESIONS.outside),
      painted: covered(px, PAINTED),
      drawn: covered(px, DRAWN),
    }).toEqual({
      // Suggested findings the painting kept: kept, as painted.
      mesial: '36/36',
      occlusal: '36/36',
      // Rejected: erased although painted.
      distal: '0/36',
      // Erased by the dentist: the model's finding no longer counts.
      outside: '0/36',
      painted: '64/64',
      drawn: '100/100',
    });
    expect(px.filter((v) => v === 255).length).toBe(36 + 36 + 64 + 100);
  });

  it('without a correction: the confirmed findings only, as before', async () => {
    const px = await masks(plain.id);
    expect(covered(px, LESIONS.mesial36)).toBe('36/36');
    expect(px.filter((v) => v === 255).length).toBe(36);
  });

  it('counts the analysis with a corrected lesion mask as corrected', () => {
    expect(report).toMatchObject({ ids: [corrected.id, plain.id], corrected: 1, rejected: 2 });
  });
});
