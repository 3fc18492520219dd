/**
 * The tooth gate: caries sits on teeth, so a lesion model trained on tiles centred on
 * lesions should not report regions in the sinus, the ramus or an image corner. A lesion
 * model asks for it in its dentseg.json (`postprocess.toothGate: { marginPx }`); each of its
 * regions that counts as a finding is kept only when it touches the teeth grown by
 * `marginPx`. One rule for the model set (predict, serve, the page) and `dentseg evaluate`.
 * Platform-free: typed arrays in, plain data out.
 */
import { dropComponents, labelComponents, type Components } from '../imaging/components.js';
import type { ModelMeta } from '../model/meta.js';
import type { TileFocus } from './types.js';

/** Where the teeth are: non-zero = tooth (a binary mask or a class map), at its own size. */
export interface TeethMask {
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Where a lesion model with a tooth gate need look: `teeth` grown by the gate's margin, the
 * reach within which a region can still touch a tooth. Undefined when `meta` asks for no
 * gate or the teeth are unknown (then every tile runs). One rule for the model set and
 * `evaluate`, so that both skip the same tiles.
 */
export function gateFocus(meta: ModelMeta, teeth: TeethMask | undefined): TileFocus | undefined {
  const gate = meta.postprocess?.toothGate;
  if (gate === undefined || teeth === undefined) return undefined;
  return { mask: teeth.mask, width: teeth.width, height: teeth.height, reachPx: gate.marginPx };
}

/** What {@link gateLesionMask} returns. */
export interface GatedLesions {
  /**
   * The lesion mask without the dropped regions and the specks under `minAreaPx` (the input
   * itself when there were none).
   */
  readonly mask: Uint8Array;
  /** Regions of at least `minAreaPx` kept and dropped (specks are neither). */
  readonly kept: number;
  readonly dropped: number;
  /**
   * The labelling of `mask` (as `labelComponents` of it returns): the gate labels the lesion
   * mask anyway, so the findings take these regions instead of labelling the mask again.
   */
  readonly components: Components;
}

/**
 * What a lesion model's tooth gate did, as `X.json`'s and the API's model entry say it:
 * applied with its margin and how many regions it dropped, or not applied and why.
 */
export type ToothGateReport =
  | { readonly applied: true; readonly marginPx: number; readonly dropped: number }
  | { readonly applied: false; readonly reason: string };

/** Why a gate asked for did not run in a set without a teeth model (also for the docs). */
export const NO_TEETH_MODEL = 'no teeth model in the set';

/** `target` with component `c` of `comp` (labelled on a `width`-wide grid) set to 0. */
function clearRegion(target: Uint8Array, comp: Components, c: number, width: number): void {
  for (let y = comp.minY[c]!; y <= comp.maxY[c]!; y++)
    for (let x = comp.minX[c]!; x <= comp.maxX[c]!; x++)
      if (comp.labels[y * width + x] === c + 1) target[y * width + x] = 0;
}

/**
 * Keep the regions of a binary lesion `mask` (`width*height`, non-zero = lesion) that touch
 * the teeth grown by `marginPx` pixels (Euclidean, measured at the lesion mask's
 * resolution; 0 = the region must overlap a tooth). Only 8-connected regions of at least
 * `minAreaPx` are judged; smaller specks are no findings and leave the mask uncounted. The teeth
 * may be at another size: coordinates are mapped (nearest pixel), no mask is resized. Work
 * grows with the regions' boxes grown by the margin, not with the image.
 */
export function gateLesionMask(
  mask: Uint8Array,
  width: number,
  height: number,
  teeth: TeethMask,
  marginPx: number,
  minAreaPx: number,
): GatedLesions {
  // The specks go first (uncounted), so the gate judges only the regions that are findings.
  const specks = dropLesionSpecks(mask, width, height, minAreaPx);
  const comp = specks.components;
  const same = teeth.width === width && teeth.height === height;
  const sx = teeth.width / width;
  const sy = teeth.height / height;
  // Nearest tooth pixel for a pixel of the lesion mask's grid (centres mapped).
  const isTooth = (x: number, y: number): boolean =>
    same
      ? teeth.mask[y * width + x] !== 0
      : teeth.mask[
          Math.min(teeth.height - 1, Math.floor((y + 0.5) * sy)) * teeth.width +
            Math.min(teeth.width - 1, Math.floor((x + 0.5) * sx))
        ] !== 0;
  const m = marginPx;
  const far = m + 1; // any vertical distance beyond the margin is as good as infinite
  let out: Uint8Array | undefined;
  let kept = 0;
  let dropped = 0;
  const drop = new Uint8Array(comp.count);
  for (let c = 0; c < comp.count; c++) {
    const x0 = Math.max(0, comp.minX[c]! - m);
    const x1 = Math.min(width - 1, comp.maxX[c]! + m);
    const y0 = Math.max(0, comp.minY[c]! - m);
    const y1 = Math.min(height - 1, comp.maxY[c]! + m);
    const ww = x1 - x0 + 1;
    // Per column of the window: vertical distance from each row to the nearest tooth pixel
    // (capped at `far`); teeth outside the window lie beyond the margin of every pixel.
    const wh = y1 - y0 + 1;
    const vert = new Int32Array(ww * wh);
    for (let x = x0; x <= x1; x++) {
      let d = far;
      for (let y = y0; y <= y1; y++) {
        d = isTooth(x, y) ? 0 : Math.min(far, d + 1);
        vert[(y - y0) * ww + (x - x0)] = d;
      }
      d = far;
      for (let y = y1; y >= y0; y--) {
        const i = (y - y0) * ww + (x - x0);
        d = vert[i] === 0 ? 0 : Math.min(far, d + 1);
        if (d < vert[i]!) vert[i] = d;
      }
    }
    // A region pixel touches the grown teeth when some column within the margin has a tooth
    // pixel at squared distance ≤ margin².
    const label = c + 1;
    const r2 = m * m;
    let touches = false;
    for (let y = comp.minY[c]!; y <= comp.maxY[c]! && !touches; y++) {
      const row = (y - y0) * ww;
      for (let x = comp.minX[c]!; x <= comp.maxX[c]! && !touches; x++) {
        if (comp.labels[y * width + x] !== label) continue;
        const a = Math.max(x0, x - m);
        const b = Math.min(x1, x + m);
        for (let xx = a; xx <= b; xx++) {
          const dy = vert[row + xx - x0]!;
          if (dy > m) continue;
          if ((xx - x) * (xx - x) + dy * dy <= r2) {
            touches = true;
            break;
          }
        }
      }
    }
    if (touches) {
      kept++;
      continue;
    }
    dropped++;
    drop[c] = 1;
    // Copy on first write, unless the speck pass already made a copy.
    out ??= specks.mask === mask ? mask.slice() : specks.mask;
    clearRegion(out, comp, c, width);
  }
  return {
    mask: out ?? specks.mask,
    kept,
    dropped,
    components: dropComponents(comp, width, drop),
  };
}

/**
 * The specks of a lesion `mask` under `minAreaPx` cleared (they are no findings, so they
 * leave the mask that X.<type>.png shows and `evaluate` scores), and the labelling of what
 * is left. The gate's first step, and the whole rule for a model without a gate.
 */
export function dropLesionSpecks(
  mask: Uint8Array,
  width: number,
  height: number,
  minAreaPx: number,
): { readonly mask: Uint8Array; readonly components: Components } {
  const comp = labelComponents(mask, width, height);
  const drop = new Uint8Array(comp.count);
  let out: Uint8Array | undefined;
  for (let c = 0; c < comp.count; c++) {
    if (comp.area[c]! >= minAreaPx) continue;
    drop[c] = 1;
    out ??= mask.slice();
    clearRegion(out, comp, c, width);
  }
  return { mask: out ?? mask, components: dropComponents(comp, width, drop) };
}

/**
 * A lesion model's mask as its findings see it, the one call the model set and `evaluate`
 * make: its regions under `minAreaPx` (the model's findings rule at this image,
 * `findingsMinAreaPx`) cleared, then its tooth gate when `meta` asks for one — `report`
 * undefined when it asks for none, not applied without `teeth`, else what was dropped. So
 * X.<type>.png, the findings and `evaluate`'s lesion counts judge the same regions.
 */
export function lesionMaskRules(
  meta: ModelMeta,
  mask: Uint8Array,
  width: number,
  height: number,
  minAreaPx: number,
  teeth: TeethMask | undefined,
): {
  readonly mask: Uint8Array;
  readonly report?: ToothGateReport;
  /** The labelling of the returned mask ({@link GatedLesions.components}). */
  readonly components: Components;
} {
  const gate = meta.postprocess?.toothGate;
  if (gate === undefined || teeth === undefined) {
    const d = dropLesionSpecks(mask, width, height, minAreaPx);
    return gate === undefined ? d : { ...d, report: { applied: false, reason: NO_TEETH_MODEL } };
  }
  const g = gateLesionMask(mask, width, height, teeth, gate.marginPx, minAreaPx);
  return {
    mask: g.mask,
    components: g.components,
    report: { applied: true, marginPx: gate.marginPx, dropped: g.dropped },
  };
}
