/**
 * A faster Conv2DBackpropInput for tfjs-backend-wasm. tfjs' own kernel is a scalar C++
 * loop; for stride 1 the input gradient is an ordinary convolution of dy with the filter
 * flipped in space and with its channel axes swapped, which XNNPACK runs at full speed:
 *   dx[n, y, x, ci] = Σ_{i, j, co} dy[n, y + i − (kh−1−top), x + j − (kw−1−left), co]
 *                                 · W[kh−1−i, kw−1−j, ci, co]
 * Strided (transposed-convolution) shapes keep tfjs' kernel.
 */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, release, transpose, wasmKernel } from './kernel-call.js';

type Shape4 = [number, number, number, number];

/** 'auto' picks per shape; the others force a route where it applies (benchmarks). */
export type BackpropInputRoute = 'auto' | 'tfjs' | 'conv';
let route: BackpropInputRoute = 'auto';

/** Force a route for Conv2DBackpropInput on wasm (benchmarks and tests). */
export function setBackpropInputRoute(value: BackpropInputRoute): void {
  route = value;
}

/** Whether the convolution route applies (and pays) for this shape. */
export function useConvRoute(info: backend_util.Conv2DInfo): boolean {
  if (route === 'tfjs') return false;
  return (
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.dataFormat === 'channelsLast'
  );
}

/** Build the kernel around tfjs' own one (used for the shapes the route does not take). */
export function makeConv2DBackpropInput(fallback: KernelFunc): KernelConfig {
  const kernelFunc = (args: {
    inputs: { dy: TensorInfo; filter: TensorInfo };
    backend: BackendWasm;
    attrs: Conv2DBackpropInputAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
    const format = backend_util.convertConv2DDataFormat(dataFormat);
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as Shape4,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      format,
    );
    if (!useConvRoute(info)) return fallback(args as never) as TensorInfo;
    const { inHeight, inWidth, outHeight, outWidth, filterHeight: kh, filterWidth: kw } = info;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = inHeight - outHeight + kh - 1 - top;
    const right = inWidth - outWidth + kw - 1 - left;
    const temps: TensorInfo[] = [];
    try {
      const flipped = callKernel(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
      temps.push(flipped);
      const swapped = transpose(backend, flipped, [0, 1, 3, 2]);
      temps.push(swapped);
      return callKernel(
        backend,
        'Conv2D',
        { x: dy, filter: swapped },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dilations: [1, 1],
          dataFormat: 'NHWC',
        },
      );
    } finally {
      release(backend, ...temps);
    }
  };
  return {
    kernelName: Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** The tfjs kernel to fall back to, captured before dentseg's replaces it. */
export function tfjsConv2DBackpropInput(): KernelFunc {
  return wasmKernel(Conv2DBackpropInput);
}
