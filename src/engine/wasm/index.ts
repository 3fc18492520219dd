/**
 * Kernels that tfjs-backend-wasm lacks for training, registered under the `wasm` backend.
 * Table-driven: each entry is a tfjs KernelConfig; entries that tfjs already provides are
 * replaced only when the entry says so (`override`), keeping the original reachable.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';

interface WasmKernelEntry {
  readonly config: KernelConfig;
  /** Replace tfjs' own kernel of the same name (otherwise only fill a gap). */
  readonly override: boolean;
}

/** dentseg's wasm kernels, in registration order. */
export const WASM_KERNELS: readonly WasmKernelEntry[] = [
  { config: conv2DBackpropFilterConfig, override: false },
];

let registered = false;

/** Register dentseg's wasm kernels once per process (idempotent). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const { config, override } of WASM_KERNELS) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing && !override) continue;
    if (existing) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
}
