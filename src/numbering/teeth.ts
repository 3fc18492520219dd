/**
 * The teeth a dentist reads in `X.json`: each present tooth of a post-processed class map
 * at the X-ray's size with its FDI number, name, area, box, centre, outline and score,
 * and the numbers missing. Pure: typed arrays in, plain data out.
 */
import { findRegions, type Finding } from '../imaging/findings.js';
import { missingTeeth, toothName, type Fdi, type NumberingScheme } from './fdi.js';
import type { NumberingResult } from './postprocess.js';

/**
 * One tooth as `predict` reports it (pixels of the original image), with a finding's area,
 * box and centre over all of the tooth's pixels, and its largest region's outline.
 */
export interface ToothReport extends Pick<Finding, 'areaPx' | 'bbox' | 'centroid' | 'polygon'> {
  readonly fdi: Fdi;
  /** E.g. "lower left first molar". */
  readonly name: string;
  /** Confidence 0…1 from the post-processing (see `NumberedTooth.score`). */
  readonly score: number;
}

/**
 * Describe the teeth of `mask` (the post-processed class map brought to the X-ray's size,
 * `width*height`): one entry per number that `numbering` found present, ascending, and
 * the missing numbers. A number whose pixels vanished in the resize is reported missing.
 */
export function describeTeeth(
  mask: Uint8Array,
  width: number,
  height: number,
  numbering: Pick<NumberingResult, 'teeth'>,
  scheme: NumberingScheme,
): { teeth: ToothReport[]; missing: Fdi[] } {
  const regions = findRegions(mask, width, height, (c) => String(c), { minAreaPx: 1 });
  const teeth: ToothReport[] = [];
  for (const t of numbering.teeth) {
    const c = scheme.classOfFdi.get(t.fdi);
    const parts = regions.filter((r) => r.classIndex === c);
    if (parts.length === 0) continue;
    let area = 0;
    let sx = 0;
    let sy = 0;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    let largest = parts[0]!;
    for (const p of parts) {
      area += p.areaPx;
      sx += p.centroid[0] * p.areaPx;
      sy += p.centroid[1] * p.areaPx;
      x0 = Math.min(x0, p.bbox[0]);
      y0 = Math.min(y0, p.bbox[1]);
      x1 = Math.max(x1, p.bbox[0] + p.bbox[2]);
      y1 = Math.max(y1, p.bbox[1] + p.bbox[3]);
      if (p.areaPx > largest.areaPx) largest = p;
    }
    teeth.push({
      fdi: t.fdi,
      name: toothName(t.fdi),
      areaPx: area,
      bbox: [x0, y0, x1 - x0, y1 - y0],
      centroid: [Math.round((10 * sx) / area) / 10, Math.round((10 * sy) / area) / 10],
      polygon: largest.polygon,
      score: t.score,
    });
  }
  return { teeth, missing: missingTeeth(teeth.map((t) => t.fdi)) };
}
