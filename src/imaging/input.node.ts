/**
 * One entry for every kind of input `segment` accepts (a path, a Buffer, a decoded image),
 * normalised to the one grey image type; DICOM is recognised by its "DICM" marker (or a
 * .dcm/.dicom name) and read by ./dicom.node.ts, everything else by ./decode.node.ts.
 */
import path from 'node:path';
import { DentsegError } from '../errors.js';
import { decodeImage } from './decode.node.js';
import { decodeDicom, isDicom, type DicomInfo } from './dicom.node.js';
import { readImageFile } from './read.node.js';
import { sniffFormat } from './sniff.js';
import type { GreyImage } from './types.js';

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
    buf = await readImageFile(input, label);
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
