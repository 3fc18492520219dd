/**
 * The pieces of `X.json` and `summary.csv` that the single-model writer (./batch.ts) and the
 * model-set writer (./predict-set.ts) compute alike, kept in one place so that the two files
 * a user compares cannot drift apart.
 */
import type { DicomInfo } from '../imaging/types.js';

/** A region as the summaries count it: its class (name and index) and its area. */
interface ClassedRegion {
  readonly class: string;
  readonly classIndex: number;
  readonly areaPx: number;
}

/** Per class: its regions, their summed area in pixels and in % of the image (3 decimals). */
export type PerClassSummary = Record<string, { regions: number; areaPx: number; areaPct: number }>;

/**
 * `areaPx` as a percentage of `totalPx`, rounded to 3 decimals (`X.json`'s and the CSV's
 * `*_pct` fields).
 */
export function areaPercent(areaPx: number, totalPx: number): number {
  return Math.round((100_000 * areaPx) / totalPx) / 1000;
}

/**
 * Pixels of `mask` that are not background. An index loop: `for…of` over a typed array
 * goes through the iterator protocol, ~40 ms on a 3100×1300 mask against ~3 ms.
 */
export function maskArea(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  return n;
}

/** Names of the classes with at least one region, in class-index order. */
export function presentClasses(regions: readonly ClassedRegion[]): string[] {
  const byIndex = new Map(regions.map((f) => [f.classIndex, f.class] as const));
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, name]) => name);
}

/** `summary.perClass` of `X.json` for an image of `totalPx` pixels. */
export function perClassSummary(
  regions: readonly ClassedRegion[],
  totalPx: number,
): PerClassSummary {
  const perClass: PerClassSummary = {};
  for (const f of regions) {
    const s = (perClass[f.class] ??= { regions: 0, areaPx: 0, areaPct: 0 });
    s.regions++;
    s.areaPx += f.areaPx;
    s.areaPct = areaPercent(s.areaPx, totalPx);
  }
  return perClass;
}

/** `X.json`'s `dicom` field: how a DICOM input was read (never its patient tags). */
export function dicomSummary(dicom: DicomInfo): {
  transferSyntax: string;
  modality: string | null;
  photometric: DicomInfo['photometric'];
  bitsStored: number;
  window: DicomInfo['window'];
} {
  return {
    transferSyntax: dicom.transferSyntax,
    modality: dicom.modality ?? null,
    photometric: dicom.photometric,
    bitsStored: dicom.bitsStored,
    window: dicom.window,
  };
}
