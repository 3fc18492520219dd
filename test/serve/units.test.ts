// Unit tests of the server's pure parts: content sniffing, pixel limit, the bounded queue,
// error mapping and the model card's licence line.
import { describe, expect, it } from 'vitest';
import { DentsegError } from '../../src/errors.js';
import {
  InferenceQueue,
  assertPixelLimit,
  licenceFromCard,
  sniffFormat,
  statusForCode,
  toHttpFailure,
} from '../../src/serve/index.js';

describe('sniffFormat (by content, not name)', () => {
  it('recognises the accepted formats from their magic bytes', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('png');
    expect(sniffFormat(Buffer.from('II*\0rest'))).toBe('tiff');
    expect(sniffFormat(Buffer.from('MM\0*rest'))).toBe('tiff');
    expect(sniffFormat(Buffer.concat([Buffer.from('BM'), Buffer.alloc(40)]))).toBe('bmp');
    const dicom = Buffer.alloc(200);
    dicom.write('DICM', 128, 'latin1');
    expect(sniffFormat(dicom)).toBe('dicom');
  });

  it('refuses text, empty, short and near-miss content', () => {
    expect(sniffFormat(Buffer.from('hello, this is not an X-ray\n'))).toBeUndefined();
    expect(sniffFormat(Buffer.alloc(0))).toBeUndefined();
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    expect(sniffFormat(Buffer.from('BM'))).toBeUndefined();
    const notDicom = Buffer.alloc(200);
    notDicom.write('DICM', 0, 'latin1');
    expect(sniffFormat(notDicom)).toBeUndefined();
  });
});

describe('assertPixelLimit', () => {
  it('passes at the limit and refuses above it with E_TOO_LARGE naming the file', () => {
    expect(() => assertPixelLimit({ width: 100, height: 10 }, 1000, 'a.png')).not.toThrow();
    try {
      assertPixelLimit({ width: 100, height: 11 }, 1000, 'bomb.png');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DentsegError);
      expect((err as DentsegError).code).toBe('E_TOO_LARGE');
      expect((err as DentsegError).message).toContain('bomb.png');
    }
  });
});

describe('InferenceQueue', () => {
  it('runs one job at a time, in order, and completes everything within the limit', async () => {
    const queue = new InferenceQueue({ concurrency: 1, limit: 20 });
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    const jobs = Array.from({ length: 20 }, (_, i) =>
      queue.run(async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 2));
        order.push(i);
        active -= 1;
        return i;
      }),
    );
    expect(queue.running).toBe(1);
    expect(queue.waiting).toBe(19);
    expect(await Promise.all(jobs)).toEqual(order);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxActive).toBe(1);
    expect(queue.running).toBe(0);
    expect(queue.completed).toBe(20);
  });

  it('refuses beyond the limit with E_QUEUE_FULL, and frees slots after failures', async () => {
    const queue = new InferenceQueue({ concurrency: 1, limit: 2 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const a = queue.run(() => gate.then(() => 'a'));
    const b = queue.run(async () => {
      throw new Error('boom');
    });
    await expect(queue.run(async () => 'c')).rejects.toMatchObject({ code: 'E_QUEUE_FULL' });
    release();
    expect(await a).toBe('a');
    await expect(b).rejects.toThrow('boom');
    expect(await queue.run(async () => 'd')).toBe('d');
  });

  it('validates its options', () => {
    expect(() => new InferenceQueue({ concurrency: 0, limit: 1 })).toThrow(/concurrency/);
    expect(() => new InferenceQueue({ concurrency: 2, limit: 1 })).toThrow(/queue-limit/);
  });
});

describe('HTTP error mapping', () => {
  it('gives each documented code its status', () => {
    expect(statusForCode('E_TOO_LARGE')).toBe(413);
    expect(statusForCode('E_IMAGE_FORMAT')).toBe(415);
    expect(statusForCode('E_IMAGE_DECODE')).toBe(400);
    expect(statusForCode('E_UNAUTHORIZED')).toBe(401);
    expect(statusForCode('E_NOT_FOUND')).toBe(404);
    expect(statusForCode('E_QUEUE_FULL')).toBe(503);
    expect(statusForCode('E_MODEL_INVALID')).toBe(500);
  });

  it('maps multipart size errors to 413 and hides unexpected errors behind E_INTERNAL', () => {
    const big = toHttpFailure(
      Object.assign(new Error('too big'), { code: 'FST_REQ_FILE_TOO_LARGE' }),
    );
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('E_TOO_LARGE');
    const boom = toHttpFailure(new TypeError('secret internals'));
    expect(boom.status).toBe(500);
    expect(boom.body.error.code).toBe('E_INTERNAL');
    expect(boom.body.error.message).not.toContain('secret');
    expect(boom.log).toBe(true);
  });
});

describe('licenceFromCard', () => {
  it('reads a Licence section or a Licence: line', () => {
    expect(
      licenceFromCard('# Card\n\n## Licence\n\nResearch and non-commercial use.\n\n## Data'),
    ).toBe('Research and non-commercial use.');
    expect(licenceFromCard('- **License**: CC BY-NC 4.0')).toBe('CC BY-NC 4.0');
    expect(licenceFromCard('# Card\nno such section')).toBeUndefined();
  });
});
