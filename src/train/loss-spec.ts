/**
 * The names, parameters and defaults of the training losses, apart from their tfjs code
 * (losses.ts): the CLI reads them to parse and describe `--loss` without loading
 * TensorFlow.js, and config.json / dentseg.json record a `LossSpec` as it is.
 */

/** The loss names `dentseg train --loss` takes; `dice` is the seed's. */
export const LOSS_NAMES = ['dice', 'tversky', 'focal-tversky', 'focal'] as const;
/** One of `LOSS_NAMES`. */
export type LossName = (typeof LOSS_NAMES)[number];

/**
 * A loss and its parameters, validated and with defaults filled (config.json and
 * dentseg.json record it as is):
 * - `dice`: cross-entropy + (1 − soft Dice), the seed's loss.
 * - `tversky`: cross-entropy + (1 − Tversky index); `alpha` weights false positives,
 *   `beta` false negatives, each in [0, 1] (β > α favours recall of small targets).
 * - `focal-tversky`: cross-entropy + (1 − Tversky index)^`gamma`, γ in (0, 5].
 * - `focal`: focal cross-entropy (each pixel's term × (1 − p_true)^`gamma`, γ in [0, 5];
 *   class weights still apply, as its α balance) + (1 − soft Dice).
 */
export type LossSpec =
  | { readonly name: 'dice' }
  | { readonly name: 'tversky'; readonly alpha: number; readonly beta: number }
  | {
      readonly name: 'focal-tversky';
      readonly alpha: number;
      readonly beta: number;
      readonly gamma: number;
    }
  | { readonly name: 'focal'; readonly gamma: number };

/** The seed's loss, used when none is given (and for a config.json written before `loss`). */
export const DEFAULT_LOSS: LossSpec = Object.freeze({ name: 'dice' });

/**
 * Parameter defaults: α 0.3 / β 0.7 as Salehi et al. 2017 found best for small lesions,
 * γ 0.75 for focal Tversky (Abraham & Khan 2019's 1/γ = 4/3), γ 2 for focal (Lin et al.).
 */
export const LOSS_DEFAULTS = Object.freeze({
  alpha: 0.3,
  beta: 0.7,
  focalTverskyGamma: 0.75,
  focalGamma: 2,
});
