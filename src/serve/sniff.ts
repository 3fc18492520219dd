/**
 * Judges an upload by its content, never by its name or declared type: magic bytes say
 * which X-ray format it claims to be, and the header's dimensions are checked against the
 * pixel limit before anything is decoded (decompression bombs are refused cheaply).
 */
import sharp from 'sharp';
import { DentsegError } from '../errors.js';
import { sniffFormat, type ImageFormat } from '../imaging/sniff.js';

/** Formats the server accepts, as recognised from their first bytes (one judge for all). */
export type UploadFormat = ImageFormat;
export { sniffFormat };

/** Width and height read from the header alone, when the format allows it cheaply. */
export async function headerSize(
  buf: Buffer,
  format: UploadFormat,
): Promise<{ width: number; height: number } | undefined> {
  if (format === 'bmp') {
    const width = Math.abs(buf.readInt32LE(18));
    const height = Math.abs(buf.readInt32LE(22));
    return { width, height };
  }
  // DICOM: decodeDicom checks Rows × Columns and an embedded JPEG frame's own header
  // against the limit before it decodes anything.
  if (format === 'dicom') return undefined;
  try {
    const meta = await sharp(buf, { limitInputPixels: false }).metadata();
    if (meta.width === undefined || meta.height === undefined) return undefined;
    return { width: meta.width, height: meta.height };
  } catch (cause) {
    throw new DentsegError('E_IMAGE_DECODE', `cannot read the ${format} header`, { cause });
  }
}

/**
 * Refuse images above `maxPixels` (width × height) with E_TOO_LARGE (HTTP 413).
 * @param name the upload's file name, for the message.
 */
export function assertPixelLimit(
  size: { width: number; height: number },
  maxPixels: number,
  name: string,
): void {
  const pixels = size.width * size.height;
  if (!(pixels <= maxPixels)) {
    throw new DentsegError(
      'E_TOO_LARGE',
      `image is ${size.width}×${size.height} = ${(pixels / 1e6).toFixed(1)} MP, above the server's limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
      { file: name, hint: 'downscale the image' },
    );
  }
}

/** Sniff `buf`, refusing unknown content with E_IMAGE_FORMAT (HTTP 415). */
export function requireFormat(buf: Uint8Array, name: string): UploadFormat {
  const format = sniffFormat(buf);
  if (format === undefined) {
    throw new DentsegError(
      'E_IMAGE_FORMAT',
      'not an X-ray format dentseg reads (JPEG, PNG, TIFF, BMP or DICOM), judged by the file content',
      { file: name, hint: 'export the X-ray as PNG or DICOM' },
    );
  }
  return format;
}

/**
 * The checks every upload passes before it is kept or decoded: not empty, an X-ray format
 * by its magic bytes, and within the pixel limit by its header. Returns the format.
 */
export async function checkUpload(
  buf: Buffer,
  name: string,
  maxPixels: number,
): Promise<UploadFormat> {
  if (buf.length === 0)
    throw new DentsegError('E_IMAGE_DECODE', 'the file is empty', { file: name });
  const format = requireFormat(buf, name);
  const header = await headerSize(buf, format);
  if (header) assertPixelLimit(header, maxPixels, name);
  return format;
}
