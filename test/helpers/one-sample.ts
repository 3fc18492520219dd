/**
 * A data set folder of one flat grey X-ray `a.png` (value 90) and its mask, for tests that
 * score fixed models on a mask whose answer is known: `dir/images/a.png`, `dir/masks/a.png`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Write the folder; `mask` holds the mask's PNG values (0/255 binary, or class indices). */
export async function writeOneSample(
  dir: string,
  width: number,
  height: number,
  mask: Uint8Array,
): Promise<{ images: string; masks: string }> {
  const images = path.join(dir, 'images');
  const masks = path.join(dir, 'masks');
  mkdirSync(images, { recursive: true });
  mkdirSync(masks, { recursive: true });
  const raw = { raw: { width, height, channels: 1 as const } };
  await sharp(Buffer.alloc(width * height, 90), raw)
    .png()
    .toFile(path.join(images, 'a.png'));
  await sharp(Buffer.from(mask), raw).png().toFile(path.join(masks, 'a.png'));
  return { images, masks };
}
