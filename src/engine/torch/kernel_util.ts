/**
 * The small vocabulary kernels are written in: a table entry type and typed access to
 * tfjs' untyped kernel arguments, so that each kernel is one short mapping.
 */
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { TorchBackend } from './backend.js';

/** One kernel: tfjs kernel name -> function of (inputs, backend, attrs). */
export interface TorchKernel {
  readonly name: string;
  readonly run: (
    inputs: NamedTensorInfoMap,
    backend: TorchBackend,
    attrs: NamedAttrMap,
  ) => TensorInfo | TensorInfo[];
}

/** The named input, or an error naming the kernel and input when tfjs did not pass it. */
export function input(inputs: NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: input ${name} is missing`);
  return t;
}

/** Inputs of list kernels (Concat, Pack, AddN), which tfjs passes as an array-like map. */
export function inputList(inputs: NamedTensorInfoMap): TensorInfo[] {
  return Object.values(inputs).filter((t): t is TensorInfo => t !== undefined && t !== null);
}

/** Typed view of a kernel's attribute map (the shapes are tfjs' own *Attrs interfaces). */
export function attrsAs<T>(attrs: NamedAttrMap): T {
  return attrs as unknown as T;
}
