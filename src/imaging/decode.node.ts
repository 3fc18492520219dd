/**
 * Decode any image dentseg reads (JPEG, PNG 8/16-bit, TIFF, BMP) to one grey channel at
 * its own bit depth, with errors that name the file. Node side: sharp does the work.
 */
import sharp from 'sharp';
import { DentsegError, isDentsegError } from '../errors.js';
import { decodeBmp } from './bmp.js';
import { readImageFile } from './read.node.js';
import { pixelsToGrey } from './luma.js';
import { sniffFormat } from './sniff.js';
import type { GreyImage } from './types.js';

/** Pixel limit for one image (a panoramic is ≈ 4 Mpx; 20k × 20k is not an X-ray). */
export const MAX_PIXELS = 20_000 * 20_000;

/**
 * Decode a file path or the bytes of an image to a `GreyImage` (colour is converted with
 * luma weights; RGB-stored grey stays exact; EXIF orientation is applied).
 * Errors: E_FILE_NOT_FOUND, E_IMAGE_FORMAT (not JPEG/PNG/TIFF/BMP), E_IMAGE_DECODE
 * (truncated, corrupt, empty), E_TOO_LARGE; each names `name` (default: the path or
 * "<buffer>").
 */
export async function decodeImage(input: string | Buffer, name?: string): Promise<GreyImage> {
  const label = name ?? (typeof input === 'string' ? input : '<buffer>');
  const bytes = typeof input === 'string' ? await readImageFile(input, label) : input;
  if (bytes.length === 0)
    throw new DentsegError('E_IMAGE_DECODE', 'the file is empty', {
      file: label,
      hint: 're-export the image',
    });
  const format = sniffFormat(bytes);
  if (format === undefined) {
    throw new DentsegError('E_IMAGE_FORMAT', 'not a JPEG, PNG, TIFF or BMP image', {
      file: label,
      hint: 'convert it to PNG (DICOM is read by `dentseg predict` and `serve`, not in data sets)',
    });
  }
  if (format === 'dicom') {
    throw new DentsegError('E_IMAGE_FORMAT', 'DICOM is not read in data sets', {
      file: label,
      hint: 'export the radiograph as PNG (`dentseg predict` and `serve` read DICOM)',
    });
  }
  if (format === 'bmp') return decodeBmp(bytes, label);
  try {
    const image = sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_PIXELS });
    const meta = await image.metadata();
    const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
    const colour = (meta.channels ?? 3) >= 3;
    // Without an explicit colour space libvips would turn everything into 8-bit sRGB.
    const space = sixteen ? (colour ? 'rgb16' : 'grey16') : colour ? 'srgb' : 'b-w';
    const { data, info } = await image
      .rotate()
      .toColourspace(space)
      .raw(sixteen ? { depth: 'ushort' } : {})
      .toBuffer({ resolveWithObject: true });
    const raw = sixteen
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const pixels = info.width * info.height;
    let grey = pixelsToGrey(raw, pixels, info.channels);
    // Own the memory (sharp's buffer may be a slice of a pool) so it can be transferred.
    if (grey === raw) grey = sixteen ? new Uint16Array(raw) : new Uint8Array(raw);
    return { width: info.width, height: info.height, data: grey, bitDepth: sixteen ? 16 : 8 };
  } catch (err) {
    if (isDentsegError(err)) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(msg))
      throw new DentsegError('E_TOO_LARGE', `more than ${MAX_PIXELS} pixels`, {
        file: label,
        hint: 'downscale the image',
      });
    throw new DentsegError(
      'E_IMAGE_DECODE',
      `cannot decode ${format.toUpperCase()}: ${msg.split('\n')[0]}`,
      {
        file: label,
        hint: 're-export the image',
        cause: err,
      },
    );
  }
}
