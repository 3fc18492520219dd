/**
 * One entry for every kind of input `segment` accepts (a path, a Buffer, a decoded image),
 * normalised to the grey image the data stage defines; DICOM is recognised by its "DICM"
 * marker (or a .dcm/.dicom name) and decoded here, everything else by src/data.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage, sniffFormat, type GreyImage } from '../data/index.js';
import { DentsegError } from '../errors.js';
import { decodeDicom, isDicom, type DicomInfo } from './dicom.js';

/** A decoded input: the grey image, plus what the DICOM header said when it was DICOM. */
export interface DecodedInput {
  readonly image: GreyImage;
  readonly dicom?: DicomInfo;
}

/** Whether a value is already a decoded grey image. */
export function isGreyImage(value: unknown): value is GreyImage {
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return false;
  const v = value as Partial<GreyImage>;
  return (
    typeof v.width === 'number' &&
    typeof v.height === 'number' &&
    (v.data instanceof Uint8Array || v.data instanceof Uint16Array) &&
    (v.bitDepth === 8 || v.bitDepth === 16)
  );
}

const DICOM_EXT = /\.(dcm|dicom)$/i;

/** Options of {@link decodeInput}. */
export interface DecodeInputOptions {
  /**
   * Largest DICOM image, width × height pixels, checked on the header (and an embedded JPEG
   * frame's own header) before decoding. Default: the data stage's `MAX_PIXELS`.
   */
  readonly maxPixels?: number;
}

/**
 * Decode a path, Buffer or grey image. `name` (default: the path as given) is used in error
 * messages; paths are never made absolute in messages.
 */
export async function decodeInput(
  input: string | Buffer | GreyImage,
  name?: string,
  opts: DecodeInputOptions = {},
): Promise<DecodedInput> {
  if (isGreyImage(input)) {
    if (input.data.length !== input.width * input.height || input.width < 1 || input.height < 1) {
      throw new DentsegError(
        'E_USAGE',
        `grey image has ${input.data.length} samples for ${input.width}×${input.height}`,
      );
    }
    return { image: input };
  }
  let buf: Buffer;
  let label = name;
  if (typeof input === 'string') {
    label ??= input;
    try {
      buf = await readFile(input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new DentsegError('E_FILE_NOT_FOUND', 'no such file', { file: label, cause: err });
      }
      if (code === 'EISDIR') {
        throw new DentsegError('E_USAGE', 'is a folder, not an image', { file: label, cause: err });
      }
      throw new DentsegError('E_IMAGE_DECODE', `cannot read the file (${code ?? String(err)})`, {
        file: label,
        cause: err,
      });
    }
  } else if (Buffer.isBuffer(input)) {
    buf = input;
  } else {
    throw new DentsegError('E_USAGE', 'input must be a file path, a Buffer or a grey image');
  }
  label ??= 'input';
  if (isDicom(buf) || DICOM_EXT.test(path.basename(label)))
    return decodeDicom(
      buf,
      label,
      opts.maxPixels !== undefined ? { maxPixels: opts.maxPixels } : {},
    );
  if (buf.length > 0 && sniffFormat(buf) === undefined) {
    // Said here rather than by the data stage, whose data sets do not take DICOM.
    throw new DentsegError(
      'E_IMAGE_FORMAT',
      'not an X-ray format dentseg reads (JPEG, PNG, TIFF, BMP or DICOM), judged by the file content',
      { file: label, hint: 'export the X-ray as PNG or DICOM' },
    );
  }
  return { image: await decodeImage(buf, label) };
}
