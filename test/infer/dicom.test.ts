// DICOM decoding: MONOCHROME1 inversion, windowing, 8/12/16-bit, implicit and explicit
// little endian, JPEG baseline, clear errors for other transfer syntaxes and non-DICOM
// files, patient tags kept apart from what is reported.
import path from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeDicom, readTransferSyntax } from '../../src/imaging/dicom.node.js';
import { SAMPLES } from '../helpers/paths.js';
import { buildDicom, dicomFromImage } from './helpers.js';

const ramp8 = Uint8Array.from({ length: 12 }, (_, i) => i * 20);

describe('DICOM', () => {
  it('reads 8-bit explicit VR little endian as stored and inverts MONOCHROME1', async () => {
    const m2 = await decodeDicom(buildDicom({ width: 4, height: 3, pixels: ramp8 }), 'a.dcm');
    expect(m2.image).toMatchObject({ width: 4, height: 3, bitDepth: 8 });
    expect([...m2.image.data]).toEqual([...ramp8]);
    const m1 = await decodeDicom(
      buildDicom({ width: 4, height: 3, pixels: ramp8, photometric: 'MONOCHROME1' }),
      'b.dcm',
    );
    expect([...m1.image.data]).toEqual([...ramp8].map((v) => 255 - v));
    expect(m1.dicom.photometric).toBe('MONOCHROME1');
  });

  it('reads implicit VR little endian', async () => {
    const buf = buildDicom({
      width: 4,
      height: 3,
      pixels: ramp8,
      transferSyntax: '1.2.840.10008.1.2',
    });
    expect(readTransferSyntax(buf)).toBe('1.2.840.10008.1.2');
    const { image } = await decodeDicom(buf, 'c.dcm');
    expect([...image.data]).toEqual([...ramp8]);
  });

  it('scales 12-bit data to 16-bit and applies window centre/width', async () => {
    const px = Uint16Array.from([0, 1000, 2000, 3000, 4095, 2048]);
    const plain = await decodeDicom(
      buildDicom({ width: 3, height: 2, pixels: px, bitsStored: 12 }),
      'd.dcm',
    );
    expect(plain.image.bitDepth).toBe(16);
    expect(plain.image.data[4]).toBe(65535);
    expect(plain.image.data[1]).toBe(Math.round((1000 * 65535) / 4095));
    // Window 2000 ± 500: below → 0, above → max, centre → half.
    const win = await decodeDicom(
      buildDicom({ width: 3, height: 2, pixels: px, bitsStored: 12, window: [2000, 1000] }),
      'e.dcm',
    );
    expect(win.dicom.window).toEqual([2000, 1000]);
    expect(win.image.data[0]).toBe(0);
    expect(win.image.data[1]).toBe(0);
    expect(win.image.data[3]).toBe(65535);
    expect(Math.abs(win.image.data[2]! - 32768)).toBeLessThan(100);
  });

  it('reads a 16-bit MONOCHROME1 file inverted', async () => {
    const px = Uint16Array.from([0, 65535, 30000, 1]);
    const { image } = await decodeDicom(
      buildDicom({ width: 2, height: 2, pixels: px, photometric: 'MONOCHROME1' }),
      'f.dcm',
    );
    expect([...image.data]).toEqual([65535, 0, 35535, 65534]);
  });

  it.skipIf(!existsSync(SAMPLES))(
    'reads JPEG baseline frames (from a full-size sample)',
    async () => {
      const file = path.join(SAMPLES, 'images', 'abdi-5.png');
      const { dicom, width, height } = await dicomFromImage(file, { jpeg: true });
      const { image, dicom: info } = await decodeDicom(dicom, 'jpeg.dcm');
      expect(info.transferSyntax).toBe('1.2.840.10008.1.2.4.50');
      expect([image.width, image.height]).toEqual([width, height]);
      const ref = await sharp(file).greyscale().raw().toBuffer();
      let err = 0;
      for (let i = 0; i < ref.length; i++) err += Math.abs(ref[i]! - image.data[i]!);
      expect(err / ref.length).toBeLessThan(3); // lossy, but the same picture
    },
  );

  it('refuses other transfer syntaxes by name', async () => {
    const buf = buildDicom({
      width: 4,
      height: 3,
      pixels: ramp8,
      transferSyntax: '1.2.840.10008.1.2.4.90',
    });
    await expect(decodeDicom(buf, 'j2k.dcm')).rejects.toMatchObject({
      code: 'E_DICOM_UNSUPPORTED',
      message: expect.stringContaining('unsupported transfer syntax 1.2.840.10008.1.2.4.90'),
    });
  });

  it('refuses empty and non-DICOM files naming them', async () => {
    await expect(decodeDicom(Buffer.alloc(0), 'empty.dcm')).rejects.toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: 'empty.dcm: empty file',
    });
    await expect(
      decodeDicom(Buffer.from('patient notes, not an image\n'.repeat(10)), 'notes.dcm'),
    ).rejects.toMatchObject({
      code: 'E_IMAGE_DECODE',
      message: expect.stringContaining('notes.dcm'),
    });
  });

  it('keeps patient tags apart from the reported header facts', async () => {
    const { dicom } = await decodeDicom(
      buildDicom({ width: 4, height: 3, pixels: ramp8 }),
      'g.dcm',
    );
    expect(dicom.patientTags).toMatchObject({ PatientName: 'Doe^Jane', PatientID: 'PID-12345' });
    const { patientTags, ...rest } = dicom;
    void patientTags;
    expect(JSON.stringify(rest)).not.toMatch(/Doe|PID-12345|19700101/);
    expect(rest.modality).toBe('PX');
  });
});

describe('DICOM pixel spacing', () => {
  const px = { width: 4, height: 3, pixels: ramp8 };
  it('reads PixelSpacing, else ImagerPixelSpacing, as [row, column] mm', async () => {
    const both = await decodeDicom(
      buildDicom({ ...px, extra: { PixelSpacing: [0.1, 0.12], ImagerPixelSpacing: [0.2, 0.2] } }),
      'f.dcm',
    );
    expect(both.dicom.pixelSpacingMm).toEqual([0.1, 0.12]);
    const imager = await decodeDicom(
      buildDicom({ ...px, extra: { ImagerPixelSpacing: [0.2, 0.25] } }),
      'g.dcm',
    );
    expect(imager.dicom.pixelSpacingMm).toEqual([0.2, 0.25]);
  });

  it('has none when the file gives none or a malformed one', async () => {
    const none = await decodeDicom(buildDicom(px), 'h.dcm');
    expect(none.dicom.pixelSpacingMm).toBeUndefined();
    const zero = await decodeDicom(
      buildDicom({ ...px, extra: { PixelSpacing: [0, 0.1] } }),
      'i.dcm',
    );
    expect(zero.dicom.pixelSpacingMm).toBeUndefined();
  });
});
