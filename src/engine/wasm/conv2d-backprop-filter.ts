/**
 * Conv2DBackpropFilter for tfjs-backend-wasm, which lacks it (training any conv net fails
 * at the first backward pass). The filter gradient is itself a convolution once batch and
 * channel axes are swapped: x becomes a batch of Cin single images [Cin, H, W, N], dy
 * becomes the "filter" [Ho, Wo, N, Cout] dilated by the forward stride, and the output
 * [Cin, kh, kw, Cout] is transposed to the filter layout [kh, kw, Cin, Cout]. All the
 * arithmetic runs in XNNPACK's convolution.
 *
 * The sum runs over N·Ho·Wo, which XNNPACK treats as the kernel size, so dy is packed as
 * the weights of a huge kernel. When XNNPACK runs out of memory for that (large images on
 * the 4 GiB wasm heap), dy's rows are split into bands, halving until the convolutions fit,
 * and the partial gradients are added: slower, but a result instead of E_ENGINE_OOM.
 * (Banding by default does not pay: measured 1–5× slower at 256², batch 2.)
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
import {
  describeInputs,
  takeXnnFailure,
  xnnError,
  XNN_STATUS_OUT_OF_MEMORY,
} from './xnn-status.js';

type Shape4 = [number, number, number, number];

let lastBands = 0;
/** Bands the last filter gradient was computed in (1 = whole; more after running out of memory). */
export function lastFilterGradBands(): number {
  return lastBands;
}

/**
 * Partial filter gradient from dy rows [r0, r1): the swapped-axes convolution of the x rows
 * those dy rows see. Returns [Cin, kh, kw, Cout].
 */
function band(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  r0: number,
  r1: number,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outWidth, outChannels } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // x rows seen by dy rows [r0, r1), in input coordinates (may reach into the padding).
  const xr0 = r0 * sh - top;
  const xr1 = (r1 - 1) * sh + kh - top;
  const rowTop = Math.max(0, -xr0);
  const rowBottom = Math.max(0, xr1 - inHeight);
  // Columns: padding after the input so that the output is exactly kw wide; negative means
  // the last columns never meet the filter.
  let right = kw + (outWidth - 1) * sw - inWidth - left;
  const cols = inWidth + Math.min(right, 0);
  right = Math.max(right, 0);
  const begin = Math.max(0, xr0);
  const rows = Math.min(inHeight, xr1) - begin;
  const temps: TensorInfo[] = [];
  try {
    let xc = x;
    if (begin !== 0 || rows !== inHeight || cols !== inWidth) {
      xc = slice(backend, x, [0, begin, 0, 0], [batchSize, rows, cols, inChannels]);
      temps.push(xc);
    }
    let dyc = dy;
    if (r0 !== 0 || r1 !== info.outHeight) {
      dyc = slice(backend, dy, [0, r0, 0, 0], [batchSize, r1 - r0, outWidth, outChannels]);
      temps.push(dyc);
    }
    const xT = transpose(backend, xc, [3, 1, 2, 0]);
    temps.push(xT);
    const dyT = transpose(backend, dyc, [1, 2, 0, 3]);
    temps.push(dyT);
    return callKernel(
      backend,
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [rowTop, rowBottom],
          [left, right],
          [0, 0],
        ],
        dilations: [sh, sw],
        dataFormat: 'NHWC',
      },
    );
  } finally {
    release(backend, ...temps);
  }
}

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
  let step = Math.max(1, info.outHeight);
  for (;;) {
    const partials: TensorInfo[] = [];
    let outOfMemory = false;
    try {
      for (let r = 0; r < info.outHeight && !outOfMemory; r += step) {
        partials.push(band(backend, x, dy, info, r, Math.min(info.outHeight, r + step)));
        const failure = takeXnnFailure();
        if (failure) {
          if (failure.status !== XNN_STATUS_OUT_OF_MEMORY || step === 1) {
            throw xnnError('Conv2DBackpropFilter', describeInputs(inputs), failure);
          }
          outOfMemory = true;
        }
      }
      if (!outOfMemory) {
        const total =
          partials.length === 1
            ? (partials[0] as TensorInfo)
            : callKernel(backend, 'AddN', [...partials]);
        if (partials.length > 1) partials.push(total);
        lastBands = partials.length > 1 ? partials.length - 1 : 1;
        return transpose(backend, total, [1, 2, 0, 3]);
      }
    } finally {
      release(backend, ...partials);
    }
    step = Math.ceil(step / 2);
  }
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
