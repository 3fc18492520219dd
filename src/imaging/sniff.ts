/**
 * The one judge of an image's format by its content (magic bytes), never by its name:
 * decoding, folder listing and the server's upload check all ask here. Pure.
 */

/** Formats dentseg reads, as recognised from their first bytes. */
export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'bmp' | 'dicom';

/** Which format `bytes` starts like, or undefined when it is none dentseg reads. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const at = (i: number): number => bytes[i] ?? -1;
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'jpeg';
  if (
    at(0) === 0x89 &&
    at(1) === 0x50 &&
    at(2) === 0x4e &&
    at(3) === 0x47 &&
    at(4) === 0x0d &&
    at(5) === 0x0a &&
    at(6) === 0x1a &&
    at(7) === 0x0a
  )
    return 'png';
  if (
    (at(0) === 0x49 && at(1) === 0x49 && at(2) === 0x2a && at(3) === 0x00) ||
    (at(0) === 0x4d && at(1) === 0x4d && at(2) === 0x00 && at(3) === 0x2a)
  )
    return 'tiff';
  // "BM" alone is two letters of text: a BMP also needs its 26-byte header (width, height).
  if (at(0) === 0x42 && at(1) === 0x4d && bytes.length >= 26) return 'bmp';
  if (at(128) === 0x44 && at(129) === 0x49 && at(130) === 0x43 && at(131) === 0x4d) return 'dicom';
  return undefined;
}
