/**
 * Decode any image dentseg reads (JPEG, PNG 8/16-bit, TIFF, BMP) to one grey channel at
 * its own bit depth, with errors that name the file. Node side: sharp does the work.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DentsegError, isDentsegError } from '../errors.js';
import { decodeBmp } from './bmp.js';
import type { GreyImage } from '../imaging/types.js';

/** Pixel limit for one image (a panoramic is ≈ 4 Mpx; 20k × 20k is not an X-ray). */
export const MAX_PIXELS = 20_000 * 20_000;

export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'bmp' | 'dicom';

/** Recognise a format from the first bytes; undefined when it is none dentseg reads. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = (i: number): number => bytes[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (
    (b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0) ||
    (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && b(3) === 0x2a)
  )
    return 'tiff';
  if (b(0) === 0x42 && b(1) === 0x4d) return 'bmp';
  if (b(128) === 0x44 && b(129) === 0x49 && b(130) === 0x43 && b(131) === 0x4d) return 'dicom';
  return undefined;
}

async function readInput(input: string | Buffer, name: string): Promise<Buffer> {
  if (typeof input !== 'string') return input;
  try {
    return await readFile(input);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new DentsegError('E_FILE_NOT_FOUND', 'no such file', { file: name, cause: err });
    if (code === 'EISDIR')
      throw new DentsegError('E_IMAGE_FORMAT', 'is a folder, not an image', { file: name });
    throw new DentsegError('E_IMAGE_DECODE', `cannot read: ${String(err)}`, {
      file: name,
      cause: err,
    });
  }
}

/** Average the colour channels of interleaved raw pixels into grey (luma weights). */
function toGrey(
  raw: Uint8Array | Uint16Array,
  pixels: number,
  channels: number,
): Uint8Array | Uint16Array {
  if (channels === 1) return raw;
  const out = raw instanceof Uint16Array ? new Uint16Array(pixels) : new Uint8Array(pixels);
  if (channels === 2) {
    for (let i = 0; i < pixels; i++) out[i] = raw[i * 2]!;
    return out;
  }
  for (let i = 0, p = 0; i < pixels; i++, p += channels) {
    const r = raw[p]!;
    const g = raw[p + 1]!;
    const b = raw[p + 2]!;
    out[i] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  return out;
}

/**
 * Decode a file path or the bytes of an image to a `GreyImage` (colour is converted with
 * luma weights; RGB-stored grey stays exact; EXIF orientation is applied).
 * Errors: E_FILE_NOT_FOUND, E_IMAGE_FORMAT (not JPEG/PNG/TIFF/BMP), E_IMAGE_DECODE
 * (truncated, corrupt, empty), E_TOO_LARGE; each names `name` (default: the path or
 * "<buffer>").
 */
export async function decodeImage(input: string | Buffer, name?: string): Promise<GreyImage> {
  const label = name ?? (typeof input === 'string' ? input : '<buffer>');
  const bytes = await readInput(input, label);
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
    let grey = toGrey(raw, pixels, info.channels);
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
