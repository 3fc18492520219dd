/**
 * A small BMP reader (sharp's prebuilt libvips has no BMP loader): uncompressed 1/4/8-bit
 * palette, 16/24/32-bit and BI_BITFIELDS, bottom-up or top-down, to 8-bit grey. Pure.
 */
import { DentsegError } from '../errors.js';
import type { GreyImage } from './types.js';

const luma = (r: number, g: number, b: number): number =>
  Math.round(0.299 * r + 0.587 * g + 0.114 * b);

function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

/** Decode a BMP file's bytes to 8-bit grey; `name` labels errors. */
export function decodeBmp(bytes: Uint8Array, name: string): GreyImage {
  const fail = (
    why: string,
    code: 'E_IMAGE_DECODE' | 'E_IMAGE_FORMAT' = 'E_IMAGE_DECODE',
  ): never => {
    throw new DentsegError(code, `cannot decode BMP: ${why}`, {
      file: name,
      hint: code === 'E_IMAGE_FORMAT' ? 'convert it to PNG' : 're-export the image',
    });
  };
  if (bytes.length < 54) fail('file too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (headerSize < 40) fail(`unsupported header size ${headerSize}`, 'E_IMAGE_FORMAT');
  const width = dv.getInt32(18, true);
  const rawHeight = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height <= 0) fail(`bad size ${width}×${rawHeight}`);
  if (compression !== 0 && compression !== 3)
    fail(`compression ${compression} (RLE/JPEG/PNG inside BMP) is not supported`, 'E_IMAGE_FORMAT');
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) fail('truncated pixel data');
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const colours = dv.getUint32(46, true) || 1 << bpp;
    const start = 14 + headerSize;
    palette = new Uint8Array(colours);
    for (let i = 0; i < colours && start + i * 4 + 2 < bytes.length; i++) {
      const b = bytes[start + i * 4]!;
      const g = bytes[start + i * 4 + 1]!;
      const r = bytes[start + i * 4 + 2]!;
      palette[i] = luma(r, g, b);
    }
  }
  let masks: [number, number, number] =
    bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0xff00, 0xff];
  if (compression === 3) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    masks = [dv.getUint32(at, true), dv.getUint32(at + 4, true), dv.getUint32(at + 8, true)];
  }
  const ch = masks.map(maskShift);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      let v: number;
      if (bpp <= 8) {
        const bit = x * bpp;
        const byte = bytes[row + (bit >> 3)]!;
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        v = palette![idx] ?? 0;
      } else if (bpp === 24 && compression === 0) {
        const p = row + x * 3;
        v = luma(bytes[p + 2]!, bytes[p + 1]!, bytes[p]!);
      } else if (bpp === 16 || bpp === 32) {
        const px = bpp === 16 ? dv.getUint16(row + x * 2, true) : dv.getUint32(row + x * 4, true);
        const [r, g, b] = ch.map(({ shift, max }, i) =>
          max === 0 ? 0 : Math.round((((px & masks[i]!) >>> shift) * 255) / max),
        ) as [number, number, number];
        v = luma(r, g, b);
      } else {
        return fail(`${bpp} bits per pixel is not supported`, 'E_IMAGE_FORMAT');
      }
      out[o + x] = v;
    }
  }
  return { width, height, data: out, bitDepth: 8 };
}
