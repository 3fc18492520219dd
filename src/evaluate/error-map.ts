/**
 * Error maps: where a prediction disagrees with the ground truth, drawn over the X-ray so an
 * engineer sees at a glance whether errors are thin bands along outlines (resolution,
 * capacity), whole missed teeth (recall) or blobs on crowns and implants (precision).
 * Pure: RGB bytes in, RGB bytes out; encoding to PNG is the caller's.
 */

/** RGB of each kind of pixel; chosen to stay apart for red-green colour-blind readers. */
export const ERROR_MAP_COLOURS = {
  /** Predicted and true (right class for multi-class). */
  truePositive: [60, 200, 90],
  /** Predicted where the truth is background, or the wrong class. */
  falsePositive: [255, 140, 0],
  /** True target the prediction missed. */
  falseNegative: [30, 120, 255],
} as const;

/** Pixel counts of an error map (multi-class: a wrong class counts as a false positive). */
export interface ErrorMapCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/**
 * An RGB image (`width * height * 3` bytes) of `grey` dimmed, with true positives tinted
 * green, false positives solid orange and false negatives solid blue. `prediction` and
 * `truth` are 0 for background and a class index (or 1) otherwise, at the image's size.
 */
export function errorMapRgb(
  grey: Uint8Array,
  prediction: Uint8Array,
  truth: Uint8Array,
  width: number,
  height: number,
): { rgb: Uint8Array; counts: ErrorMapCounts } {
  const n = width * height;
  if (grey.length !== n || prediction.length !== n || truth.length !== n) {
    throw new RangeError(
      `error map: expected ${n} pixels in image, prediction and truth; ` +
        `got ${grey.length}, ${prediction.length}, ${truth.length}`,
    );
  }
  const rgb = new Uint8Array(n * 3);
  const { truePositive: tpC, falsePositive: fpC, falseNegative: fnC } = ERROR_MAP_COLOURS;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    // Dim the X-ray so solid error colours read against bright enamel and implants.
    const v = grey[i]! * 0.6;
    const p = prediction[i]!;
    const t = truth[i]!;
    const o = i * 3;
    if (p !== 0 && p === t) {
      tp++;
      // Translucent: correct pixels keep the anatomy visible.
      rgb[o] = v * 0.5 + tpC[0] * 0.5;
      rgb[o + 1] = v * 0.5 + tpC[1] * 0.5;
      rgb[o + 2] = v * 0.5 + tpC[2] * 0.5;
    } else if (p !== 0) {
      fp++;
      rgb[o] = fpC[0];
      rgb[o + 1] = fpC[1];
      rgb[o + 2] = fpC[2];
    } else if (t !== 0) {
      fn++;
      rgb[o] = fnC[0];
      rgb[o + 1] = fnC[1];
      rgb[o + 2] = fnC[2];
    } else {
      rgb[o] = rgb[o + 1] = rgb[o + 2] = v;
    }
  }
  return { rgb, counts: { tp, fp, fn } };
}
