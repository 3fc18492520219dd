/**
 * Numbers within an outline: a numbering model says which tooth is which, a binary teeth
 * model says which pixels are tooth. On ufba425 val the binary model draws the teeth as one
 * region better (union Dice 0.920 at 512²) than the 33-class model's arg-max does (0.910 at
 * 256²), while only the numbering model can name them; drawn together, each outline pixel
 * takes the number of the nearest numbered pixel, at the X-ray's resolution. Used by the model set (`predict`, the
 * server) and by `evaluate --outline-model`, so both score and report the same teeth.
 * Platform-free: typed arrays in, typed arrays out.
 */
import { computeGeometry } from '../data/preprocess.js';
import type { ModelMeta } from '../model/meta.js';
import { minToothPxAt, type NumberingConfig } from '../numbering/config.js';

/**
 * How far, in pixels of the numbering model's map (scaled to the X-ray's pixels), a number
 * reaches into outline pixels the numbering model called background. Past it an outline
 * region stays unnumbered and is dropped (an outline blob no numbered tooth is near is no
 * tooth the chart can name). Measured on ufba425 val (teeth-fdi 0.2.2 in teeth-binary
 * 1.2.0, spread at the network's size): 2 → 4 → 10 → 60 px gave F1 0.932 / 0.933 / 0.932 /
 * 0.932 and union Dice 0.9200 / 0.9204 / 0.9203 / 0.9201.
 */
export const OUTLINE_REACH_PX = 4;

/**
 * Whether the outline model averages with the mirrored X-ray (`tta`): as the caller asks
 * (`--tta`, `--no-tta`), else as its numbering model does (`postprocess.tta`), so that the
 * two draw one set of teeth. The one statement of the rule, for the set and `evaluate`.
 */
export function outlineMirrored(
  numbering: Pick<ModelMeta, 'postprocess'> | undefined,
  asked?: boolean,
): boolean | undefined {
  return asked ?? numbering?.postprocess?.tta;
}

/**
 * The teeth a lesion's tooth gate reads in a set with an outline: every pixel that any of
 * the teeth maps calls tooth (0/1) — the numbering model's own map, the outlined map and
 * the outline itself. The gate asks only whether a region touches a tooth, and a crown a
 * lesion has eaten is where the maps disagree: on dc1000 fold 1 the outlined map alone lost
 * one true lesion of 26 that the numbering model's own map keeps (teeth-fdi 0.2.2), and
 * with teeth-fdi 0.4.0 (trained with teeth removed from its inputs) the two numbered maps
 * lost two that only the outline keeps (24 → 26 of 59 found, same false positives).
 */
export function anyTooth(...maps: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(maps[0]?.length ?? 0);
  for (const map of maps) for (let i = 0; i < out.length; i++) if (map[i] !== 0) out[i] = 1;
  return out;
}

/**
 * Spread each numbered pixel's label to unlabelled pixels up to `reach` steps away
 * (4-neighbour breadth-first: every pixel takes the label of a nearest labelled pixel in
 * steps; ties go to the one reached first in scan order), only through pixels `allowed`
 * marks (non-zero) when it is given. `width*height` in and out.
 */
export function spreadLabels(
  mask: Uint8Array,
  width: number,
  height: number,
  reach: number,
  allowed?: Uint8Array,
): Uint8Array {
  const out = Uint8Array.from(mask);
  const n = mask.length;
  // A pixel is seen once labelled or queued; one not allowed counts as seen from the start.
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    if (mask[i] !== 0 || (allowed !== undefined && allowed[i] === 0)) seen[i] = 1;
  // Only labelled pixels with an unseen neighbour can spread (scan order, as before).
  let front = new Int32Array(n);
  let next = new Int32Array(n);
  let size = 0;
  const open = (i: number): boolean => {
    const x = i % width;
    return (
      (x > 0 && seen[i - 1] === 0) ||
      (x < width - 1 && seen[i + 1] === 0) ||
      (i >= width && seen[i - width] === 0) ||
      (i < n - width && seen[i + width] === 0)
    );
  };
  for (let i = 0; i < n; i++) if (mask[i] !== 0 && open(i)) front[size++] = i;
  for (let step = 0; step < reach && size > 0; step++) {
    let nextSize = 0;
    for (let f = 0; f < size; f++) {
      const i = front[f]!;
      const x = i % width;
      const label = out[i]!;
      const visit = (j: number): void => {
        if (seen[j] !== 0) return;
        seen[j] = 1;
        out[j] = label;
        next[nextSize++] = j;
      };
      if (x > 0) visit(i - 1);
      if (x < width - 1) visit(i + 1);
      if (i >= width) visit(i - width);
      if (i < n - width) visit(i + width);
    }
    [front, next] = [next, front];
    size = nextSize;
  }
  return out;
}

/**
 * The numbering model's class map at the X-ray's size (`own`, the pipeline's restored mask,
 * whose borders between teeth follow the probabilities) drawn within a binary teeth outline
 * (`outline`, `width*height`, non-zero = tooth): every outline pixel keeps its number, or
 * takes the one {@link spreadLabels} brings it through the outline from the nearest numbered
 * pixel, {@link OUTLINE_REACH_PX} network pixels at most; every other pixel is background;
 * a number left with fewer than `minToothPx` pixels (the presence rule at the X-ray's size)
 * becomes background too, so that presence, the chart and the metrics read one map. Spread
 * at the X-ray's resolution rather than in the network's pixels, the borders between teeth
 * within the outline stay where the probabilities put them (ufba425 val, teeth-fdi 0.4.0:
 * mean tooth Dice 0.8693 → 0.8702; train 0.9123 → 0.9130). Returns the class map at the
 * X-ray's size.
 */
export function numbersWithinOutline(
  meta: Pick<ModelMeta, 'preprocess' | 'classes'>,
  own: Uint8Array,
  outline: Uint8Array,
  width: number,
  height: number,
  minToothPx: number,
): Uint8Array {
  if (outline.length !== width * height || own.length !== width * height) {
    throw new RangeError(
      `outline and own map have ${outline.length} and ${own.length} values, expected ${width}×${height}`,
    );
  }
  const g = computeGeometry(width, height, meta.preprocess);
  const scale = Math.max(width / g.contentWidth, height / g.contentHeight);
  const spread = spreadLabels(own, width, height, Math.ceil(OUTLINE_REACH_PX * scale), outline);
  const out = new Uint8Array(width * height);
  const count = new Float64Array(meta.classes.length);
  for (let i = 0; i < out.length; i++) {
    if (outline[i] === 0) continue;
    const c = spread[i]!;
    out[i] = c;
    count[c]! += 1;
  }
  const small = new Uint8Array(count.length);
  let any = false;
  for (let c = 1; c < count.length; c++) {
    if (count[c]! > 0 && count[c]! < minToothPx) {
      small[c] = 1;
      any = true;
    }
  }
  if (any) for (let i = 0; i < out.length; i++) if (small[out[i]!] === 1) out[i] = 0;
  return out;
}

/**
 * What a set makes of a numbering model's run and its outline, for the set and `evaluate`
 * alike: `mask`, the numbers within the outline ({@link numbersWithinOutline}, presence by
 * `config`'s rule at the X-ray's size), and `gate`, the teeth a lesion's tooth gate reads
 * ({@link anyTooth} of the numbering model's own map `own`, `mask` and `outline`).
 */
export function outlinedTeeth(
  meta: Pick<ModelMeta, 'preprocess' | 'classes'>,
  config: NumberingConfig,
  own: Uint8Array,
  outline: Uint8Array,
  width: number,
  height: number,
): { readonly mask: Uint8Array; readonly gate: Uint8Array } {
  const mask = numbersWithinOutline(
    meta,
    own,
    outline,
    width,
    height,
    minToothPxAt(config, width, height),
  );
  return { mask, gate: anyTooth(own, mask, outline) };
}
