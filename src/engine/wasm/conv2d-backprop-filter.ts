/**
 * Conv2DBackpropFilter for tfjs-backend-wasm, which lacks it (training any conv net fails
 * at the first backward pass). The filter gradient is itself a convolution once batch and
 * channel axes are swapped: x becomes a batch of Cin single images [Cin, H, W, N], dy
 * becomes the "filter" [Ho, Wo, N, Cout] dilated by the forward stride, and the output
 * [Cin, kh, kw, Cout] is transposed to the filter layout [kh, kw, Cin, Cout]. All the
 * arithmetic runs in XNNPACK's convolution.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, release, slice, transpose } from './kernel-call.js';

type Shape4 = [number, number, number, number];

/**
 * dW[i, j, ci, co] = Σ_{n, y, x} x[n, y·sh + i − padTop, x·sw + j − padLeft, ci] · dy[n, y, x, co]
 */
export function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') {
    throw new Error(`wasm Conv2DBackpropFilter supports NHWC only; received ${dataFormat}`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding after the input so that the swapped convolution yields exactly kh × kw; a
  // negative value means the last rows/columns never meet the filter: crop them.
  let bottom = kh + (outHeight - 1) * sh - inHeight - top;
  let right = kw + (outWidth - 1) * sw - inWidth - left;
  const temps: TensorInfo[] = [];
  let xc = x;
  if (bottom < 0 || right < 0) {
    xc = slice(
      backend,
      x,
      [0, 0, 0, 0],
      [batchSize, inHeight + Math.min(bottom, 0), inWidth + Math.min(right, 0), inChannels],
    );
    temps.push(xc);
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }
  try {
    const xT = transpose(backend, xc, [3, 1, 2, 0]);
    temps.push(xT);
    const dyT = transpose(backend, dy, [1, 2, 0, 3]);
    temps.push(dyT);
    const conv = callKernel(
      backend,
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dilations: [sh, sw],
        dataFormat: 'NHWC',
      },
    );
    temps.push(conv);
    return transpose(backend, conv, [1, 2, 0, 3]);
  } finally {
    release(backend, ...temps);
  }
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
