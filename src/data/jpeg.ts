/**
 * Node side of the `jpeg:quality` degradation: encode a grey image with sharp at a JPEG
 * quality and decode it again (16-bit images go through 8 bits, as a JPEG export would).
 * The training loader injects the 0…1 float form into the `Degrade` augmentation.
 */
import sharp from 'sharp';
import type { GreyImage } from '../imaging/types.js';

/** Encode `image` as a grey baseline JPEG at `quality` (1…100), decode it back. */
export async function jpegRoundTrip(image: GreyImage, quality: number): Promise<GreyImage> {
  const { width, height } = image;
  const eight =
    image.bitDepth === 8
      ? (image.data as Uint8Array)
      : Uint8Array.from(image.data, (v) => Math.round(v / 257));
  const jpeg = await sharp(Buffer.from(eight.buffer, eight.byteOffset, eight.byteLength), {
    raw: { width, height, channels: 1 },
  })
    .jpeg({ quality, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const { data, info } = await sharp(jpeg)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = new Uint8Array(data.buffer, data.byteOffset, info.width * info.height);
  if (image.bitDepth === 8) return { width, height, bitDepth: 8, data: Uint8Array.from(grey) };
  return { width, height, bitDepth: 16, data: Uint16Array.from(grey, (v) => v * 257) };
}

/**
 * `jpegRoundTrip` on 0…1 floats (`width*height`), the form the augmentation works on: the
 * image goes through 8 bits, as any JPEG does, and comes back as 0…1.
 */
export async function jpegRoundTripUnit(
  grey: Float32Array,
  width: number,
  height: number,
  quality: number,
): Promise<Float32Array> {
  const data = Uint8Array.from(grey, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  const out = await jpegRoundTrip({ width, height, bitDepth: 8, data }, quality);
  return Float32Array.from(out.data, (v) => v / 255);
}
