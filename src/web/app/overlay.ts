/**
 * Pure pixel logic of the viewer, without the DOM (so it is unit-tested in Node):
 * re-threshold the stored probabilities, draw the fill and the outline of the labels,
 * and measure what the current threshold shows.
 */

// The palette of the server's overlay PNGs and charts, imported rather than restated.
import { classColour, type Rgb } from '../../imaging/palette.js';
import type { Finding } from '../../imaging/findings.js';

export { classColour, type Rgb };

/**
 * Labels shown at threshold `t` (0–1): for binary, 1 where probability ≥ t; for
 * multi-class, the stored class where its probability ≥ t, else 0 (background).
 * @param prob probability of the stored class per pixel, 0–255.
 * @param classes class index per pixel (multi-class only; undefined for binary).
 */
export function thresholdLabels(
  prob: Uint8Array,
  classes: Uint8Array | undefined,
  t: number,
): Uint8Array {
  const cut = Math.max(0, Math.min(255, t * 255));
  const out = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i] as number;
    if (classes) {
      const c = classes[i] as number;
      out[i] = c > 0 && p >= cut ? c : 0;
    } else {
      out[i] = p >= cut ? 1 : 0;
    }
  }
  return out;
}

/** Boundary pixels of the labels, thickened to `radius` pixels (for a visible outline). */
export function outlineOf(
  labels: Uint8Array,
  width: number,
  height: number,
  radius: number,
): Uint8Array {
  const edge = new Uint8Array(labels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const l = labels[i] as number;
      if (l === 0) continue;
      if (
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        labels[i - 1] !== l ||
        labels[i + 1] !== l ||
        labels[i - width] !== l ||
        labels[i + width] !== l
      ) {
        edge[i] = l;
      }
    }
  }
  if (radius <= 0) return edge;
  const thick = new Uint8Array(labels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = edge[y * width + x] as number;
      if (l === 0) continue;
      for (let dy = -radius; dy <= radius; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width) thick[yy * width + xx] = l;
        }
      }
    }
  }
  return thick;
}

/** RGBA pixels (alpha 255 where labelled, 0 elsewhere) colouring each label. */
export function paintLabels(labels: Uint8Array, rgba: Uint8ClampedArray): void {
  const cache = new Map<number, Rgb>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    const o = i * 4;
    if (l === 0) {
      rgba[o + 3] = 0;
      continue;
    }
    let c = cache.get(l);
    if (!c) {
      c = classColour(l);
      cache.set(l, c);
    }
    rgba[o] = c[0];
    rgba[o + 1] = c[1];
    rgba[o + 2] = c[2];
    rgba[o + 3] = 255;
  }
}

/** Area shown per label: label → pixel count (background excluded). */
export function labelAreas(labels: Uint8Array): Map<number, number> {
  const areas = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l !== 0) areas.set(l, (areas.get(l) ?? 0) + 1);
  }
  return areas;
}

/**
 * The fields of a finding that the list shows: the pipeline's, whether the finding was
 * computed in the browser or comes from the server.
 */
type FindingLike = Pick<
  Finding,
  'class' | 'classIndex' | 'areaPx' | 'areaPct' | 'bbox' | 'centroid'
>;

/**
 * A finding, or all findings of one class taken together (multi-class: one per tooth):
 * `bbox` encloses every region of the group, `centroid` is their area-weighted centre.
 */
export interface FindingGroup extends FindingLike {
  readonly regions: number;
}

/**
 * Findings as listed: one entry per region, largest first (binary), or one per class in
 * class order with its regions merged (multi-class, e.g. one line per tooth).
 */
export function groupFindings(findings: readonly FindingLike[], byClass: boolean): FindingGroup[] {
  const one = (f: FindingLike): FindingGroup => ({
    class: f.class,
    classIndex: f.classIndex,
    areaPx: f.areaPx,
    areaPct: f.areaPct,
    bbox: [...f.bbox],
    centroid: [...f.centroid],
    regions: 1,
  });
  if (!byClass) return findings.map(one).sort((a, b) => b.areaPx - a.areaPx);
  const groups = new Map<number, FindingGroup>();
  for (const f of findings) {
    const g = groups.get(f.classIndex);
    const n = one(f);
    if (!g) {
      groups.set(f.classIndex, n);
      continue;
    }
    const x0 = Math.min(g.bbox[0], n.bbox[0]);
    const y0 = Math.min(g.bbox[1], n.bbox[1]);
    const x1 = Math.max(g.bbox[0] + g.bbox[2], n.bbox[0] + n.bbox[2]);
    const y1 = Math.max(g.bbox[1] + g.bbox[3], n.bbox[1] + n.bbox[3]);
    const area = g.areaPx + n.areaPx;
    groups.set(f.classIndex, {
      class: g.class,
      classIndex: g.classIndex,
      areaPx: area,
      areaPct: g.areaPct + n.areaPct,
      bbox: [x0, y0, x1 - x0, y1 - y0],
      centroid: [
        (g.centroid[0] * g.areaPx + n.centroid[0] * n.areaPx) / area,
        (g.centroid[1] * g.areaPx + n.centroid[1] * n.areaPx) / area,
      ],
      regions: g.regions + 1,
    });
  }
  return [...groups.values()].sort((a, b) => a.classIndex - b.classIndex);
}
