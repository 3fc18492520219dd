/**
 * A DICOM Segmentation (binary, one frame per segment) of the numbered teeth and the
 * findings, filled from their stored outlines, so a PACS or viewer (OHIF, 3D Slicer) shows
 * them as labels over the X-ray.
 */
import { fillPolygons } from '../data/rasterise.js';
import { commonModules, newUid, sourceReference, writePart10, type ExportCommon } from './dicom.js';
import { RESEARCH_NOTICE, type ReportReviewState } from './types.js';

/** SOP class UID of Segmentation Storage. */
export const SEGMENTATION_UID = '1.2.840.10008.5.1.4.1.1.66.4';

/** One segment: a label and an outline. */
export interface SegSegment {
  /** E.g. `tooth 36`, `f2 caries`. */
  readonly label: string;
  /** What it is: a tooth or a finding of `type`. */
  readonly kind: { readonly tooth: number } | { readonly finding: string };
  readonly review: ReportReviewState;
  /** Outline as [x, y] points in image pixels. */
  readonly polygon: readonly (readonly [number, number])[];
}

/** Input of {@link buildSegmentation}. */
export interface SegmentationInput extends ExportCommon {
  readonly width: number;
  readonly height: number;
  readonly segments: readonly SegSegment[];
}

interface Code {
  readonly CodeValue: string;
  readonly CodingSchemeDesignator: string;
  readonly CodeMeaning: string;
}
const sct = (value: string, meaning: string): Code => ({
  CodeValue: value,
  CodingSchemeDesignator: 'SCT',
  CodeMeaning: meaning,
});
const ANATOMY = sct('91723000', 'Anatomical Structure');
const TOOTH = sct('38199008', 'Tooth');
const ALTERED = sct('49755003', 'Morphologically Altered Structure');
const CARIES = sct('80967001', 'Dental caries');
const LESION = sct('52988006', 'Lesion');

/** Category and type codes (SNOMED CT) of a segment. */
function codes(kind: SegSegment['kind']): { category: Code; type: Code } {
  if ('tooth' in kind || /^(tooth|teeth)\b/i.test(kind.finding)) {
    return { category: ANATOMY, type: TOOTH };
  }
  return { category: ALTERED, type: /caries/i.test(kind.finding) ? CARIES : LESION };
}

/** How a segment came about, from its review state. */
function algorithmType(review: ReportReviewState): 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL' {
  if (review === 'added') return 'MANUAL';
  if (review === 'edited') return 'SEMIAUTOMATIC';
  return 'AUTOMATIC';
}

/**
 * Frames packed one bit a pixel, first pixel in the lowest bit, frames back to back
 * without padding (PS3.5 8.1.1), the whole padded to an even length.
 */
export function packFrames(input: SegmentationInput): Uint8Array {
  const { width, height, segments } = input;
  const n = width * height;
  const out = new Uint8Array(Math.ceil((n * segments.length) / 8 / 2) * 2);
  const frame = new Uint8Array(n);
  segments.forEach((s, f) => {
    if (s.polygon.length < 3) return;
    // Only the outline's bounding rows are filled, read and cleared: a tooth is a small
    // part of a panoramic image, and there are dozens of frames.
    let y0 = height;
    let y1 = -1;
    for (const [, y] of s.polygon) {
      y0 = Math.min(y0, Math.floor(y) - 1);
      y1 = Math.max(y1, Math.ceil(y) + 1);
    }
    y0 = Math.max(0, y0);
    y1 = Math.min(height - 1, y1);
    if (y1 < y0) return;
    fillPolygons(frame, width, height, [s.polygon.flatMap(([x, y]) => [x, y])], 1);
    const base = f * n;
    for (let i = y0 * width, end = (y1 + 1) * width; i < end; i++) {
      if (frame[i]) {
        frame[i] = 0;
        const bit = base + i;
        out[bit >> 3] = (out[bit >> 3] as number) | (1 << (bit & 7));
      }
    }
  });
  return out;
}

/** A Part-10 Segmentation file: one binary frame per segment, in the order given. */
export function buildSegmentation(input: SegmentationInput): Uint8Array {
  const { width, height, segments } = input;
  if (segments.length === 0) throw new Error('a DICOM SEG needs at least one segment');
  const ref = sourceReference(input.source);
  const dimensionUid = newUid();
  const packed = packFrames(input);
  const derivation = ref
    ? {
        DerivationImageSequence: [
          {
            SourceImageSequence: [
              {
                ReferencedSOPClassUID: ref.classUid,
                ReferencedSOPInstanceUID: ref.instanceUid,
                PurposeOfReferenceCodeSequence: [
                  {
                    CodeValue: '121322',
                    CodingSchemeDesignator: 'DCM',
                    CodeMeaning: 'Source image for image processing operation',
                  },
                ],
              },
            ],
            DerivationCodeSequence: [
              { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' },
            ],
          },
        ],
      }
    : { DerivationImageSequence: [] };
  return writePart10({
    ...commonModules(input, { classUid: SEGMENTATION_UID, instanceUid: newUid() }),
    Modality: 'SEG',
    SeriesInstanceUID: newUid(),
    SeriesNumber: 902,
    SeriesDescription: 'dentseg segmentation',
    InstanceNumber: 1,
    PatientOrientation: '',
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'DENTSEG',
    ContentDescription: `Teeth and findings (${input.algorithm}). ${RESEARCH_NOTICE}`.slice(0, 64),
    ContentCreatorName: '',
    SegmentationType: 'BINARY',
    LossyImageCompression: '00',
    SegmentSequence: segments.map((s, i) => {
      const { category, type } = codes(s.kind);
      const how = algorithmType(s.review);
      return {
        SegmentNumber: i + 1,
        SegmentLabel: s.label.slice(0, 64),
        SegmentDescription: `review: ${s.review}`,
        SegmentAlgorithmType: how,
        ...(how === 'MANUAL' ? {} : { SegmentAlgorithmName: input.algorithm.slice(0, 64) }),
        SegmentedPropertyCategoryCodeSequence: [category],
        SegmentedPropertyTypeCodeSequence: [type],
      };
    }),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionUid,
        DimensionIndexPointer: 0x0062000b, // ReferencedSegmentNumber
        FunctionalGroupPointer: 0x0062000a, // SegmentIdentificationSequence
        DimensionDescriptionLabel: 'Segment',
      },
    ],
    SharedFunctionalGroupsSequence: [{ ...derivation }],
    PerFrameFunctionalGroupsSequence: segments.map((_, i) => ({
      FrameContentSequence: [{ DimensionIndexValues: [i + 1] }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: i + 1 }],
    })),
    NumberOfFrames: segments.length,
    ...(ref
      ? {
          ReferencedSeriesSequence: [
            {
              SeriesInstanceUID: ref.seriesUid,
              ReferencedInstanceSequence: [
                {
                  ReferencedSOPClassUID: ref.classUid,
                  ReferencedSOPInstanceUID: ref.instanceUid,
                },
              ],
            },
          ],
        }
      : {}),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: height,
    Columns: width,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    PixelData: [packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength)],
    _vrMap: { PixelData: 'OB' },
  });
}
