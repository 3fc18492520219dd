/**
 * Where the findings picture puts each lesion's label ("27 D"): beside its ring, on the
 * first side where it covers no label placed before it. Why: lesions of neighbouring teeth
 * sit a ring apart, and labels drawn always to the right ran into each other ("27 2D M" for
 * 27 D and 28 M). Pure: estimated text boxes in, anchor points out.
 */

/** A label to place: the ring it belongs to and its text's estimated box size. */
export interface LabelRequest {
  readonly cx: number;
  readonly cy: number;
  /** The ring's radius. */
  readonly r: number;
  readonly width: number;
  readonly height: number;
}

/** A label's box (x, y = top-left) and the text anchor it is drawn with. */
interface LabelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly anchor: 'start' | 'end' | 'middle';
}

/**
 * A placed label: its box, and the point to draw its text at with `anchor` (SVG's
 * `text-anchor`, the text centred vertically on `textY`).
 */
export interface PlacedLabel extends LabelBox {
  readonly textX: number;
  readonly textY: number;
}

/** Gap between a ring and its label, in pixels. */
const GAP = 2;

function overlaps(a: LabelBox, b: LabelBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Candidate boxes for one label, in order of preference: right, left, below, above, then
 * the right side moved down and up a label height at a time. */
function candidates(q: LabelRequest): LabelBox[] {
  const { cx, cy, r, width: w, height: h } = q;
  const right = (dy: number): LabelBox => ({
    x: cx + r + GAP,
    y: cy - h / 2 + dy,
    width: w,
    height: h,
    anchor: 'start',
  });
  const out: LabelBox[] = [
    right(0),
    { x: cx - r - GAP - w, y: cy - h / 2, width: w, height: h, anchor: 'end' },
    { x: cx - w / 2, y: cy + r + GAP, width: w, height: h, anchor: 'middle' },
    { x: cx - w / 2, y: cy - r - GAP - h, width: w, height: h, anchor: 'middle' },
  ];
  for (let k = 1; k <= 4; k++) out.push(right(k * h), right(-k * h));
  return out;
}

/**
 * Place `labels` in order: each takes its first candidate that lies inside the
 * `width`×`height` picture and covers no label placed before it; when none is free, the
 * first inside the picture (or the plain right-hand one), so every label is drawn.
 */
export function placeLabels(
  labels: readonly LabelRequest[],
  width: number,
  height: number,
): PlacedLabel[] {
  const placed: LabelBox[] = [];
  for (const q of labels) {
    const all = candidates(q);
    const inside = all.filter(
      (c) => c.x >= 0 && c.y >= 0 && c.x + c.width <= width && c.y + c.height <= height,
    );
    const free = inside.find((c) => !placed.some((p) => overlaps(c, p)));
    placed.push(free ?? inside[0] ?? all[0]!);
  }
  return placed.map((b) => ({
    ...b,
    textX: b.anchor === 'start' ? b.x : b.anchor === 'end' ? b.x + b.width : b.x + b.width / 2,
    textY: b.y + b.height / 2,
  }));
}
