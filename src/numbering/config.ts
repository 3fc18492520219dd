/**
 * Whether a model numbers teeth, and how its class map is post-processed: the scheme from
 * its class names, the mode and presence threshold from its `dentseg.json` (or the
 * caller's override, e.g. `dentseg evaluate --numbering`). Pure.
 */
import type { ModelMeta } from '../model/meta.js';
import { numberingScheme, type NumberingScheme } from './fdi.js';
import { defaultMinToothPx, type NumberingMode } from './postprocess.js';

/** A numbering model's post-processing, resolved with its defaults. */
export interface NumberingConfig {
  readonly scheme: NumberingScheme;
  readonly mode: NumberingMode;
  /** Presence threshold in pixels at the network's input size. */
  readonly minToothPx: number;
  /** The network's input size `[height, width]` the threshold refers to. */
  readonly size: readonly [number, number];
}

/**
 * The numbering configuration of a model, or undefined when it is not a numbering model
 * (binary, or a class that is not a permanent FDI number; see `numberingScheme`).
 */
export function numberingConfig(
  meta: Pick<ModelMeta, 'task' | 'classes' | 'input' | 'postprocess'>,
  mode?: NumberingMode,
): NumberingConfig | undefined {
  if (meta.task !== 'multiclass') return undefined;
  const scheme = numberingScheme(meta.classes);
  if (!scheme) return undefined;
  const [h, w] = meta.input.size;
  return {
    scheme,
    mode: mode ?? meta.postprocess?.numbering ?? 'arch',
    minToothPx: meta.postprocess?.minToothPx ?? defaultMinToothPx(w, h),
    size: [h, w],
  };
}

/**
 * The presence threshold carried over to a map of `width×height` pixels (e.g. the
 * ground-truth mask in `evaluate`), scaled by area; at least 1.
 */
export function minToothPxAt(config: NumberingConfig, width: number, height: number): number {
  const [h, w] = config.size;
  return Math.max(1, Math.round((config.minToothPx * width * height) / (w * h)));
}
