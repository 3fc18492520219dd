/**
 * Node side of the report stage: images shrunk to what a printed page needs (libvips), so
 * that a report of a 3000-pixel panoramic stays a small file.
 */
import sharp from 'sharp';

/** Widest image placed in a report, pixels: about 200 dpi across an A4 page. */
export const REPORT_IMAGE_WIDTH = 1600;

/** `png` re-encoded no wider than {@link REPORT_IMAGE_WIDTH} (never enlarged). */
export function shrinkForReport(png: Uint8Array): Promise<Buffer> {
  return sharp(png)
    .resize({ width: REPORT_IMAGE_WIDTH, withoutEnlargement: true })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
