/**
 * decodeImage: every format dentseg reads, grey stored as RGB stays exact, 16-bit
 * survives, and each failure has its code and names the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/index.node.js';

const W = 37;
const H = 23;
const grey8 = Uint8Array.from({ length: W * H }, (_, i) => (i * 7) % 256);

/** A 16-bit grey PNG written by hand (sharp cannot take 16-bit raw input). */
function png16(width: number, height: number, data: Uint16Array): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 0; // grey
  const raw = Buffer.alloc(height * (1 + width * 2));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      raw.writeUInt16BE(data[y * width + x]!, y * (1 + width * 2) + 1 + x * 2);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function bmp24(width: number, height: number, pixel: (x: number, y: number) => number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + stride * height);
  buf.write('BM', 0);
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22); // bottom-up
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y);
      buf.fill(
        v,
        54 + (height - 1 - y) * stride + x * 3,
        54 + (height - 1 - y) * stride + x * 3 + 3,
      );
    }
  }
  return buf;
}

describe('decodeImage', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-decode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads 8-bit grey PNG and TIFF exactly', async () => {
    for (const fmt of ['png', 'tiff'] as const) {
      const buf = await sharp(grey8, { raw: { width: W, height: H, channels: 1 } })
        .toFormat(fmt, { compression: fmt === 'tiff' ? 'lzw' : undefined })
        .toBuffer();
      const img = await decodeImage(buf);
      expect([img.width, img.height, img.bitDepth]).toEqual([W, H, 8]);
      expect(Array.from(img.data)).toEqual(Array.from(grey8));
    }
  });

  it('keeps grey stored as RGB exact (lossless) and converts colour by luma', async () => {
    const rgb = new Uint8Array(W * H * 3);
    grey8.forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
    const img = await decodeImage(
      await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
        .png()
        .toBuffer(),
    );
    expect(Array.from(img.data)).toEqual(Array.from(grey8));
    const red = await sharp({
      create: { width: 4, height: 4, channels: 3, background: { r: 255, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    expect((await decodeImage(red)).data[0]).toBe(76);
  });

  it('reads JPEG within compression error', async () => {
    const jpg = await sharp(grey8, { raw: { width: W, height: H, channels: 1 } })
      .jpeg({ quality: 100 })
      .toBuffer();
    const img = await decodeImage(jpg);
    expect([img.width, img.height, img.bitDepth]).toEqual([W, H, 8]);
  });

  it('keeps 16-bit PNG at 16 bits', async () => {
    const g16 = Uint16Array.from({ length: W * H }, (_, i) => (i * 1777) % 65536);
    const png = png16(W, H, g16);
    const img = await decodeImage(png);
    expect(img.bitDepth).toBe(16);
    expect(img.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(img.data)).toEqual(Array.from(g16));
  });

  it('reads 24-bit BMP (bottom-up) exactly', async () => {
    const img = await decodeImage(
      bmp24(W, H, (x, y) => grey8[y * W + x]!),
      'x.bmp',
    );
    expect([img.width, img.height]).toEqual([W, H]);
    expect(Array.from(img.data)).toEqual(Array.from(grey8));
  });

  it('names the file in every error, with a stable code', async () => {
    const text = path.join(dir, 'notes.png');
    writeFileSync(text, 'hello');
    await expect(decodeImage(text)).rejects.toMatchObject({ code: 'E_IMAGE_FORMAT', file: text });
    const empty = path.join(dir, 'empty.jpg');
    writeFileSync(empty, '');
    await expect(decodeImage(empty)).rejects.toMatchObject({ code: 'E_IMAGE_DECODE', file: empty });
    const jpg = await sharp(grey8, { raw: { width: W, height: H, channels: 1 } })
      .jpeg()
      .toBuffer();
    const cut = path.join(dir, 'cut.jpg');
    writeFileSync(cut, jpg.subarray(0, jpg.length >> 1));
    await expect(decodeImage(cut)).rejects.toMatchObject({ code: 'E_IMAGE_DECODE', file: cut });
    await expect(decodeImage(path.join(dir, 'absent.png'))).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
    await expect(decodeImage(Buffer.from('xx'), 'upload.png')).rejects.toThrow(/upload\.png/);
  });
});
