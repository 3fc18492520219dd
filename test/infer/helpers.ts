/**
 * Test fixtures for inference: a tiny random-weight U-Net (width 1/16, 64²) saved as a
 * model folder, and DICOM files built with dcmjs from pixels (as a scanner would write them).
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import dcmjs from 'dcmjs';
import sharp from 'sharp';
export { writeTinyModel } from '../helpers/tiny-model.js';

/** A fresh temp folder. */
export function tempDir(prefix = 'dentseg-infer-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

/** Options for `buildDicom`. */
export interface DicomFixture {
  readonly width: number;
  readonly height: number;
  /** Stored values, row-major (8-bit or 16-bit per BitsAllocated). */
  readonly pixels: Uint8Array | Uint16Array;
  readonly bitsStored?: number;
  readonly photometric?: 'MONOCHROME1' | 'MONOCHROME2';
  readonly transferSyntax?: string;
  readonly window?: [number, number];
  /** Encapsulated frame (JPEG baseline) instead of native pixels. */
  readonly jpegFrame?: Buffer;
  /** More tags (naturalised names), e.g. study and series UIDs; they win over the defaults. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A DICOM Part-10 file with a fake patient, as dcmjs writes it. */
export function buildDicom(f: DicomFixture): Buffer {
  const ts = f.transferSyntax ?? '1.2.840.10008.1.2.1';
  const sixteen = f.pixels instanceof Uint16Array;
  const meta = {
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.1.1',
    MediaStorageSOPInstanceUID: '1.2.3.4.5.6.7',
    TransferSyntaxUID: ts,
    ImplementationClassUID: '1.2.3.4.5.6.8',
  };
  const bitsStored = f.bitsStored ?? (sixteen ? 16 : 8);
  const pixelBytes = f.jpegFrame
    ? [
        f.jpegFrame.buffer.slice(
          f.jpegFrame.byteOffset,
          f.jpegFrame.byteOffset + f.jpegFrame.length,
        ),
      ]
    : f.pixels.buffer.slice(f.pixels.byteOffset, f.pixels.byteOffset + f.pixels.byteLength);
  const ds: Record<string, unknown> = {
    PatientName: 'Doe^Jane',
    PatientID: 'PID-12345',
    PatientBirthDate: '19700101',
    Modality: 'PX',
    SOPClassUID: meta.MediaStorageSOPClassUID,
    SOPInstanceUID: meta.MediaStorageSOPInstanceUID,
    Rows: f.height,
    Columns: f.width,
    BitsAllocated: sixteen ? 16 : 8,
    BitsStored: bitsStored,
    HighBit: bitsStored - 1,
    PixelRepresentation: 0,
    SamplesPerPixel: 1,
    PhotometricInterpretation: f.photometric ?? 'MONOCHROME2',
    PixelData: pixelBytes,
    _vrMap: { PixelData: sixteen ? 'OW' : 'OB' },
  };
  Object.assign(ds, f.extra);
  if (f.window) {
    ds.WindowCenter = f.window[0];
    ds.WindowWidth = f.window[1];
  }
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return Buffer.from(dict.write());
}

/** A DICOM (12-bit, explicit VR little endian) built from an 8-bit grey image file. */
export async function dicomFromImage(
  file: string,
  opts: { photometric?: 'MONOCHROME1' | 'MONOCHROME2'; jpeg?: boolean } = {},
): Promise<{ dicom: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  if (opts.jpeg) {
    const jpegFrame = await sharp(data, { raw: { width, height, channels: 1 } })
      .jpeg({ quality: 92 })
      .toBuffer();
    return {
      dicom: buildDicom({
        width,
        height,
        pixels: new Uint8Array(0),
        jpegFrame,
        transferSyntax: '1.2.840.10008.1.2.4.50',
      }),
      width,
      height,
    };
  }
  const pixels = new Uint16Array(width * height);
  const inv = opts.photometric === 'MONOCHROME1';
  for (let i = 0; i < pixels.length; i++) pixels[i] = (inv ? 255 - data[i]! : data[i]!) * 16;
  return {
    dicom: buildDicom({
      width,
      height,
      pixels,
      bitsStored: 12,
      photometric: opts.photometric ?? 'MONOCHROME2',
    }),
    width,
    height,
  };
}
