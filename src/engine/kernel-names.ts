/**
 * Names of dentseg's own kernels that code outside the engine asks for. A backend that
 * registers one runs the work in one native call; elsewhere the caller keeps tfjs' ops.
 */

/**
 * Adam's update of one variable in one pass (inputs `x`, `g`, `m`, `v`; attributes `lr`,
 * `beta1`, `beta2`, `epsilon`, `correction1` and `correction2` = 1 − βᵗ); outputs the new
 * x, m and v, by tfjs' AdamOptimizer formula.
 */
export const ADAM_UPDATE = 'DentsegAdamUpdate';
