/**
 * Helpers for composing new wasm kernels out of the kernels tfjs-backend-wasm already has
 * (Conv2D, Transpose, Slice, PadV2, BatchMatMul, ...). They call the registered kernel
 * functions directly, below the op layer, so intermediates never enter the tfjs engine's
 * bookkeeping and must be released with `release`.
 */
import {
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The wasm kernel function registered under `name` (captured before any override). */
export function wasmKernel(name: string): KernelFunc {
  const config = getKernel(name, 'wasm');
  if (!config) throw new Error(`tfjs-backend-wasm has no ${name} kernel to build on`);
  return config.kernelFunc;
}

/** Run a wasm kernel by name on tensor infos; the caller owns the result. */
export function callKernel(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, TensorInfo> | TensorInfo[],
  attrs: object = {},
): TensorInfo {
  return wasmKernel(name)({
    inputs: inputs as Record<string, TensorInfo>,
    backend,
    attrs: attrs as NamedAttrMap,
  }) as TensorInfo;
}

/** Free intermediates created by `callKernel` (not the kernel's inputs or output). */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export const transpose = (b: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo =>
  callKernel(b, 'Transpose', { x }, { perm });

export const slice = (b: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo =>
  callKernel(b, 'Slice', { x }, { begin, size });
