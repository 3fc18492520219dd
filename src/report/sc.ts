/**
 * The overlay as a DICOM Secondary Capture (RGB, 8 bits a sample), so a PACS shows the
 * AI result beside the X-ray it came from.
 */
import { commonModules, newUid, sourceReference, writePart10, type ExportCommon } from './dicom.js';
import { RESEARCH_NOTICE } from './types.js';

/** SOP class UID of Secondary Capture Image Storage. */
export const SECONDARY_CAPTURE_UID = '1.2.840.10008.5.1.4.1.1.7';

/** Input of {@link buildSecondaryCapture}. */
export interface SecondaryCaptureInput extends ExportCommon {
  readonly width: number;
  readonly height: number;
  /** Interleaved RGB, `width * height * 3` bytes, row-major. */
  readonly rgb: Uint8Array;
}

/** A Part-10 Secondary Capture file of the overlay. */
export function buildSecondaryCapture(input: SecondaryCaptureInput): Uint8Array {
  const { width, height, rgb } = input;
  if (rgb.length !== width * height * 3) {
    throw new Error(`RGB pixels are ${rgb.length} bytes, expected ${width * height * 3}`);
  }
  const ref = sourceReference(input.source);
  const pixels = rgb.buffer.slice(rgb.byteOffset, rgb.byteOffset + rgb.byteLength);
  return writePart10({
    ...commonModules(input, { classUid: SECONDARY_CAPTURE_UID, instanceUid: newUid() }),
    Modality: 'OT',
    SeriesInstanceUID: newUid(),
    SeriesNumber: 901,
    BodyPartExamined: 'JAW',
    SeriesDescription: 'dentseg overlay',
    ConversionType: 'WSD',
    InstanceNumber: 1,
    PatientOrientation: '',
    ImageType: ['DERIVED', 'SECONDARY'],
    DerivationDescription: `AI segmentation overlay (${input.algorithm}). ${RESEARCH_NOTICE}`,
    BurnedInAnnotation: 'NO',
    LossyImageCompression: '00',
    ...(ref
      ? {
          SourceImageSequence: [
            {
              ReferencedSOPClassUID: ref.classUid,
              ReferencedSOPInstanceUID: ref.instanceUid,
            },
          ],
        }
      : {}),
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: height,
    Columns: width,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [pixels],
    _vrMap: { PixelData: 'OB' },
  });
}
