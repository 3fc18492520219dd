// A DICOM may carry a JPEG frame far larger than its Rows/Columns say (a decompression
// bomb): the frame's own header is checked against the pixel limit and the data set before
// anything decodes it. sharp is wrapped so the tests see whether a decode was started.
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { decodeDicom } from '../../src/imaging/dicom.node.js';
import { jpegFrameSize } from '../../src/imaging/jpeg-header.js';
import { solidGreyJpeg } from '../helpers/solid-jpeg.js';
import { buildDicom } from './helpers.js';

const sharpCalls = vi.hoisted(() => ({ n: 0 }));
vi.mock('sharp', async (importOriginal) => {
  const mod = await importOriginal<{ default: typeof sharp }>();
  const real = mod.default;
  const counted = ((...args: Parameters<typeof sharp>) => {
    sharpCalls.n++;
    return real(...args);
  }) as typeof sharp;
  Object.assign(counted, real);
  return { ...mod, default: counted };
});

const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

/** A DICOM whose data set says `width`×`height` around the given JPEG frame. */
function jpegDicom(width: number, height: number, frame: Buffer): Buffer {
  return buildDicom({
    width,
    height,
    pixels: new Uint8Array(0),
    jpegFrame: frame,
    transferSyntax: JPEG_BASELINE,
  });
}

/** Decode with sharp counted; the error (or undefined), the sharp calls and the time. */
async function attempt(
  buf: Buffer,
  maxPixels?: number,
): Promise<{ err: unknown; calls: number; ms: number }> {
  const before = sharpCalls.n;
  const t0 = performance.now();
  const err = await decodeDicom(buf, 'bomb.dcm', maxPixels ? { maxPixels } : {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, calls: sharpCalls.n - before, ms: performance.now() - t0 };
}

describe('jpegFrameSize (frame header only)', () => {
  it('reads the SOF of baseline and progressive JPEGs, whatever comes before it', async () => {
    expect(jpegFrameSize(solidGreyJpeg(12000, 9000))).toEqual({ width: 12000, height: 9000 });
    const img = sharp({ create: { width: 37, height: 21, channels: 3, background: '#888' } });
    expect(jpegFrameSize(await img.clone().jpeg().toBuffer())).toEqual({ width: 37, height: 21 });
    const progressive = await img.clone().jpeg({ progressive: true }).withMetadata().toBuffer();
    expect(jpegFrameSize(progressive)).toEqual({ width: 37, height: 21 });
  });

  it('is undefined for what is not a JPEG or ends before its frame header', () => {
    const jpeg = solidGreyJpeg(64, 64);
    expect(jpegFrameSize(Buffer.from('not a jpeg'))).toBeUndefined();
    expect(jpegFrameSize(jpeg.subarray(0, 30))).toBeUndefined(); // cut inside the tables
    expect(jpegFrameSize(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBeUndefined();
  });
});

describe('DICOM with an embedded JPEG: limits before decoding', () => {
  const bomb = solidGreyJpeg(12000, 12000); // 144 MP of grey in 0.56 MB

  it('refuses a 12000×12000 frame in a 100×100 DICOM with E_TOO_LARGE, without decoding', async () => {
    const { err, calls, ms } = await attempt(jpegDicom(100, 100, bomb), 40e6);
    expect(err).toMatchObject({
      code: 'E_TOO_LARGE',
      message: 'bomb.dcm: the JPEG frame is 12000×12000 = 144.0 MP, above the limit of 40.0 MP',
    });
    expect(calls).toBe(0);
    expect(ms).toBeLessThan(2000); // decoding it took 0.7–1.2 s here (+155 MB)
  });

  it('refuses a frame whose size disagrees with Rows/Columns before decoding it', async () => {
    // Within the default limit (400 MP): still refused from the header, not after decoding.
    const { err, calls } = await attempt(jpegDicom(100, 100, bomb));
    expect(err).toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: 'bomb.dcm: JPEG frame is 12000×12000 but the header says 100×100',
    });
    expect(calls).toBe(0);
    const small = await attempt(jpegDicom(100, 100, solidGreyJpeg(100, 101)));
    expect(small.err).toMatchObject({ code: 'E_IMAGE_DECODE' });
    expect(small.calls).toBe(0);
  });

  it('refuses Rows × Columns above the limit before decoding a consistent frame', async () => {
    const { err, calls, ms } = await attempt(jpegDicom(12000, 12000, bomb), 40e6);
    expect(err).toMatchObject({
      code: 'E_TOO_LARGE',
      message: expect.stringContaining('12000×12000 = 144.0 MP, above the limit of 40.0 MP'),
    });
    expect(calls).toBe(0);
    expect(ms).toBeLessThan(2000); // decoding it took 7–14 s here (+1.4 GB)
  });

  it('refuses a frame without a frame header, and still decodes a consistent one', async () => {
    const noSof = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const bad = await attempt(jpegDicom(8, 8, noSof));
    expect(bad.err).toMatchObject({ code: 'E_IMAGE_DECODE', message: /no frame header/ });
    expect(bad.calls).toBe(0);
    const before = sharpCalls.n;
    const { image } = await decodeDicom(jpegDicom(40, 24, solidGreyJpeg(40, 24)), 'ok.dcm', {
      maxPixels: 40 * 24,
    });
    expect(sharpCalls.n).toBe(before + 1); // the count sees a real decode
    expect(image).toMatchObject({ width: 40, height: 24 });
    expect(new Set(image.data)).toEqual(new Set([128]));
  });
});
