// A 16-bit X-ray holding 12-bit data (0…4095, as most sensors write it) is shown by one
// rule: `dentseg predict`'s X.overlay.png and the server's stored overlay are the same
// bytes, and the X-ray is stretched to its own range rather than divided by 257 (which
// left it nearly black).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/index.node.js';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, type LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import { runCliSync } from '../helpers/paths.js';
import { multipart } from '../serve/helpers.js';
import { tempDir, writeTinyModel } from './helpers.js';

const dir = tempDir('dentseg-overlay16-');
const modelDir = path.join(dir, 'model');
const xray = path.join(dir, 'twelve-bit.png');
const W = 160;
const H = 96;

let model: LoadedModel;

/**
 * A 16-bit grey PNG written by hand: sharp rescales 16-bit raw input to 8-bit levels
 * (4095 would become 15), so it cannot make a 12-bit test image.
 */
function grey16Png(px: Uint16Array, width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const v of b) c = crcTable[(c ^ v) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(typed));
    return Buffer.concat([head, typed, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = 0; // grey
  const rows = Buffer.alloc(height * (1 + width * 2));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      rows.writeUInt16BE(px[y * width + x]!, y * (1 + width * 2) + 1 + x * 2);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

beforeAll(async () => {
  await initEngine();
  await writeTinyModel(modelDir);
  model = await loadModel(modelDir);
  // A ramp over the 12-bit range with a bright block: 16-bit samples, none above 4095.
  const px = new Uint16Array(W * H).map((_, i) => {
    const x = i % W;
    const y = Math.floor(i / W);
    return x > 100 && y > 30 && y < 60 ? 4095 : Math.round((x / (W - 1)) * 3000) + 100;
  });
  writeFileSync(xray, grey16Png(px, W, H));
});
afterAll(() => model?.dispose());

describe('16-bit display rule', () => {
  it('predict and the server draw the same overlay, stretched to the image range', async () => {
    const decoded = await decodeImage(xray);
    expect(decoded.bitDepth).toBe(16);
    expect(Math.max(...decoded.data)).toBe(4095);
    const out = path.join(dir, 'out');
    mkdirSync(out, { recursive: true });
    const run = runCliSync(['predict', '--model', modelDir, '--input', xray, '--output', out]);
    expect(run.status, run.stderr).toBe(0);
    const predicted = readFileSync(path.join(out, 'twelve-bit.overlay.png'));

    const app = await buildApp({ model, dataDir: path.join(dir, 'data') });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(readFileSync(xray), 'twelve-bit.png', 'file', 'image/png'),
      });
      expect(res.statusCode).toBe(201);
      const links = res.json<{ links: { overlay: string; original: string } }>().links;
      const served = (await app.inject({ url: links.overlay })).rawPayload;
      expect(served.equals(predicted)).toBe(true);

      // The stored original: 100 → 0 (black), 4095 → 255 (white), not 0…16.
      const original = await sharp((await app.inject({ url: links.original })).rawPayload)
        .extractChannel(0)
        .raw()
        .toBuffer();
      expect(original[0]).toBe(0);
      expect(original[40 * W + 120]).toBe(255);
    } finally {
      await app.close();
    }
    // Red is 0 in the mask colour: a bright red channel can only be the stretched X-ray.
    const { data, info } = await sharp(predicted).raw().toBuffer({ resolveWithObject: true });
    let maxRed = 0;
    for (let i = 0; i < data.length; i += info.channels) maxRed = Math.max(maxRed, data[i]!);
    expect(maxRed).toBeGreaterThan(200);
  }, 300_000);
});
