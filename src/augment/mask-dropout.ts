/**
 * `MaskDropout` (Albumentations' name and meaning): remove whole objects, the 8-connected
 * regions of one class, from image and mask. On a panoramic an object is a tooth, so the
 * network sees gaps where teeth are missing far more often than the data holds them: the
 * numbering then has to read a molar's number from the arch, not from "the third tooth
 * after the canine". Pure.
 */
import { labelComponents, type Components } from '../imaging/components.js';
import { mulberry32 } from '../rng.js';

/**
 * What a removed object's pixels become: a grey level (0…1), or `mean`, the mean grey of
 * the background pixels (mask 0) in a box around it, so that the gap reads as the soft
 * tissue and bone beside the tooth rather than a black hole the network could learn to spot.
 */
export type DropoutFill = number | 'mean';

/**
 * Remove `count` objects of `mask` picked at random by `seed` (all of them when it holds
 * fewer), only objects of `classes` when given: their mask pixels become 0 and their image
 * pixels `fill`. Works in place on the given arrays.
 */
export function dropMaskObjects(
  grey: Float32Array,
  mask: Uint8Array,
  width: number,
  height: number,
  count: number,
  fill: DropoutFill,
  seed: number,
  classes?: readonly number[],
): void {
  if (count <= 0) return;
  const comps = labelComponents(mask, width, height);
  const ids = Array.from({ length: comps.count }, (_, i) => i).filter(
    (i) => classes === undefined || classes.includes(comps.cls[i]!),
  );
  const u = mulberry32(seed);
  // Partial Fisher–Yates: the first `count` entries are a uniform random pick.
  const picked = Math.min(count, ids.length);
  for (let i = 0; i < picked; i++) {
    const j = i + Math.floor(u() * (ids.length - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  for (const id of ids.slice(0, picked)) {
    const value = fill === 'mean' ? backgroundMean(grey, mask, width, height, comps, id) : fill;
    const x0 = comps.minX[id]!;
    const x1 = comps.maxX[id]!;
    for (let y = comps.minY[id]!; y <= comps.maxY[id]!; y++)
      for (let x = x0, i = y * width + x0; x <= x1; x++, i++)
        if (comps.labels[i] === id + 1) {
          grey[i] = value;
          mask[i] = 0;
        }
  }
}

/** Mean grey of the background pixels in the object's box grown by half its size each way. */
function backgroundMean(
  grey: Float32Array,
  mask: Uint8Array,
  width: number,
  height: number,
  comps: Components,
  id: number,
): number {
  const padX = Math.ceil((comps.maxX[id]! - comps.minX[id]! + 1) / 2);
  const padY = Math.ceil((comps.maxY[id]! - comps.minY[id]! + 1) / 2);
  const x0 = Math.max(0, comps.minX[id]! - padX);
  const x1 = Math.min(width - 1, comps.maxX[id]! + padX);
  const y0 = Math.max(0, comps.minY[id]! - padY);
  const y1 = Math.min(height - 1, comps.maxY[id]! + padY);
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++)
    for (let i = y * width + x0, x = x0; x <= x1; x++, i++)
      if (mask[i] === 0) {
        sum += grey[i]!;
        n++;
      }
  return n > 0 ? sum / n : 0;
}
