// One decode path: one format judge, one file reader, one 8-bit display rule and one
// palette for Node and the page.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sniffFormat as dataSniff } from '../../src/data/index.js';
import { decodeImage } from '../../src/imaging/decode.node.js';
import { displayRange, toGrey8 } from '../../src/imaging/grey8.js';
import { decodeInput } from '../../src/imaging/input.node.js';
import { classColour } from '../../src/imaging/palette.js';
import { sniffFormat } from '../../src/imaging/sniff.js';
import type { GreyImage } from '../../src/imaging/types.js';
import { classColour as pageColour } from '../../src/web/app/overlay.js';
import { sniffFormat as serveSniff } from '../../src/serve/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-display-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sixteen = (data: number[], displayRange?: [number, number]): GreyImage => ({
  width: data.length,
  height: 1,
  bitDepth: 16,
  data: Uint16Array.from(data),
  ...(displayRange ? { displayRange } : {}),
});

describe('toGrey8', () => {
  it('keeps 8-bit images as they are', () => {
    const data = Uint8Array.from([0, 7, 255]);
    expect(toGrey8({ width: 3, height: 1, bitDepth: 8, data })).toBe(data);
  });

  it('stretches 12-bit data in a 16-bit image to its own min–max', () => {
    expect(displayRange(sixteen([100, 2098, 4095]))).toEqual([100, 4095]);
    expect([...toGrey8(sixteen([100, 2098, 4095]))]).toEqual([0, 128, 255]);
  });

  it('uses the DICOM window (display range) when the decoder applied one', () => {
    // Windowed to 0…65535 already: shown as is, not stretched again.
    expect([...toGrey8(sixteen([0, 32768, 40000], [0, 65535]))]).toEqual([0, 128, 156]);
  });

  it('shows a flat image black', () => {
    expect([...toGrey8(sixteen([500, 500]))]).toEqual([0, 0]);
  });
});

describe('one format judge, one reader, one palette', () => {
  it('data, imaging and the server sniff with the same function', () => {
    expect(dataSniff).toBe(sniffFormat);
    expect(serveSniff).toBe(sniffFormat);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(sniffFormat(png)).toBe('png');
    expect(sniffFormat(png.subarray(0, 4))).toBeUndefined();
    expect(sniffFormat(Uint8Array.from([0x42, 0x4d]))).toBeUndefined();
  });

  it('a folder given as an image is the same error from decodeImage and decodeInput', async () => {
    const a = await decodeImage(dir).catch((e: unknown) => e);
    const b = await decodeInput(dir).catch((e: unknown) => e);
    expect(a).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('is a folder') });
    expect(b).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('is a folder') });
  });

  it('the page draws with the palette of the server overlay', () => {
    expect(pageColour).toBe(classColour);
  });
});
