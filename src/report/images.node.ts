/**
 * Node side of the report stage: images shrunk to what a printed page needs and encoded as
 * JPEG (libvips), so that a report of a 3000-pixel panoramic stays a small file and pdf-lib
 * embeds it without decoding (a 1600-pixel PNG costs it seconds).
 */
import sharp from 'sharp';

/** Widest image placed in a report, pixels: about 200 dpi across an A4 page. */
export const REPORT_IMAGE_WIDTH = 1600;

/** `image` as JPEG (quality 88) no wider than {@link REPORT_IMAGE_WIDTH} (never enlarged). */
export function shrinkForReport(image: Uint8Array): Promise<Buffer> {
  return sharp(image)
    .resize({ width: REPORT_IMAGE_WIDTH, withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 88, chromaSubsampling: '4:4:4' })
    .toBuffer();
}
