/**
 * DICOM input (panoramic PX/DX and intra-oral IO files) decoded to dentseg's grey image:
 * uncompressed little-endian and JPEG-baseline pixel data, rescale slope/intercept, window
 * centre/width, MONOCHROME1 inverted. Patient tags are kept apart so callers can leave
 * them out of logs and JSON (privacy).
 */
import type dcmjsModule from 'dcmjs';
import sharp from 'sharp';
import { MAX_PIXELS } from './decode.node.js';
import { sniffFormat } from './sniff.js';
import type { DicomInfo, GreyImage } from './types.js';

export type { DicomInfo } from './types.js';
import { DentsegError } from '../errors.js';
import { jpegFrameSize } from './jpeg-header.js';

type Dcmjs = typeof dcmjsModule;
let dcmjsLoaded: Promise<Dcmjs> | undefined;

/** dcmjs on first use: most inputs are PNG/JPEG, and loading it costs start-up time. */
function loadDcmjs(): Promise<Dcmjs> {
  dcmjsLoaded ??= import('dcmjs').then(({ default: dcmjs }) => {
    dcmjs.log.setLevel('silent');
    return dcmjs;
  });
  return dcmjsLoaded;
}

/** Transfer syntaxes dentseg reads, by UID. */
export const DICOM_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
};
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

/** Tags that identify the patient or the visit: only reported with `--keep-dicom-tags`. */
export const DICOM_PATIENT_TAGS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'PatientAge',
  'OtherPatientIDs',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'InstitutionName',
  'ReferringPhysicianName',
  'StudyDescription',
  'StudyID',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
] as const;

/** True when `buf` has the Part-10 "DICM" marker at byte 128 (by the one sniffer, ./sniff.ts). */
export function isDicom(buf: Uint8Array): boolean {
  return sniffFormat(buf) === 'dicom';
}

/**
 * Read the transfer syntax from the file meta group (always explicit VR little endian),
 * before handing the data set to dcmjs, so unsupported syntaxes fail with a clear message.
 */
export function readTransferSyntax(buf: Uint8Array): string | undefined {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 132;
  while (pos + 8 <= buf.length) {
    const group = view.getUint16(pos, true);
    const element = view.getUint16(pos + 2, true);
    if (group !== 0x0002) return undefined;
    const vr = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!);
    let length: number;
    let value: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      length = view.getUint32(pos + 8, true);
      value = pos + 12;
    } else {
      length = view.getUint16(pos + 6, true);
      value = pos + 8;
    }
    if (element === 0x0010) {
      return new TextDecoder('latin1')
        .decode(buf.subarray(value, value + length))
        .replace(/[\0\s]+$/, '');
    }
    pos = value + length;
  }
  return undefined;
}

function num(value: unknown): number | undefined {
  const v = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * The [row, column] spacing in mm of a DICOM spacing attribute (`"0.1\\0.1"` naturalised to
 * two numbers or strings), or undefined unless both are positive numbers.
 */
function spacingOf(value: unknown): [number, number] | undefined {
  const parts = Array.isArray(value)
    ? (value as unknown[])
    : typeof value === 'string'
      ? value.split('\\')
      : [];
  if (parts.length !== 2) return undefined;
  const [row, col] = parts.map((p) => num(p));
  return row !== undefined && col !== undefined && row > 0 && col > 0 ? [row, col] : undefined;
}

function text(value: unknown): string | undefined {
  const v = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && 'Alphabetic' in v) return String(v.Alphabetic);
  return undefined;
}

/** Options of {@link decodeDicom}. */
export interface DecodeDicomOptions {
  /**
   * Largest width × height accepted, pixels (default `MAX_PIXELS`, the data stage's limit;
   * the server passes its own). Checked on the data set's Rows/Columns and on an embedded
   * JPEG frame's own header before anything is decoded.
   */
  readonly maxPixels?: number;
}

/** Refuse `width`×`height` above `maxPixels` with E_TOO_LARGE (HTTP 413). */
function assertPixels(
  what: string,
  width: number,
  height: number,
  maxPixels: number,
  name: string,
): void {
  const pixels = width * height;
  if (pixels <= maxPixels) return;
  throw new DentsegError(
    'E_TOO_LARGE',
    `${what} is ${width}×${height} = ${(pixels / 1e6).toFixed(1)} MP, above the limit of ${(maxPixels / 1e6).toFixed(1)} MP`,
    { file: name, hint: 'downscale the image' },
  );
}

/**
 * The size an encapsulated JPEG frame declares, checked against the limit and against the
 * data set's Rows/Columns before it is decoded: a small DICOM may carry a huge frame (a
 * decompression bomb), and the decoder would allocate for the frame, not for the header.
 */
function checkJpegFrame(
  frame: Uint8Array,
  cols: number,
  rows: number,
  maxPixels: number,
  name: string,
): void {
  const declared = jpegFrameSize(frame);
  if (!declared) {
    throw new DentsegError('E_IMAGE_DECODE', 'the JPEG frame in the DICOM has no frame header', {
      file: name,
      hint: 're-export the file uncompressed or as JPEG baseline',
    });
  }
  assertPixels('the JPEG frame', declared.width, declared.height, maxPixels, name);
  if (declared.width !== cols || declared.height !== rows) {
    throw new DentsegError(
      'E_IMAGE_DECODE',
      `JPEG frame is ${declared.width}×${declared.height} but the header says ${cols}×${rows}`,
      { file: name, hint: 'the file is inconsistent; re-export it from the imaging software' },
    );
  }
}

/**
 * Decode a DICOM Part-10 buffer to a grey image. `name` is used in error messages.
 * Errors: E_IMAGE_DECODE, E_DICOM_UNSUPPORTED, E_TOO_LARGE (Rows × Columns or the
 * embedded JPEG frame above `maxPixels`, refused before decoding).
 */
export async function decodeDicom(
  buf: Buffer,
  name = 'DICOM input',
  opts: DecodeDicomOptions = {},
): Promise<{ image: GreyImage; dicom: DicomInfo }> {
  const maxPixels = opts.maxPixels ?? MAX_PIXELS;
  if (buf.length === 0) throw new DentsegError('E_IMAGE_DECODE', 'empty file', { file: name });
  if (!isDicom(buf)) {
    throw new DentsegError('E_IMAGE_DECODE', 'not a DICOM file (no "DICM" marker at byte 128)', {
      file: name,
      hint: 'DICOM files must be DICOM Part 10 (with the 128-byte preamble)',
    });
  }
  const syntax = readTransferSyntax(buf);
  if (syntax === undefined || !(syntax in DICOM_TRANSFER_SYNTAXES)) {
    throw new DentsegError(
      'E_DICOM_UNSUPPORTED',
      `unsupported transfer syntax ${syntax ?? '(missing)'}`,
      {
        file: name,
        hint: `dentseg reads ${Object.entries(DICOM_TRANSFER_SYNTAXES)
          .map(([uid, n]) => `${n} (${uid})`)
          .join(', ')}; re-export the file uncompressed or as JPEG baseline`,
      },
    );
  }
  const dcmjs = await loadDcmjs();
  let ds: Record<string, unknown>;
  try {
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const parsed = dcmjs.data.DicomMessage.readFile(ab);
    ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  } catch (err) {
    throw new DentsegError('E_IMAGE_DECODE', `unreadable DICOM data set (${String(err)})`, {
      file: name,
      cause: err,
    });
  }
  const rows = num(ds.Rows);
  const cols = num(ds.Columns);
  const frames = ds.PixelData;
  if (!rows || !cols || !Array.isArray(frames) || !(frames[0] instanceof ArrayBuffer)) {
    throw new DentsegError(
      'E_IMAGE_DECODE',
      'the DICOM file holds no image (Rows, Columns, PixelData)',
      {
        file: name,
      },
    );
  }
  assertPixels('the image (Rows × Columns)', cols, rows, maxPixels, name);
  const photometric = (text(ds.PhotometricInterpretation) ?? 'MONOCHROME2').trim();
  const samples = num(ds.SamplesPerPixel) ?? 1;
  const bitsAllocated = num(ds.BitsAllocated) ?? 16;
  const bitsStored = num(ds.BitsStored) ?? bitsAllocated;
  const signed = num(ds.PixelRepresentation) === 1;
  const supportedPhotometric = ['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422'];
  if (!supportedPhotometric.includes(photometric)) {
    throw new DentsegError(
      'E_DICOM_UNSUPPORTED',
      `unsupported photometric interpretation ${photometric}`,
      {
        file: name,
      },
    );
  }
  if (samples !== 1 && !(samples === 3 && num(ds.PlanarConfiguration) !== 1)) {
    throw new DentsegError(
      'E_DICOM_UNSUPPORTED',
      `unsupported pixel layout: SamplesPerPixel ${samples}, PlanarConfiguration ${num(ds.PlanarConfiguration) ?? 0}`,
      { file: name },
    );
  }
  const n = rows * cols;
  const frame = frames[0] as ArrayBuffer;
  if (syntax === JPEG_BASELINE) checkJpegFrame(new Uint8Array(frame), cols, rows, maxPixels, name);
  const stored = new Float64Array(n);
  if (syntax === JPEG_BASELINE) {
    // The frame header was checked above; the limit also stops libvips should it disagree.
    const { data, info } = await sharp(Buffer.from(frame), { limitInputPixels: n })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true })
      .catch((err: unknown) => {
        throw new DentsegError('E_IMAGE_DECODE', `corrupt JPEG frame in DICOM (${String(err)})`, {
          file: name,
          cause: err,
        });
      });
    if (info.width !== cols || info.height !== rows) {
      throw new DentsegError(
        'E_IMAGE_DECODE',
        `JPEG frame is ${info.width}×${info.height} but the header says ${cols}×${rows}`,
        { file: name },
      );
    }
    for (let i = 0; i < n; i++) stored[i] = data[i * info.channels]!;
  } else {
    readNative(frame, stored, {
      n,
      samples,
      bitsAllocated,
      bitsStored,
      signed,
      name,
      luma: photometric.startsWith('YBR') ? [1, 0, 0] : [0.299, 0.587, 0.114],
    });
  }
  const slope = num(ds.RescaleSlope) ?? 1;
  const intercept = num(ds.RescaleIntercept) ?? 0;
  if (slope !== 1 || intercept !== 0)
    for (let i = 0; i < n; i++) stored[i] = stored[i]! * slope + intercept;

  const centre = num(ds.WindowCenter);
  const width = num(ds.WindowWidth);
  const window: [number, number] | null =
    centre !== undefined && width !== undefined && width >= 1 ? [centre, width] : null;
  const out8 = bitsStored <= 8 && window === null;
  const max = out8 ? 255 : 65535;
  const data = out8 ? new Uint8Array(n) : new Uint16Array(n);
  if (window) {
    // DICOM PS3.3 C.11.2.1.2.1 linear VOI LUT.
    const [c, w] = window;
    const lo = c - 0.5 - (w - 1) / 2;
    const hi = c - 0.5 + (w - 1) / 2;
    for (let i = 0; i < n; i++) {
      const x = stored[i]!;
      data[i] = x <= lo ? 0 : x > hi ? max : Math.round(((x - (c - 0.5)) / (w - 1) + 0.5) * max);
    }
  } else {
    // No window: the stored bit range, or the data's own range when rescaled/signed.
    let lo = signed ? -(2 ** (bitsStored - 1)) : 0;
    let hi = signed ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
    if (slope !== 1 || intercept !== 0) {
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, stored[i]!);
        hi = Math.max(hi, stored[i]!);
      }
    }
    const scale = hi > lo ? max / (hi - lo) : 0;
    for (let i = 0; i < n; i++)
      data[i] = Math.min(max, Math.max(0, Math.round((stored[i]! - lo) * scale)));
  }
  if (photometric === 'MONOCHROME1') for (let i = 0; i < n; i++) data[i] = max - data[i]!;

  // PixelSpacing is calibrated to the patient; a panoramic often has only the detector's.
  const spacing = spacingOf(ds.PixelSpacing) ?? spacingOf(ds.ImagerPixelSpacing);
  const patientTags: Record<string, string> = {};
  for (const tag of DICOM_PATIENT_TAGS) {
    const v = text(ds[tag]);
    if (v !== undefined && v !== '') patientTags[tag] = v;
  }
  return {
    // A window says how the file is meant to be shown: already applied, so the whole range.
    image: {
      width: cols,
      height: rows,
      data,
      bitDepth: out8 ? 8 : 16,
      ...(window ? { displayRange: [0, max] as const } : {}),
    },
    dicom: {
      transferSyntax: syntax,
      modality: text(ds.Modality),
      photometric: photometric as DicomInfo['photometric'],
      bitsStored,
      window,
      patientTags,
      ...(text(ds.SOPClassUID) ? { sopClassUid: text(ds.SOPClassUID) as string } : {}),
      ...(spacing ? { pixelSpacingMm: spacing } : {}),
    },
  };
}

function readNative(
  frame: ArrayBuffer,
  stored: Float64Array,
  o: {
    n: number;
    samples: number;
    bitsAllocated: number;
    bitsStored: number;
    signed: boolean;
    name: string;
    /** Weights of the 3 samples of a colour pixel. */
    luma: readonly number[];
  },
): void {
  const { n, samples, bitsAllocated, bitsStored, signed, name, luma } = o;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new DentsegError(
      'E_DICOM_UNSUPPORTED',
      `unsupported BitsAllocated ${bitsAllocated} (8 or 16)`,
      {
        file: name,
      },
    );
  }
  const bytes = bitsAllocated / 8;
  if (frame.byteLength < n * samples * bytes) {
    throw new DentsegError(
      'E_IMAGE_DECODE',
      `pixel data is ${frame.byteLength} bytes, expected ${n * samples * bytes} (truncated file?)`,
      { file: name },
    );
  }
  const view = new DataView(frame);
  const mask = 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let s = 0; s < samples; s++) {
      const off = (i * samples + s) * bytes;
      let v = (bytes === 1 ? view.getUint8(off) : view.getUint16(off, true)) & mask;
      if (signed && v >= signBit) v -= 2 * signBit;
      // RGB (interleaved) to grey with Rec. 601 luma weights; YBR: its Y sample.
      acc += samples === 3 ? v * (luma[s] ?? 0) : v;
    }
    stored[i] = acc;
  }
}
