/** Small DOM helpers shared by the page's modules: elements by id, images as pixels, downloads. */
import { getBlob } from './api.js';

/** The element with this id (throws when the page lacks it: a build mismatch). */
export const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

/** Decode an image blob without colour management (mask values must stay exact). */
export async function bitmapOf(blob: Blob): Promise<ImageBitmap> {
  return createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
}

/** The first channel of an image's pixels (our PNGs are grey). */
export function greyPixels(bitmap: ImageBitmap): Uint8Array {
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const out = new Uint8Array(bitmap.width * bitmap.height);
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4] as number;
  return out;
}

/** Download `url` (fetched with the API token) as a file named `name`. */
export async function download(url: string, name: string): Promise<void> {
  const blob = await getBlob(url);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
