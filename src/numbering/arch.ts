/**
 * The geometry behind anatomical numbering: where the midline and the occlusal curve lie
 * (fitted to the teeth's own labels, so a few wrong labels are outvoted by the rest), and
 * the order-preserving assignment of positions along one quadrant's arch. Pure.
 */

/** A point with a weight and a binary label, for the one-dimensional splits below. */
interface Labelled {
  readonly v: number;
  readonly w: number;
  /** True for the side expected below the split (smaller values). */
  readonly low: boolean;
}

/**
 * The threshold on `v` that best separates `low` items (expected below) from the others,
 * minimising the weight on the wrong side. Ties take the middle of the tied splits, so
 * a side with no items puts the threshold beyond the outermost one.
 */
export function bestSplit(items: readonly Labelled[]): number {
  const s = [...items].sort((a, b) => a.v - b.v);
  const n = s.length;
  if (n === 0) return 0;
  // err(k): the first k items are called low.
  let err = 0;
  for (const it of s) if (it.low) err += it.w;
  let best = err;
  let tied: number[] = [0];
  for (let k = 1; k <= n; k++) {
    const it = s[k - 1]!;
    err += it.low ? -it.w : it.w;
    if (err < best - 1e-9) {
      best = err;
      tied = [k];
    } else if (Math.abs(err - best) <= 1e-9) tied.push(k);
  }
  const k = tied[(tied.length - 1) >> 1]!;
  if (k === 0) return s[0]!.v - 1;
  if (k === n) return s[n - 1]!.v + 1;
  return (s[k - 1]!.v + s[k]!.v) / 2;
}

/** A tooth as the geometry sees it: centroid in pixels, area as weight, current labels. */
export interface ToothPoint {
  readonly x: number;
  readonly y: number;
  /**
   * Centre of the crown's occlusal end (the band of rows nearest the other jaw); defaults
   * to the centroid. Crowns keep the arch's order and lie on the occlusal curve even where
   * tilted canines and molars put centroids out of order.
   */
  readonly tipX?: number;
  readonly tipY?: number;
  readonly area: number;
  /** Labelled on the patient's right (quadrants 1, 4: the image's left in a panoramic). */
  readonly right: boolean;
  /** Labelled in the upper jaw (quadrants 1, 2). */
  readonly upper: boolean;
}

/**
 * The midline's x in pixels: the vertical line that puts the most tooth area labelled
 * "right" on the image's left and "left" on its right (panoramics show the patient's right
 * on the viewer's left), judged at the crowns.
 */
export function fitMidline(teeth: readonly ToothPoint[]): number {
  return bestSplit(teeth.map((t) => ({ v: t.tipX ?? t.x, w: t.area, low: t.right })));
}

/** The occlusal curve y = a·x² + b·x + c in pixels. */
export interface Curve {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

/** Evaluate a curve at x. */
export function curveAt(k: Curve, x: number): number {
  return (k.a * x + k.b) * x + k.c;
}

/** Solve a 3×3 linear system by Gaussian elimination; undefined when singular. */
function solve3(m: number[][], r: number[]): number[] | undefined {
  const a = m.map((row, i) => [...row, r[i]!]);
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let i = col + 1; i < 3; i++) if (Math.abs(a[i]![col]!) > Math.abs(a[piv]![col]!)) piv = i;
    if (Math.abs(a[piv]![col]!) < 1e-12) return undefined;
    [a[col], a[piv]] = [a[piv]!, a[col]!];
    for (let i = 0; i < 3; i++) {
      if (i === col) continue;
      const f = a[i]![col]! / a[col]![col]!;
      for (let j = col; j < 4; j++) a[i]![j]! -= f * a[col]![j]!;
    }
  }
  return [0, 1, 2].map((i) => a[i]![3]! / a[i]![i]!);
}

/**
 * Weighted least-squares parabola through points (a straight line through fewer than
 * three, a constant through one).
 */
function fitParabola(pts: readonly { x: number; y: number; w: number }[]): Curve {
  if (pts.length === 0) return { a: 0, b: 0, c: 0 };
  // Centre and scale x so the normal equations stay well conditioned at 4000-px widths.
  const W = pts.reduce((s, t) => s + t.w, 0) || 1;
  const mx = pts.reduce((s, t) => s + t.w * t.x, 0) / W;
  const sx = Math.sqrt(pts.reduce((s, t) => s + t.w * (t.x - mx) ** 2, 0) / W) || 1;
  let shape: number[] = [0, 0, pts.reduce((s, t) => s + t.w * t.y, 0) / W];
  const terms = pts.length >= 3 ? 3 : pts.length === 2 ? 2 : 1;
  if (terms > 1) {
    const m = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const r = [0, 0, 0];
    for (const t of pts) {
      const u = (t.x - mx) / sx;
      // Fewer points: the missing powers get a zero column, solved as a fixed 0 below.
      const f = [terms === 3 ? u * u : 0, u, 1];
      for (let i = 0; i < 3; i++) {
        r[i]! += t.w * f[i]! * t.y;
        for (let j = 0; j < 3; j++) m[i]![j]! += t.w * f[i]! * f[j]!;
      }
    }
    if (terms === 2) m[0]![0] = 1;
    const sol = solve3(m, r);
    if (sol) shape = sol;
  }
  // Back to pixel x: y = A u² + B u + C with u = (x − mx)/sx.
  const [A, B, C] = shape as [number, number, number];
  return {
    a: A / (sx * sx),
    b: B / sx - (2 * A * mx) / (sx * sx),
    c: C - (B * mx) / sx + (A * mx * mx) / (sx * sx),
  };
}

/**
 * The occlusal curve between the upper and lower teeth: a parabola through the crowns'
 * occlusal ends (fitted again without the teeth it then finds on the wrong side, so a few
 * wrong labels do not bend it), shifted up or down to best separate the centroids of teeth
 * labelled upper (above, smaller y) from those labelled lower.
 */
export function fitOcclusalCurve(teeth: readonly ToothPoint[]): Curve {
  const tips = (ts: readonly ToothPoint[]) =>
    ts.map((t) => ({ x: t.tipX ?? t.x, y: t.tipY ?? t.y, w: t.area }));
  const shifted = (base: Curve): Curve => {
    const shift = bestSplit(
      teeth.map((t) => ({ v: t.y - curveAt(base, t.x), w: t.area, low: t.upper })),
    );
    return { ...base, c: base.c + shift };
  };
  const first = shifted(fitParabola(tips(teeth)));
  const agree = teeth.filter((t) => t.y < curveAt(first, t.x) === t.upper);
  if (agree.length === teeth.length || agree.length < 3) return first;
  return shifted(fitParabola(tips(agree)));
}

/**
 * Assign strictly increasing positions (1…8) to teeth sorted from the midline outwards,
 * minimising the summed `cost[i][p - 1]` (Infinity forbids a position); a tooth may be
 * left out at `dropCost`, which only pays when more teeth than positions compete.
 * Returns each tooth's position, or 0 for a tooth left out.
 */
export function assignAlongArch(cost: readonly (readonly number[])[], dropCost = 1e6): number[] {
  const n = cost.length;
  const P = 8;
  // dp[i][j]: best cost for the first i teeth using positions 1…j.
  const dp = Array.from({ length: n + 1 }, () => new Float64Array(P + 1).fill(Infinity));
  const how = Array.from({ length: n + 1 }, () => new Int8Array(P + 1));
  for (let j = 0; j <= P; j++) dp[0]![j] = 0;
  for (let i = 1; i <= n; i++) {
    for (let j = 0; j <= P; j++) {
      // 0: position j unused; 1: tooth i-1 takes position j; 2: tooth i-1 left out.
      let best = dp[i - 1]![j]! + dropCost;
      let choice = 2;
      if (j > 0) {
        if (dp[i]![j - 1]! < best) {
          best = dp[i]![j - 1]!;
          choice = 0;
        }
        const take = dp[i - 1]![j - 1]! + (cost[i - 1]![j - 1] ?? Infinity);
        if (take < best) {
          best = take;
          choice = 1;
        }
      }
      dp[i]![j] = best;
      how[i]![j] = choice;
    }
  }
  const out = new Array<number>(n).fill(0);
  let i = n;
  let j = P;
  while (i > 0) {
    const c = how[i]![j];
    if (c === 0) j--;
    else if (c === 1) {
      out[i - 1] = j;
      i--;
      j--;
    } else i--;
  }
  return out;
}
