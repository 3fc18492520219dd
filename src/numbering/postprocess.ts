/**
 * Anatomical post-processing of a numbering model's class map (at the network's size,
 * after the arg-max): each FDI number at most once, quadrants consistent with the midline
 * and the occlusal curve, numbers in order along each quadrant's arch, and teeth under
 * `minToothPx` dropped. Each step can be switched off to measure what it adds. Pure.
 */
import { labelComponents } from '../imaging/components.js';
import { NUMBERING_MODES, type NumberingMode } from '../model/meta.js';
import { assignAlongArch, curveAt, fitMidline, fitOcclusalCurve, type Curve } from './arch.js';
import {
  fdiOf,
  missingTeeth,
  positionOf,
  quadrantFor,
  quadrantOf,
  type Fdi,
  type NumberingScheme,
} from './fdi.js';

// The modes are part of `dentseg.json`, so they are declared with it in src/model/meta.ts.
export { NUMBERING_MODES, type NumberingMode };

/** Options of {@link numberTeeth}. */
export interface NumberingOptions {
  /** Steps to run (default `arch`, all of them). */
  readonly mode?: NumberingMode;
  /**
   * A tooth is present when its number keeps at least this many pixels of the map (default
   * {@link defaultMinToothPx}); smaller components cannot be teeth on their own.
   */
  readonly minToothPx?: number;
  /**
   * The network's probabilities at the map's size (`width*height*k`, k = the scheme's class
   * count, pixel-interleaved). Optional: without them the steps use the arg-max votes only.
   */
  readonly probabilities?: Float32Array;
  /**
   * A component of a number that already has a larger one counts as a fragment of the tooth
   * it touches (not a tooth of its own) when its area is under this share of the median
   * tooth area (default 0.25).
   */
  readonly fragmentShare?: number;
}

/** One tooth of the post-processed map (sizes in pixels of that map). */
export interface NumberedTooth {
  readonly fdi: Fdi;
  /** Its class index in the map. */
  readonly classIndex: number;
  readonly areaPx: number;
  /** `[x, y, width, height]`, inclusive of the tooth's pixels. */
  readonly bbox: [number, number, number, number];
  /** Mean pixel position `[x, y]`. */
  readonly centroid: [number, number];
  /**
   * Confidence 0…1: the mean probability of its number over its pixels, or without
   * probabilities the share of its pixels the network gave that number.
   */
  readonly score: number;
}

/** Why a region's number changed or it was dropped. */
export type NumberingReason = 'fragment' | 'duplicate' | 'quadrant' | 'arch' | 'small';

/** One change the post-processing made (`to` null: the pixels became background). */
export interface NumberingChange {
  readonly from: Fdi;
  readonly to: Fdi | null;
  readonly areaPx: number;
  readonly reason: NumberingReason;
}

/** What {@link numberTeeth} returns. */
export interface NumberingResult {
  /** The post-processed class map (`width*height`, 0 = background). */
  readonly mask: Uint8Array;
  /** Present teeth, ascending by FDI number. */
  readonly teeth: NumberedTooth[];
  /** Permanent FDI numbers not present, ascending. */
  readonly missing: Fdi[];
  readonly changes: NumberingChange[];
  /** The fitted midlines (x in pixels, per jaw) and occlusal curve, when the quadrant step ran. */
  readonly midline: { readonly upper: number; readonly lower: number } | null;
  readonly occlusal: Curve | null;
}

/** Default presence threshold: 0.05 % of the map's pixels (131 px at 512², 33 at 256²). */
export function defaultMinToothPx(width: number, height: number): number {
  return Math.max(1, Math.round(5e-4 * width * height));
}

/** Work record of one tooth candidate (one or more components of the arg-max map). */
interface Candidate {
  fdi: Fdi;
  area: number;
  sumX: number;
  sumY: number;
  /** Per class: pixels arg-maxed to it, or summed probabilities when given. */
  votes: Float64Array;
  /** Dropped candidates' pixels become background. */
  dropped: boolean;
}

/** Post-process a class-index map of a numbering model; see {@link NumberingMode}. */
export function numberTeeth(
  mask: Uint8Array,
  width: number,
  height: number,
  scheme: NumberingScheme,
  options: NumberingOptions = {},
): NumberingResult {
  const n = width * height;
  if (mask.length !== n) {
    throw new RangeError(`mask has ${mask.length} values, expected ${width}×${height}`);
  }
  const k = scheme.fdiOfClass.length;
  const probs = options.probabilities;
  if (probs && probs.length !== n * k) {
    throw new RangeError(`probabilities: expected ${n}×${k} values, got ${probs.length}`);
  }
  const mode = options.mode ?? 'arch';
  const minPx = options.minToothPx ?? defaultMinToothPx(width, height);
  const level = NUMBERING_MODES.indexOf(mode);
  const changes: NumberingChange[] = [];

  const comps = labelComponents(mask, width, height);
  const fdiAt = (cls: number): Fdi | undefined => scheme.fdiOfClass[cls];
  // Each component's candidate (index into `cands`), built per the mode.
  const owner = new Int32Array(comps.count).fill(-1);
  const cands: Candidate[] = [];
  const compVotes = votesPerComponent(mask, comps.labels, comps.count, k, probs);
  const newCand = (i: number): Candidate => ({
    fdi: fdiAt(comps.cls[i]!)!,
    area: comps.area[i]!,
    sumX: comps.sumX[i]!,
    sumY: comps.sumY[i]!,
    votes: Float64Array.from(compVotes[i]!),
    dropped: false,
  });
  const absorb = (c: Candidate, i: number): void => {
    c.area += comps.area[i]!;
    c.sumX += comps.sumX[i]!;
    c.sumY += comps.sumY[i]!;
    for (let j = 0; j < k; j++) c.votes[j]! += compVotes[i]![j]!;
  };

  if (level === 0) {
    // One candidate per number: all of its pixels, as the metrics count a tooth.
    const byFdi = new Map<Fdi, number>();
    for (let i = 0; i < comps.count; i++) {
      const f = fdiAt(comps.cls[i]!);
      if (f === undefined) continue;
      const at = byFdi.get(f);
      if (at === undefined) {
        byFdi.set(f, cands.length);
        owner[i] = cands.length;
        cands.push(newCand(i));
      } else {
        owner[i] = at;
        absorb(cands[at]!, i);
      }
    }
  } else {
    uniqueStep(comps, fdiAt, minPx, options.fragmentShare ?? 0.25, width, height, {
      owner,
      cands,
      newCand,
      absorb,
      changes,
    });
  }

  let midline: NumberingResult['midline'] = null;
  let occlusal: Curve | null = null;
  if (level >= 2) {
    const live = cands.filter((c) => !c.dropped);
    const tips = crownTips(comps.labels, owner, cands, width);
    const points = live.map((c) => {
      const q = quadrantOf(c.fdi);
      const t = tips.get(c)!;
      return {
        x: c.sumX / c.area,
        y: c.sumY / c.area,
        tipX: t[0],
        tipY: t[1],
        area: c.area,
        right: q === 1 || q === 4,
        upper: q <= 2,
      };
    });
    occlusal = fitOcclusalCurve(points);
    const upper = points.map((p) => p.y < curveAt(occlusal!, p.x));
    // One midline per jaw: the upper and lower dental midlines often differ by a tooth's width.
    const fitJaw = (u: boolean) => points.filter((_, i) => upper[i] === u);
    const up = fitJaw(true);
    const low = fitJaw(false);
    midline = {
      upper: fitMidline(up.length > 0 ? up : low),
      lower: fitMidline(low.length > 0 ? low : up),
    };
    const geo = new Map<Candidate, 1 | 2 | 3 | 4>();
    const tipX = new Map<Candidate, [number, number]>();
    live.forEach((c, i) => {
      const p = points[i]!;
      const m = upper[i] ? midline!.upper : midline!.lower;
      geo.set(c, quadrantFor(upper[i]!, p.tipX < m));
      tipX.set(c, [p.tipX, tips.get(c)![2]]);
    });
    quadrantStep(live, geo, scheme, changes);
    if (level >= 3) archStep(live, geo, tipX, midline, scheme, changes);
  }

  // Presence: a number under minPx pixels is no tooth.
  for (const c of cands) {
    if (!c.dropped && c.area < minPx) {
      c.dropped = true;
      changes.push({ from: c.fdi, to: null, areaPx: c.area, reason: 'small' });
    }
  }
  return render(mask, comps.labels, owner, cands, scheme, width, height, probs, {
    changes,
    midline,
    occlusal,
  });
}

/**
 * Each live candidate's crown tip `[x, y, width]`: the mean pixel of the quarter of its rows at
 * the occlusal end (the bottom for a number of the upper jaw, the top for the lower), and
 * the candidate's width in pixels.
 */
function crownTips(
  labels: Int32Array,
  owner: Int32Array,
  cands: readonly Candidate[],
  width: number,
): Map<Candidate, [number, number, number]> {
  const n = cands.length;
  const minY = new Float64Array(n).fill(Infinity);
  const maxY = new Float64Array(n).fill(-Infinity);
  const minX = new Float64Array(n).fill(Infinity);
  const maxX = new Float64Array(n).fill(-Infinity);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const o = l === 0 ? -1 : owner[l - 1]!;
    if (o < 0) continue;
    const y = (i / width) | 0;
    const x = i - y * width;
    if (y < minY[o]!) minY[o] = y;
    if (y > maxY[o]!) maxY[o] = y;
    if (x < minX[o]!) minX[o] = x;
    if (x > maxX[o]!) maxX[o] = x;
  }
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  cands.forEach((c, o) => {
    const band = 0.25 * (maxY[o]! - minY[o]!);
    if (quadrantOf(c.fdi) <= 2) {
      lo[o] = maxY[o]! - band;
      hi[o] = maxY[o]!;
    } else {
      lo[o] = minY[o]!;
      hi[o] = minY[o]! + band;
    }
  });
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const cnt = new Float64Array(n);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const o = l === 0 ? -1 : owner[l - 1]!;
    if (o < 0) continue;
    const y = (i / width) | 0;
    if (y < lo[o]! || y > hi[o]!) continue;
    sx[o]! += i - y * width;
    sy[o]! += y;
    cnt[o]! += 1;
  }
  const out = new Map<Candidate, [number, number, number]>();
  cands.forEach((c, o) => {
    const w = Math.max(1, maxX[o]! - minX[o]! + 1);
    if (cnt[o]! > 0) out.set(c, [sx[o]! / cnt[o]!, sy[o]! / cnt[o]!, w]);
    else out.set(c, [c.sumX / c.area, c.sumY / c.area, w]);
  });
  return out;
}

/** Per component: votes per class (arg-max pixel counts, or summed probabilities). */
function votesPerComponent(
  mask: Uint8Array,
  labels: Int32Array,
  count: number,
  k: number,
  probs: Float32Array | undefined,
): Float64Array[] {
  const out = Array.from({ length: count }, () => new Float64Array(k));
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l === 0) continue;
    const v = out[l - 1]!;
    if (probs) for (let j = 0, o = i * k; j < k; j++) v[j]! += probs[o + j]!;
    else v[mask[i]!]! += 1;
  }
  return out;
}

interface StepState {
  owner: Int32Array;
  cands: Candidate[];
  newCand: (i: number) => Candidate;
  absorb: (c: Candidate, i: number) => void;
  changes: NumberingChange[];
}

/**
 * Each number at most once: the largest component of a number is its tooth; a component
 * too small to be a tooth joins the tooth it shares the longest border with (or is
 * dropped when it touches none); a larger extra component is a tooth of its own and takes
 * the free number it votes for most, nearest in the chart to its own.
 */
function uniqueStep(
  comps: ReturnType<typeof labelComponents>,
  fdiAt: (cls: number) => Fdi | undefined,
  minPx: number,
  fragmentShare: number,
  width: number,
  height: number,
  st: StepState,
): void {
  const largest = new Map<Fdi, number>();
  for (let i = 0; i < comps.count; i++) {
    const f = fdiAt(comps.cls[i]!);
    if (f === undefined) continue;
    const at = largest.get(f);
    if (at === undefined || comps.area[i]! > comps.area[at]!) largest.set(f, i);
  }
  const keptAreas = [...largest.values()]
    .map((i) => comps.area[i]!)
    .filter((a) => a >= minPx)
    .sort((a, b) => a - b);
  const median = keptAreas.length > 0 ? keptAreas[(keptAreas.length - 1) >> 1]! : 0;
  const fragmentPx = Math.max(minPx, fragmentShare * median);
  // Kinds: 1 kept tooth, 2 extra tooth, 3 fragment.
  const kind = new Int8Array(comps.count);
  for (let i = 0; i < comps.count; i++) {
    const f = fdiAt(comps.cls[i]!);
    if (f === undefined) continue;
    const a = comps.area[i]!;
    kind[i] = a < minPx ? 3 : largest.get(f) === i ? 1 : a < fragmentPx ? 3 : 2;
  }
  const used = new Set<Fdi>();
  for (let i = 0; i < comps.count; i++) {
    if (kind[i] !== 1) continue;
    st.owner[i] = st.cands.length;
    st.cands.push(st.newCand(i));
    used.add(st.cands[st.cands.length - 1]!.fdi);
  }
  // Extra whole teeth, largest first, take the best free number.
  const extras = [...Array(comps.count).keys()]
    .filter((i) => kind[i] === 2)
    .sort((a, b) => comps.area[b]! - comps.area[a]!);
  for (const i of extras) {
    const c = st.newCand(i);
    const from = c.fdi;
    const to = bestFree(c, used, fdiAt);
    st.owner[i] = st.cands.length;
    st.cands.push(c);
    if (to === undefined) {
      c.dropped = true;
      st.changes.push({ from, to: null, areaPx: c.area, reason: 'duplicate' });
    } else {
      c.fdi = to;
      used.add(to);
      st.changes.push({ from, to, areaPx: c.area, reason: 'duplicate' });
    }
  }
  // Fragments join the tooth they share the longest border with.
  const border = sharedBorders(comps.labels, width, height, kind);
  for (let i = 0; i < comps.count; i++) {
    if (kind[i] !== 3) continue;
    const from = fdiAt(comps.cls[i]!)!;
    const touching = border.get(i);
    let best = -1;
    let bestLen = 0;
    for (const [j, len] of touching ?? []) {
      if (len > bestLen && st.owner[j]! >= 0 && !st.cands[st.owner[j]!]!.dropped) {
        best = j;
        bestLen = len;
      }
    }
    if (best < 0) {
      st.changes.push({ from, to: null, areaPx: comps.area[i]!, reason: 'fragment' });
      continue; // owner stays -1: background
    }
    const c = st.cands[st.owner[best]!]!;
    st.owner[i] = st.owner[best]!;
    st.absorb(c, i);
    if (c.fdi !== from) {
      st.changes.push({ from, to: c.fdi, areaPx: comps.area[i]!, reason: 'fragment' });
    }
  }
}

/**
 * Border lengths (4-neighbour pixel pairs) between each fragment (kind 3) and the
 * non-fragment components it touches.
 */
function sharedBorders(
  labels: Int32Array,
  width: number,
  height: number,
  kind: Int8Array,
): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  const note = (a: number, b: number): void => {
    if (a === 0 || b === 0 || a === b) return;
    const ia = a - 1;
    const ib = b - 1;
    if (kind[ia] === 3 && kind[ib] !== 3) {
      let m = out.get(ia);
      if (!m) out.set(ia, (m = new Map()));
      m.set(ib, (m.get(ib) ?? 0) + 1);
    }
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const a = labels[i]!;
      if (x + 1 < width) {
        note(a, labels[i + 1]!);
        note(labels[i + 1]!, a);
      }
      if (y + 1 < height) {
        note(a, labels[i + width]!);
        note(labels[i + width]!, a);
      }
    }
  }
  return out;
}

/** Normalised class votes of a candidate over the tooth classes (background left out). */
function shares(c: Candidate): Float64Array {
  const s = new Float64Array(c.votes.length);
  let sum = 0;
  for (let j = 1; j < s.length; j++) sum += c.votes[j]!;
  if (sum > 0) for (let j = 1; j < s.length; j++) s[j] = c.votes[j]! / sum;
  return s;
}

/**
 * Chart distance between two numbers: the squared position difference, plus 2 when the
 * quadrants differ — a tooth's mirror or its counterpart in the other jaw (the confusions
 * numbering networks make most, flips being symmetric) counts nearer than two positions
 * away, farther than the next tooth. On ufba425 masks with injected errors this beat a
 * penalty that kept every number in its quadrant (64: arch-step F1 0.972 vs 0.978).
 */
const QUADRANT_STEP = 2;

/** {@link QUADRANT_STEP}'s chart distance between two numbers. */
function chartDistance(a: Fdi, b: Fdi): number {
  return (
    (positionOf(a) - positionOf(b)) ** 2 + (quadrantOf(a) === quadrantOf(b) ? 0 : QUADRANT_STEP)
  );
}

/**
 * The free number (of the model's classes, optionally only in quadrant `q`) with the least
 * expected chart distance under the candidate's votes; undefined when none is free.
 */
function bestFree(
  c: Candidate,
  used: ReadonlySet<Fdi>,
  fdiAt: (cls: number) => Fdi | undefined,
  q?: number,
): Fdi | undefined {
  const s = shares(c);
  let best: Fdi | undefined;
  let bestCost = Infinity;
  for (let j = 1; j < s.length; j++) {
    const f = fdiAt(j);
    if (f === undefined || used.has(f) || (q !== undefined && quadrantOf(f) !== q)) continue;
    let cost = 0;
    for (let g = 1; g < s.length; g++) {
      if (s[g]! > 0) cost += s[g]! * chartDistance(f, fdiAt(g)!);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = f;
    }
  }
  return best;
}

/**
 * Quadrant from the geometry: a tooth on the other side of the midline or of the occlusal
 * curve than its number says moves to the same position in the quadrant it lies in, or a
 * free neighbouring position there (±1). The numbers of all such teeth are released first,
 * so two teeth labelled each other's mirror (36 and 46) swap. Otherwise it keeps its
 * number: a far jump on uncertain geometry (a tooth on the midline) does more harm.
 */
function quadrantStep(
  live: Candidate[],
  geo: ReadonlyMap<Candidate, 1 | 2 | 3 | 4>,
  scheme: NumberingScheme,
  changes: NumberingChange[],
): void {
  const fdiAt = (cls: number): Fdi | undefined => scheme.fdiOfClass[cls];
  const wrong = live
    .filter((c) => quadrantOf(c.fdi) !== geo.get(c))
    .sort((a, b) => b.area - a.area);
  const used = new Set(live.filter((c) => !wrong.includes(c)).map((c) => c.fdi));
  for (const c of wrong) {
    const q = geo.get(c)!;
    const from = c.fdi;
    const same = fdiOf(q, positionOf(from));
    const near = bestFree(c, used, fdiAt, q);
    const to =
      !used.has(same) && scheme.classOfFdi.has(same)
        ? same
        : near !== undefined && Math.abs(positionOf(near) - positionOf(from)) <= 1
          ? near
          : from;
    used.add(to);
    c.fdi = to;
    if (to !== from) changes.push({ from, to, areaPx: c.area, reason: 'quadrant' });
  }
}

/**
 * Order along the arch: per quadrant, teeth sorted by distance from the midline take
 * strictly increasing positions, minimising the expected squared position shift under each
 * tooth's votes (so a swapped pair is swapped back, while a gap left by a missing tooth
 * costs nothing and stays open).
 */
function archStep(
  live: Candidate[],
  geo: ReadonlyMap<Candidate, 1 | 2 | 3 | 4>,
  tipX: ReadonlyMap<Candidate, readonly [number, number]>,
  midline: { readonly upper: number; readonly lower: number },
  scheme: NumberingScheme,
  changes: NumberingChange[],
): void {
  const alive = live.filter((c) => !c.dropped);
  for (const q of [1, 2, 3, 4] as const) {
    const m = q <= 2 ? midline.upper : midline.lower;
    const dist = (c: Candidate): number => Math.abs(tipX.get(c)![0] - m);
    // Teeth the quadrant step could not move stay where their number says.
    const teeth = alive
      .filter((c) => quadrantOf(c.fdi) === q && geo.get(c) === q)
      .sort((a, b) => dist(a) - dist(b));
    tolerateOrder(teeth, dist, (c) => tipX.get(c)![1]);
    if (teeth.length === 0) continue;
    const taken = new Set(
      alive.filter((c) => quadrantOf(c.fdi) === q && geo.get(c) !== q).map((c) => c.fdi),
    );
    const cost = teeth.map((c) => {
      const s = shares(c);
      return [1, 2, 3, 4, 5, 6, 7, 8].map((p) => {
        const f = fdiOf(q, p);
        if (!scheme.classOfFdi.has(f) || taken.has(f)) return Infinity;
        // A hair's preference for the number the earlier steps gave breaks exact ties.
        let e = f === c.fdi ? 0 : 1e-6;
        for (let g = 1; g < s.length; g++) {
          if (s[g]! > 0) e += s[g]! * (p - positionOf(scheme.fdiOfClass[g]!)) ** 2;
        }
        return e;
      });
    });
    const pos = assignAlongArch(cost);
    teeth.forEach((c, i) => {
      const p = pos[i]!;
      const from = c.fdi;
      if (p === 0) {
        c.dropped = true;
        changes.push({ from, to: null, areaPx: c.area, reason: 'arch' });
      } else if (fdiOf(q, p) !== from) {
        c.fdi = fdiOf(q, p);
        changes.push({ from, to: c.fdi, areaPx: c.area, reason: 'arch' });
      }
    });
  }
}

/**
 * Geometry only overrules the labels where it is clear: neighbours in `teeth` (sorted by
 * distance from the midline) closer than 30 % of the narrower one's width are put back in
 * the order of their numbers. Overlapping crowns (incisors, tilted canines, a third molar
 * above the second, a premolar under a milk molar) otherwise get swapped for nothing.
 */
function tolerateOrder(
  teeth: Candidate[],
  dist: (c: Candidate) => number,
  width: (c: Candidate) => number,
): void {
  for (let pass = 0; pass < teeth.length; pass++) {
    let moved = false;
    for (let i = 0; i + 1 < teeth.length; i++) {
      const a = teeth[i]!;
      const b = teeth[i + 1]!;
      const close = dist(b) - dist(a) < 0.3 * Math.min(width(a), width(b));
      if (close && positionOf(a.fdi) > positionOf(b.fdi)) {
        teeth[i] = b;
        teeth[i + 1] = a;
        moved = true;
      }
    }
    if (!moved) return;
  }
}

/** Paint the candidates' numbers into a new map and describe each present tooth. */
function render(
  mask: Uint8Array,
  labels: Int32Array,
  owner: Int32Array,
  cands: readonly Candidate[],
  scheme: NumberingScheme,
  width: number,
  height: number,
  probs: Float32Array | undefined,
  extra: Pick<NumberingResult, 'changes' | 'midline' | 'occlusal'>,
): NumberingResult {
  const k = scheme.fdiOfClass.length;
  const classOfCand = cands.map((c) => (c.dropped ? 0 : scheme.classOfFdi.get(c.fdi)!));
  const out = new Uint8Array(mask.length);
  const area = new Float64Array(k);
  const sx = new Float64Array(k);
  const sy = new Float64Array(k);
  const score = new Float64Array(k);
  const minX = new Int32Array(k).fill(width);
  const minY = new Int32Array(k).fill(height);
  const maxX = new Int32Array(k).fill(-1);
  const maxY = new Int32Array(k).fill(-1);
  for (let i = 0; i < mask.length; i++) {
    const l = labels[i]!;
    if (l === 0) continue;
    const o = owner[l - 1]!;
    const c = o < 0 ? 0 : classOfCand[o]!;
    if (c === 0) continue;
    out[i] = c;
    const x = i % width;
    const y = (i - x) / width;
    area[c]! += 1;
    sx[c]! += x;
    sy[c]! += y;
    score[c]! += probs ? probs[i * k + c]! : mask[i] === c ? 1 : 0;
    if (x < minX[c]!) minX[c] = x;
    if (x > maxX[c]!) maxX[c] = x;
    if (y < minY[c]!) minY[c] = y;
    if (y > maxY[c]!) maxY[c] = y;
  }
  const teeth: NumberedTooth[] = [];
  for (let c = 1; c < k; c++) {
    const a = area[c]!;
    if (a === 0) continue;
    teeth.push({
      fdi: scheme.fdiOfClass[c]!,
      classIndex: c,
      areaPx: a,
      bbox: [minX[c]!, minY[c]!, maxX[c]! - minX[c]! + 1, maxY[c]! - minY[c]! + 1],
      centroid: [Math.round((10 * sx[c]!) / a) / 10, Math.round((10 * sy[c]!) / a) / 10],
      score: Math.round((1000 * score[c]!) / a) / 1000,
    });
  }
  teeth.sort((a, b) => a.fdi - b.fdi);
  return { mask: out, teeth, missing: missingTeeth(teeth.map((t) => t.fdi)), ...extra };
}
