// The server's pixel limit applies to a DICOM's embedded JPEG frame by the frame's own
// header: a small DICOM holding a huge frame is refused with 413 before it is decoded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { solidGreyJpeg } from '../helpers/solid-jpeg.js';
import { buildDicom } from '../infer/helpers.js';
import { multipart, tempDir, testModel } from './helpers.js';

function jpegDicom(width: number, height: number, frame: Buffer): Buffer {
  return buildDicom({
    width,
    height,
    pixels: new Uint8Array(0),
    jpegFrame: frame,
    transferSyntax: '1.2.840.10008.1.2.4.50',
  });
}

describe('DICOM uploads: limits from the headers', () => {
  let model: LoadedModel;
  let app: FastifyInstance;
  const post = (dicom: Buffer) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      ...multipart(dicom, 'scan.dcm', 'file', 'application/dicom'),
    });

  beforeAll(async () => {
    ({ model } = await testModel());
    app = await buildApp({ model, dataDir: tempDir(), webDir: false, maxPixels: 40e6 });
  });
  afterAll(async () => {
    await app.close();
    model.dispose();
  });

  it('answers 413 E_TOO_LARGE for a 100×100 DICOM holding a 12000×12000 JPEG, quickly', async () => {
    const t0 = performance.now();
    const res = await post(jpegDicom(100, 100, solidGreyJpeg(12000, 12000)));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      error: { code: 'E_TOO_LARGE', message: expect.stringContaining('144.0 MP') },
    });
    expect(performance.now() - t0).toBeLessThan(3000); // decoding it first took 0.7 s, +156 MB
  });

  it('answers 413 for Rows × Columns above the limit without decoding the frame', async () => {
    const t0 = performance.now();
    const res = await post(jpegDicom(12000, 12000, solidGreyJpeg(12000, 12000)));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'E_TOO_LARGE' } });
    expect(performance.now() - t0).toBeLessThan(3000); // decoding it first took 9.7 s, +1.4 GB
  });

  it('refuses a frame that disagrees with Rows/Columns, and stores nothing', async () => {
    const res = await post(jpegDicom(100, 100, solidGreyJpeg(200, 200)));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { code: 'E_IMAGE_DECODE', message: expect.stringMatching(/200×200.*100×100/) },
    });
    const list = await app.inject({ method: 'GET', url: '/api/v1/analyses' });
    expect(list.json()).toMatchObject({ total: 0 });
  });
});
