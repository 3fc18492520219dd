/**
 * Network kernels of the `torch` backend: convolutions and their two gradients, pooling,
 * batch-norm, resizing and matrix products. Padding and output sizes come from tfjs'
 * own conv_util (computeConv2DInfo / computePool2DInfo), so 'same'/'valid'/explicit
 * padding means exactly what it means on the cpu backend; the addon then runs ATen.
 */
import * as tfc from '@tensorflow/tfjs-core';
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import { CONV2D_GRAD_PAIR, RELU_GRAD } from '../gradients.js';
import { ADAM_UPDATE } from '../kernel-names.js';
import type { NativeAttrs } from './native.js';
import { attrsAs, input, type TorchKernel } from './kernel_util.js';

type Shape4 = [number, number, number, number];

function shape4(t: TensorInfo | number[], what: string): Shape4 {
  const s = Array.isArray(t) ? t : t.shape;
  if (s.length !== 4)
    throw new Error(`${what} must be rank 4 (NHWC); received shape [${s.join(', ')}]`);
  return s as Shape4;
}

/**
 * The input each filter last went through a FusedConv2D with, keyed by the filter's data.
 * tfjs builds FusedConv2D's gradient inside the fused op (a customGrad closure that
 * registerGradient cannot replace): it asks for the input gradient (dy, filter) and then
 * the filter gradient (x, dy) as two kernels. Knowing x at the first call lets it run as
 * the paired ATen call, whose filter gradient the addon keeps for the second (the decoder's
 * convolutions are fused ones: 13 % of a training step went to their lone gradients). The
 * input gradient does not depend on x's values, so a stale or shared entry costs at most a
 * filter gradient computed for nothing: the addon hands it out only for the same x and dy.
 */
const fusedConvInputs = new WeakMap<object, TensorInfo>();

function nhwcOnly(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(
      `${kernel}: dataFormat ${dataFormat} is not supported by the torch backend (NHWC only)`,
    );
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The addon's conv/pool attributes from a tfjs Conv2DInfo. */
function convAttrs(info: backend_util.Conv2DInfo): NativeAttrs {
  return {
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    padTop: info.padInfo.top,
    padBottom: info.padInfo.bottom,
    padLeft: info.padInfo.left,
    padRight: info.padInfo.right,
  };
}

function poolKernel(name: string, op: 'maxPool' | 'avgPool'): TorchKernel {
  return {
    name,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', name);
      const a = attrsAs<tfc.MaxPoolAttrs>(attrs);
      const info = backend_util.computePool2DInfo(
        shape4(x, name),
        a.filterSize,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      return backend.exec1(op, [x], convAttrs(info));
    },
  };
}

function resizeKernel(name: string, op: 'resizeBilinear' | 'resizeNearest'): TorchKernel {
  return {
    name,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.ResizeBilinearAttrs>(attrs);
      return backend.exec1(op, [input(inputs, 'images', name)], {
        newH: a.size[0],
        newW: a.size[1],
        alignCorners: Boolean(a.alignCorners),
        halfPixelCenters: Boolean(a.halfPixelCenters),
      });
    },
  };
}

function resizeGradKernel(
  name: string,
  op: 'resizeBilinearGrad' | 'resizeNearestGrad',
): TorchKernel {
  return {
    name,
    run: (inputs, backend, attrs) =>
      backend.exec1(op, [input(inputs, 'images', name), input(inputs, 'dy', name)], {
        alignCorners: Boolean(attrsAs<tfc.ResizeBilinearGradAttrs>(attrs).alignCorners),
      }),
  };
}

export const NN_KERNELS: readonly TorchKernel[] = [
  {
    name: ADAM_UPDATE,
    run: (inputs, backend, attrs) => {
      const a =
        attrsAs<
          Record<'lr' | 'beta1' | 'beta2' | 'epsilon' | 'correction1' | 'correction2', number>
        >(attrs);
      return backend.exec(
        'adamUpdate',
        ['x', 'g', 'm', 'v'].map((k) => input(inputs, k, ADAM_UPDATE)),
        {
          lr: a.lr,
          beta1: a.beta1,
          beta2: a.beta2,
          epsilon: a.epsilon,
          correction1: a.correction1,
          correction2: a.correction2,
        },
      );
    },
  },
  {
    name: RELU_GRAD,
    run: (inputs, backend) =>
      backend.exec1(
        'reluGrad',
        [input(inputs, 'dy', RELU_GRAD), input(inputs, 'x', RELU_GRAD)],
        {},
      ),
  },
  {
    name: tfc.Conv2D,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'Conv2D');
      const filter = input(inputs, 'filter', 'Conv2D');
      const a = attrsAs<tfc.Conv2DAttrs>(attrs);
      nhwcOnly(a.dataFormat, 'Conv2D');
      const info = backend_util.computeConv2DInfo(
        shape4(x, 'Conv2D x'),
        shape4(filter, 'Conv2D filter'),
        a.strides,
        a.dilations,
        a.pad,
        a.dimRoundingMode,
      );
      return backend.exec1('conv2d', [x, filter], convAttrs(info));
    },
  },
  {
    name: tfc.FusedConv2D,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'FusedConv2D');
      const filter = input(inputs, 'filter', 'FusedConv2D');
      const a = attrsAs<tfc.FusedConv2DAttrs>(attrs);
      nhwcOnly(a.dataFormat, 'FusedConv2D');
      const info = backend_util.computeConv2DInfo(
        shape4(x, 'FusedConv2D x'),
        shape4(filter, 'FusedConv2D filter'),
        a.strides,
        a.dilations,
        a.pad,
        a.dimRoundingMode,
      );
      const extra = [inputs.bias, inputs.preluActivationWeights].filter(
        (t): t is TensorInfo => t != null,
      );
      fusedConvInputs.set(filter.dataId, x);
      return backend.exec1('fusedConv2d', [x, filter, ...extra], {
        ...convAttrs(info),
        hasBias: inputs.bias != null,
        hasPrelu: inputs.preluActivationWeights != null,
        activation: a.activation ?? 'linear',
        leakyreluAlpha: a.leakyreluAlpha ?? 0.2,
      });
    },
  },
  {
    name: tfc.Conv2DBackpropInput,
    run: (inputs, backend, attrs) => {
      const dy = input(inputs, 'dy', 'Conv2DBackpropInput');
      const filter = input(inputs, 'filter', 'Conv2DBackpropInput');
      const a = attrsAs<tfc.Conv2DBackpropInputAttrs>(attrs);
      nhwcOnly(a.dataFormat, 'Conv2DBackpropInput');
      const inShape = shape4(a.inputShape, 'Conv2DBackpropInput inputShape');
      const info = backend_util.computeConv2DInfo(
        inShape,
        shape4(filter, 'Conv2DBackpropInput filter'),
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      const x = fusedConvInputs.get(filter.dataId);
      if (x !== undefined && backend.refCount(x.dataId) > 0 && sameShape(x.shape, inShape)) {
        return backend.exec1('conv2dBackpropPair', [dy, filter, x], convAttrs(info));
      }
      return backend.exec1('conv2dBackpropInput', [dy, filter], { ...convAttrs(info), inShape });
    },
  },
  {
    // Conv2D's input gradient with its filter gradient in the same ATen call; the addon
    // keeps the latter for the Conv2DBackpropFilter call that follows (gradients.ts).
    name: CONV2D_GRAD_PAIR,
    run: (inputs, backend, attrs) => {
      const dy = input(inputs, 'dy', CONV2D_GRAD_PAIR);
      const filter = input(inputs, 'filter', CONV2D_GRAD_PAIR);
      const x = input(inputs, 'x', CONV2D_GRAD_PAIR);
      const a = attrsAs<tfc.Conv2DBackpropInputAttrs>(attrs);
      nhwcOnly(a.dataFormat, CONV2D_GRAD_PAIR);
      const info = backend_util.computeConv2DInfo(
        shape4(x, `${CONV2D_GRAD_PAIR} x`),
        shape4(filter, `${CONV2D_GRAD_PAIR} filter`),
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      return backend.exec1('conv2dBackpropPair', [dy, filter, x], convAttrs(info));
    },
  },
  {
    name: tfc.Conv2DBackpropFilter,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'Conv2DBackpropFilter');
      const dy = input(inputs, 'dy', 'Conv2DBackpropFilter');
      const a = attrsAs<tfc.Conv2DBackpropFilterAttrs>(attrs);
      nhwcOnly(a.dataFormat, 'Conv2DBackpropFilter');
      const filterShape = shape4(a.filterShape, 'Conv2DBackpropFilter filterShape');
      const info = backend_util.computeConv2DInfo(
        shape4(x, 'Conv2DBackpropFilter x'),
        filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      return backend.exec1('conv2dBackpropFilter', [x, dy], { ...convAttrs(info), filterShape });
    },
  },
  poolKernel(tfc.MaxPool, 'maxPool'),
  poolKernel(tfc.AvgPool, 'avgPool'),
  {
    name: tfc.MaxPoolGrad,
    run: (inputs, backend, attrs) => {
      const dy = input(inputs, 'dy', 'MaxPoolGrad');
      const x = input(inputs, 'input', 'MaxPoolGrad');
      const a = attrsAs<tfc.MaxPoolGradAttrs>(attrs);
      const info = backend_util.computePool2DInfo(
        shape4(x, 'MaxPoolGrad input'),
        a.filterSize,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      return backend.exec1('maxPoolGrad', [dy, x], convAttrs(info));
    },
  },
  {
    name: tfc.AvgPoolGrad,
    run: (inputs, backend, attrs) => {
      const dy = input(inputs, 'dy', 'AvgPoolGrad');
      const x = input(inputs, 'input', 'AvgPoolGrad');
      const a = attrsAs<tfc.AvgPoolGradAttrs>(attrs);
      const info = backend_util.computePool2DInfo(
        shape4(x, 'AvgPoolGrad input'),
        a.filterSize,
        a.strides,
        1,
        a.pad,
      );
      return backend.exec1('avgPoolGrad', [dy, x], convAttrs(info));
    },
  },
  {
    name: tfc.FusedBatchNorm,
    run: (inputs, backend, attrs) => {
      const list = [
        input(inputs, 'x', 'FusedBatchNorm'),
        input(inputs, 'mean', 'FusedBatchNorm'),
        input(inputs, 'variance', 'FusedBatchNorm'),
      ];
      if (inputs.offset != null) list.push(inputs.offset);
      if (inputs.scale != null) list.push(inputs.scale);
      return backend.exec1('batchNorm', list, {
        hasOffset: inputs.offset != null,
        hasScale: inputs.scale != null,
        varianceEpsilon: attrsAs<tfc.FusedBatchNormAttrs>(attrs).varianceEpsilon ?? 0.001,
      });
    },
  },
  resizeKernel(tfc.ResizeBilinear, 'resizeBilinear'),
  resizeKernel(tfc.ResizeNearestNeighbor, 'resizeNearest'),
  resizeGradKernel(tfc.ResizeBilinearGrad, 'resizeBilinearGrad'),
  resizeGradKernel(tfc.ResizeNearestNeighborGrad, 'resizeNearestGrad'),
  {
    name: tfc.FlipLeftRight,
    run: (inputs, backend) =>
      backend.exec1('reverse', [input(inputs, 'image', 'FlipLeftRight')], { dims: [2] }),
  },
  {
    name: tfc.BatchMatMul,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.BatchMatMulAttrs>(attrs);
      return backend.exec1(
        'batchMatMul',
        [input(inputs, 'a', 'BatchMatMul'), input(inputs, 'b', 'BatchMatMul')],
        {
          transposeA: Boolean(a.transposeA),
          transposeB: Boolean(a.transposeB),
        },
      );
    },
  },
  {
    name: tfc._FusedMatMul,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc._FusedMatMulAttrs>(attrs);
      const extra = [inputs.bias, inputs.preluActivationWeights].filter(
        (t): t is TensorInfo => t != null,
      );
      return backend.exec1(
        'fusedMatMul',
        [input(inputs, 'a', '_FusedMatMul'), input(inputs, 'b', '_FusedMatMul'), ...extra],
        {
          transposeA: Boolean(a.transposeA),
          transposeB: Boolean(a.transposeB),
          hasBias: inputs.bias != null,
          hasPrelu: inputs.preluActivationWeights != null,
          activation: a.activation ?? 'linear',
          leakyreluAlpha: a.leakyreluAlpha ?? 0.2,
        },
      );
    },
  },
];
