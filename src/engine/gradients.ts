/**
 * Gradients of Mean and Sum that broadcast dy in the backend. TensorFlow.js' own ones
 * multiply dy by `tf.ones(x.shape)`, which fills a typed array of x's full size in
 * JavaScript, copies it into the backend and then multiplies. Batch norm takes two means
 * of every activation it normalises, so at 512², batch 8, a 16-channel decoder stage that
 * is 134 MB of fresh memory per call: perf showed a fifth of a training step's page faults
 * in tfjs' `makeOnesTypedArray`. `broadcastTo` is one Tile kernel (native on torch, a
 * repeated copy on wasm: src/engine/wasm/tile.ts) and gives the same values.
 *
 * And the gradient of Relu: tfjs' is dy * step(x), two full-size kernels per activation
 * (7.5 % of a torch training step). A backend that registers the kernel `RELU_GRAD`
 * (torch: one ATen threshold_backward) gets it in one pass; others keep tfjs' formula.
 */
// tfjs-layers bundles its own copy of these gradient configs and registers them when it
// loads; importing it first makes sure that ours, registered later, are the ones used.
import '@tensorflow/tfjs-layers';
import {
  broadcastTo,
  cast,
  div,
  engine,
  getBackend,
  getGradient,
  getKernel,
  Mean,
  mul,
  registerGradient,
  Relu,
  reshape,
  step,
  Sum,
  util,
  type GradConfig,
  type MeanAttrs,
  type NamedAttrMap,
  type SumAttrs,
  type Tensor,
} from '@tensorflow/tfjs-core';

/**
 * The gradient of a reduction over `axis`: dy reshaped to x's rank (reduced axes of size 1)
 * and broadcast to x's shape, divided by the number of reduced values for a mean.
 */
function reductionGradient(kernelName: typeof Sum | typeof Mean): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const x = saved[0];
      if (!x) throw new Error(`${kernelName} gradient: the input was not saved`);
      const { axis } = attrs as unknown as SumAttrs | MeanAttrs;
      const axes = util.parseAxisParam(axis, x.shape);
      const expanded = x.shape.slice();
      for (const a of axes) expanded[a] = 1;
      return {
        x: () => {
          const broadcast = broadcastTo(reshape(dy as Tensor, expanded), x.shape);
          if (kernelName === Sum) return broadcast;
          return div(
            broadcast,
            axes.reduce((n, a) => n * (x.shape[a] ?? 1), 1),
          );
        },
      };
    },
  };
}

export const SUM_GRADIENT: GradConfig = reductionGradient(Sum);
export const MEAN_GRADIENT: GradConfig = reductionGradient(Mean);

/** Kernel name of the one-pass ReLU gradient (inputs `dy`, `x`): dy where x > 0, else 0. */
export const RELU_GRAD = 'DentsegReluGrad';

export const RELU_GRADIENT: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const x = saved[0];
    if (!x) throw new Error('Relu gradient: the input was not saved');
    const g = dy as Tensor;
    return {
      x: () =>
        getKernel(RELU_GRAD, getBackend()) === undefined
          ? mul(g, cast(step(x), 'float32'))
          : (engine().runKernel(RELU_GRAD, { dy: g, x }) as Tensor),
    };
  },
};

/** Register the gradients above (idempotent; `initEngine` calls it). */
export function registerLeanGradients(): void {
  for (const config of [SUM_GRADIENT, MEAN_GRADIENT, RELU_GRADIENT]) {
    if (getGradient(config.kernelName) !== config) registerGradient(config);
  }
}
