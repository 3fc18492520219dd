/**
 * Connected-component labelling (8-connectivity, one class value per component) by runs:
 * each row is cut into runs of equal non-zero values, runs touching a run of the same
 * value in the row above are joined with union-find. Work grows with the number of runs,
 * not pixels × neighbours, which matters on 4-megapixel panoramics. Pure.
 */

/** Components of a mask and their pixel statistics, indexed by component id (0…count-1). */
export interface Components {
  /** Per pixel: component id + 1; 0 for background (mask value 0). */
  readonly labels: Int32Array;
  readonly count: number;
  /** Mask value (class index) of each component. */
  readonly cls: Int32Array;
  /** Pixels in each component. */
  readonly area: Float64Array;
  /** Sums of x and y over each component's pixels (for centroids). */
  readonly sumX: Float64Array;
  readonly sumY: Float64Array;
  readonly minX: Int32Array;
  readonly minY: Int32Array;
  readonly maxX: Int32Array;
  readonly maxY: Int32Array;
  /** Index of each component's first pixel in raster order (its top-left-most pixel). */
  readonly start: Int32Array;
}

/**
 * Non-zero → 1: a class-valued mask made one class, so that {@link labelComponents} labels
 * touching regions of different classes as one region (a lesion mask's values, the teeth
 * as one outline). Writes into `out` when given (length ≥ `mask.length`), so that a caller
 * binarising many masks of one size reuses one buffer.
 */
export function binarise(mask: Uint8Array, out = new Uint8Array(mask.length)): Uint8Array {
  if (out.length < mask.length)
    throw new RangeError(`binarise: out holds ${out.length} values, mask ${mask.length}`);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] !== 0 ? 1 : 0;
  return out;
}

/** Label `mask` (`width*height` values, 0 = background). Components come in raster order. */
export function labelComponents(mask: Uint8Array, width: number, height: number): Components {
  // Runs: [start, end) in x, per row, in raster order.
  let cap = 1024;
  let rs = new Int32Array(cap);
  let re = new Int32Array(cap);
  let rc = new Int32Array(cap);
  let nr = 0;
  const rowFirst = new Int32Array(height + 1);
  for (let y = 0; y < height; y++) {
    rowFirst[y] = nr;
    const o = y * width;
    let x = 0;
    while (x < width) {
      const c = mask[o + x]!;
      if (c === 0) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < width && mask[o + x] === c) x++;
      if (nr === cap) {
        cap *= 2;
        const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
          const b = new Int32Array(cap);
          b.set(a);
          return b;
        };
        rs = grow(rs);
        re = grow(re);
        rc = grow(rc);
      }
      rs[nr] = x0;
      re[nr] = x;
      rc[nr] = c;
      nr++;
    }
  }
  rowFirst[height] = nr;

  // Union-find; the root of a set is its smallest run index (its first run in raster order).
  const parent = new Int32Array(nr);
  for (let i = 0; i < nr; i++) parent[i] = i;
  const find = (a: number): number => {
    let r = a;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[a] !== r) {
      const next = parent[a]!;
      parent[a] = r;
      a = next;
    }
    return r;
  };
  for (let y = 1; y < height; y++) {
    const prevEnd = rowFirst[y]!;
    let j = rowFirst[y - 1]!;
    for (let i = rowFirst[y]!; i < rowFirst[y + 1]!; i++) {
      // A run above touches [rs, re) diagonally too: it must end at or after rs - 1.
      while (j < prevEnd && re[j]! < rs[i]!) j++;
      for (let k = j; k < prevEnd && rs[k]! <= re[i]!; k++) {
        if (rc[k] !== rc[i]) continue;
        const a = find(i);
        const b = find(k);
        if (a < b) parent[b] = a;
        else if (b < a) parent[a] = b;
      }
    }
  }

  const id = new Int32Array(nr);
  let count = 0;
  for (let i = 0; i < nr; i++) id[i] = find(i) === i ? count++ : id[parent[i]!]!;
  const labels = new Int32Array(width * height);
  const cls = new Int32Array(count);
  const area = new Float64Array(count);
  const sumX = new Float64Array(count);
  const sumY = new Float64Array(count);
  const minX = new Int32Array(count).fill(width);
  const minY = new Int32Array(count).fill(height);
  const maxX = new Int32Array(count);
  const maxY = new Int32Array(count);
  const start = new Int32Array(count).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let i = rowFirst[y]!; i < rowFirst[y + 1]!; i++) {
      const c = id[i]!;
      const x0 = rs[i]!;
      const x1 = re[i]!;
      const len = x1 - x0;
      labels.fill(c + 1, y * width + x0, y * width + x1);
      if (start[c] === -1) {
        start[c] = y * width + x0;
        cls[c] = rc[i]!;
        minY[c] = y;
      }
      area[c]! += len;
      sumX[c]! += ((x0 + x1 - 1) * len) / 2;
      sumY[c]! += y * len;
      if (x0 < minX[c]!) minX[c] = x0;
      if (x1 - 1 > maxX[c]!) maxX[c] = x1 - 1;
      maxY[c] = y;
    }
  }
  return { labels, count, cls, area, sumX, sumY, minX, minY, maxX, maxY, start };
}

/**
 * The labelling of the `width`-wide mask left when the components with `drop[i] !== 0`
 * (0…count-1) are cleared from it — what {@link labelComponents} of that mask returns,
 * without labelling it again: clearing whole components merges and splits none, so the rest
 * keep their pixels, statistics and raster order and are only renumbered. Takes over
 * `c.labels` (rewritten in place; `c` must not be used after). Work grows with the boxes of
 * the components from the first dropped one on (those before it keep their ids), not with
 * the image; none when nothing drops.
 */
export function dropComponents(c: Components, width: number, drop: Uint8Array): Components {
  let first = -1;
  for (let i = 0; i < c.count && first < 0; i++) if (drop[i]) first = i;
  if (first < 0) return c;
  const { labels } = c;
  const keep: number[] = [];
  for (let i = 0; i < first; i++) keep.push(i);
  // In id order, each component's pixels within its box: cleared, or given their new label.
  // A label once rewritten is at most its own old one, below every label still to come, so
  // the pixels holding label i + 1 in box i are always component i's.
  for (let i = first; i < c.count; i++) {
    const to = drop[i] ? 0 : keep.push(i);
    for (let y = c.minY[i]!; y <= c.maxY[i]!; y++)
      for (let p = y * width + c.minX[i]!; p <= y * width + c.maxX[i]!; p++)
        if (labels[p] === i + 1) labels[p] = to;
  }
  const int = (a: Int32Array): Int32Array => Int32Array.from(keep, (i) => a[i]!);
  const float = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]!);
  return {
    labels,
    count: keep.length,
    cls: int(c.cls),
    area: float(c.area),
    sumX: float(c.sumX),
    sumY: float(c.sumY),
    minX: int(c.minX),
    minY: int(c.minY),
    maxX: int(c.maxX),
    maxY: int(c.maxY),
    start: int(c.start),
  };
}
