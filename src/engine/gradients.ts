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
 *
 * And the gradients of Conv2D: tfjs asks for the input gradient, then the filter gradient,
 * as two kernels. A backend that registers `CONV2D_GRAD_PAIR` (inputs `dy`, `filter`, `x`)
 * computes both in one call for the first and hands the second out when Conv2DBackpropFilter
 * asks for it (torch: one ATen convolution_backward, which shares the layout copies and
 * oneDNN's set-up; the deep layers' two gradients cost 20-30 % less). The kernels called
 * and their attributes are otherwise tfjs' own.
 */
// tfjs-layers bundles its own copy of these gradient configs and registers them when it
// loads; importing it first makes sure that ours, registered later, are the ones used.
import '@tensorflow/tfjs-layers';
import {
  broadcastTo,
  cast,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
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
  type Conv2DAttrs,
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

/**
 * Kernel name of Conv2D's input gradient computed together with its filter gradient
 * (inputs `dy`, `filter`, `x`; Conv2DBackpropInput's attributes): the backend keeps the
 * filter gradient for the Conv2DBackpropFilter call on the same `x` and `dy` that follows.
 */
export const CONV2D_GRAD_PAIR = 'DentsegConv2DBackpropPair';

export const CONV2D_GRADIENT: GradConfig = {
  kernelName: Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved;
    if (!x || !filter) throw new Error('Conv2D gradient: the inputs were not saved');
    const { dilations, strides, pad, dataFormat } = attrs as unknown as Conv2DAttrs;
    const d = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
    if (d.some((v) => v !== 1)) {
      throw new Error(
        `Error in gradient of conv2D: dilation rates greater than 1 are not yet supported in gradients. Got dilations '${String(dilations)}'`,
      );
    }
    const g = dy as Tensor;
    const common = { strides, pad, dataFormat };
    return {
      x: () =>
        getKernel(CONV2D_GRAD_PAIR, getBackend()) === undefined
          ? (engine().runKernel(
              Conv2DBackpropInput,
              { dy: g, filter },
              { ...common, inputShape: x.shape },
            ) as Tensor)
          : (engine().runKernel(
              CONV2D_GRAD_PAIR,
              { dy: g, filter, x },
              { ...common, inputShape: x.shape },
            ) as Tensor),
      filter: () =>
        engine().runKernel(
          Conv2DBackpropFilter,
          { x, dy: g },
          { ...common, filterShape: filter.shape },
        ) as Tensor,
    };
  },
};

/** Register the gradients above (idempotent; `initEngine` calls it). */
export function registerLeanGradients(): void {
  for (const config of [SUM_GRADIENT, MEAN_GRADIENT, RELU_GRADIENT, CONV2D_GRADIENT]) {
    if (getGradient(config.kernelName) !== config) registerGradient(config);
  }
}
