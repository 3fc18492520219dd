/**
 * Findings: the mask turned into a list of connected regions a dentist can read (area,
 * box, centre, outline). Pure functions over typed arrays, no I/O and no tensors.
 */
import { labelComponents, type Components } from './components.js';

/** One connected region of one class in the mask (8-connectivity). */
export interface Finding {
  /** Class name (binary: the model's target name, e.g. "teeth"). */
  readonly class: string;
  /** Index of the class in the mask (binary: 1; multi-class: 1…K-1, 0 is background). */
  readonly classIndex: number;
  /** Area in pixels of the original image. */
  readonly areaPx: number;
  /** Area as a percentage (0–100) of all pixels of the image, 3 decimals. */
  readonly areaPct: number;
  /** Bounding box `[x, y, width, height]` in pixels, inclusive of the region's pixels. */
  readonly bbox: [number, number, number, number];
  /** Mean pixel position `[x, y]` (pixel indices), 1 decimal. */
  readonly centroid: [number, number];
  /**
   * Outer outline as a closed polygon of pixel positions `[x, y]` (first point not repeated),
   * traced along the region's boundary pixels and simplified with Douglas–Peucker.
   */
  readonly polygon: [number, number][];
}

export interface FindingsOptions {
  /**
   * Regions smaller than this many pixels are dropped as specks. Default:
   * `max(16, round(1e-4 × width × height))`, i.e. 0.01 % of the image (≈ 380 px on a
   * 2900×1300 panoramic, 26 px at 512²), never below 16 px.
   */
  readonly minAreaPx?: number;
  /** Douglas–Peucker tolerance in pixels for the outline (default 1.5; 0 keeps every pixel). */
  readonly simplifyPx?: number;
}

/** The speck rule documented on `FindingsOptions.minAreaPx`. */
export function defaultMinArea(width: number, height: number): number {
  return Math.max(16, Math.round(1e-4 * width * height));
}

// Clockwise neighbour offsets in image coordinates (y down), starting east.
const DX = [1, 1, 0, -1, -1, -1, 0, 1] as const;
const DY = [0, 1, 1, 1, 0, -1, -1, -1] as const;

/**
 * Label the connected regions of `mask` (8-connectivity, a region holds one class value;
 * 0 is background) and describe each region at least `minAreaPx` large. `classes[i]` names
 * class index i; for a binary mask (values 0/1) pass `['background', name]` or use
 * `findingsFor`. Regions come out in raster order of their top-left-most pixel.
 */
export function findRegions(
  mask: Uint8Array,
  width: number,
  height: number,
  className: (classIndex: number) => string,
  options: FindingsOptions = {},
): Finding[] {
  const n = width * height;
  if (mask.length !== n) {
    throw new RangeError(`mask has ${mask.length} values, expected ${width}×${height} = ${n}`);
  }
  return describeRegions(labelComponents(mask, width, height), width, height, className, options);
}

/**
 * {@link findRegions} over a labelling the caller holds already (`labelComponents` of the
 * mask, or `dropComponents` of one), so that a mask is labelled once: the same regions, in
 * the same order, with the same fields.
 */
export function describeRegions(
  c: Components,
  width: number,
  height: number,
  className: (classIndex: number) => string,
  options: FindingsOptions = {},
): Finding[] {
  const n = width * height;
  const minArea = options.minAreaPx ?? defaultMinArea(width, height);
  const epsilon = options.simplifyPx ?? 1.5;
  const findings: Finding[] = [];
  for (let i = 0; i < c.count; i++) {
    const area = c.area[i]!;
    if (area < minArea) continue;
    const minX = c.minX[i]!;
    const minY = c.minY[i]!;
    const contour = traceContour(c.labels, width, height, c.start[i]!, i + 1);
    findings.push({
      class: className(c.cls[i]!),
      classIndex: c.cls[i]!,
      areaPx: area,
      areaPct: round((100 * area) / n, 3),
      bbox: [minX, minY, c.maxX[i]! - minX + 1, c.maxY[i]! - minY + 1],
      centroid: [round(c.sumX[i]! / area, 1), round(c.sumY[i]! / area, 1)],
      polygon: simplifyClosed(contour, epsilon),
    });
  }
  return findings;
}

/**
 * Findings of a model's mask: binary masks (0/1) are named after `classes[0]`; multi-class
 * masks after `classes[index]` (index 0, background, never forms a region).
 */
export function findingsFor(
  mask: Uint8Array,
  width: number,
  height: number,
  task: 'binary' | 'multiclass',
  classes: readonly string[],
  options: FindingsOptions = {},
): Finding[] {
  const name =
    task === 'binary'
      ? () => classes[0] ?? 'foreground'
      : (i: number) => classes[i] ?? `class ${i}`;
  return findRegions(mask, width, height, name, options);
}

/**
 * Moore-neighbour tracing of the outer boundary of region `label`, starting from its first
 * pixel in raster order (so its west neighbour is outside). Jacob's stopping criterion:
 * stop when the start pixel is entered again in the same direction as the first time.
 */
export function traceContour(
  labels: Int32Array,
  width: number,
  height: number,
  start: number,
  label: number,
): [number, number][] {
  const inside = (x: number, y: number): boolean =>
    x >= 0 && y >= 0 && x < width && y < height && labels[y * width + x] === label;
  const sx = start % width;
  const sy = (start / width) | 0;
  const points: [number, number][] = [[sx, sy]];
  let x = sx;
  let y = sy;
  let back = 4; // came from the west
  let firstDir = -1;
  const limit = 4 * width * height + 8;
  for (let step = 0; step < limit; step++) {
    let found = -1;
    for (let i = 1; i <= 8; i++) {
      const d = (back + i) % 8;
      if (inside(x + DX[d]!, y + DY[d]!)) {
        found = d;
        break;
      }
    }
    if (found < 0) return points; // a single isolated pixel
    if (x === sx && y === sy) {
      if (firstDir === found) break;
      if (firstDir < 0) firstDir = found;
    }
    // The neighbour checked just before `found` is outside; it becomes the backtrack.
    const px = x + DX[(found + 7) % 8]!;
    const py = y + DY[(found + 7) % 8]!;
    x += DX[found]!;
    y += DY[found]!;
    back = directionOf(px - x, py - y);
    if (x === sx && y === sy) continue;
    points.push([x, y]);
  }
  return points;
}

function directionOf(dx: number, dy: number): number {
  for (let d = 0; d < 8; d++) if (DX[d] === dx && DY[d] === dy) return d;
  throw new Error(`not a neighbour offset: ${dx},${dy}`);
}

/**
 * Douglas–Peucker on a closed polygon: split at the point farthest from the first, then
 * simplify both open chains with tolerance `epsilon` pixels (iterative, no recursion).
 */
export function simplifyClosed(points: [number, number][], epsilon: number): [number, number][] {
  if (points.length <= 3 || epsilon <= 0) return points.slice();
  const [x0, y0] = points[0]!;
  let far = 0;
  let farD = -1;
  for (let i = 1; i < points.length; i++) {
    const [x, y] = points[i]!;
    const d = (x - x0) ** 2 + (y - y0) ** 2;
    if (d > farD) {
      farD = d;
      far = i;
    }
  }
  const keep = new Uint8Array(points.length + 1);
  keep[0] = 1;
  keep[far] = 1;
  const ring = [...points, points[0]!];
  const stack: [number, number][] = [
    [0, far],
    [far, points.length],
  ];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    const [ax, ay] = ring[a]!;
    const [bx, by] = ring[b]!;
    const len = Math.hypot(bx - ax, by - ay);
    let worst = -1;
    let worstD = epsilon;
    for (let i = a + 1; i < b; i++) {
      const [px, py] = ring[i]!;
      const d =
        len === 0
          ? Math.hypot(px - ax, py - ay)
          : Math.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / len;
      if (d > worstD) {
        worstD = d;
        worst = i;
      }
    }
    if (worst >= 0) {
      keep[worst] = 1;
      stack.push([a, worst], [worst, b]);
    }
  }
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i++) if (keep[i]) out.push(points[i]!);
  return out;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
