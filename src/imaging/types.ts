/**
 * The one internal image type every stage speaks: a single grey channel at the file's
 * own bit depth. Kept free of Node so the browser and workers can share it.
 */

/** A decoded grey image, row-major, one sample per pixel. */
export interface GreyImage {
  /** Width in pixels (≥ 1). */
  readonly width: number;
  /** Height in pixels (≥ 1). */
  readonly height: number;
  /** `width * height` samples: 0…255 for 8-bit, 0…65535 for 16-bit. */
  readonly data: Uint8Array | Uint16Array;
  readonly bitDepth: 8 | 16;
  /**
   * Samples shown black and white, `[lo, hi]` with lo < hi, when the file said how to show
   * it (a DICOM window, which the decoder has already mapped to 0…65535). Absent: the
   * image's own range (see `toGrey8`). Display only; the network never sees it.
   */
  readonly displayRange?: readonly [number, number];
}

/** What was read from a DICOM file besides its pixels (see ./dicom.node.ts). */
export interface DicomInfo {
  /** Transfer syntax UID. */
  readonly transferSyntax: string;
  readonly modality: string | undefined;
  readonly photometric: 'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'YBR_FULL_422' | 'YBR_FULL';
  readonly bitsStored: number;
  /** The window applied `[centre, width]` in rescaled units, or null when the file has none. */
  readonly window: [number, number] | null;
  /** Identifying tags (`DICOM_PATIENT_TAGS` present in the file); never log these. */
  readonly patientTags: Readonly<Record<string, string>>;
  /** SOP Class UID of the file (what an export referencing it names), when present. */
  readonly sopClassUid?: string;
  /**
   * [row, column] distance between pixel centres in mm: PixelSpacing (0028,0030), else
   * ImagerPixelSpacing (0018,1164); absent when the file has neither.
   */
  readonly pixelSpacingMm?: readonly [number, number];
}

/** Largest sample value for a bit depth (255 or 65535). */
export function maxValue(bitDepth: 8 | 16): number {
  return bitDepth === 16 ? 65535 : 255;
}
