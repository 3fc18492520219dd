/**
 * dentseg's wasm backend: tfjs-backend-wasm built with threads in Node (module.ts), plus the
 * kernels it lacks for training, plus a check on every kernel that XNNPACK did not fail
 * silently (xnn-status.ts). Kernel table: each entry is a tfjs KernelConfig; entries that
 * tfjs already provides are replaced only when the entry says so (`override`).
 */
import {
  getKernel,
  registerBackend,
  registerKernel,
  removeBackend,
  findBackendFactory,
  setBackend,
  unregisterKernel,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInput, tfjsConv2DBackpropInput } from './conv2d-backprop-input.js';
import { makeTile, tfjsTile } from './tile.js';
import { createWasmBackend, type CreateOptions, type WasmBuild } from './module.js';
import { checkAllWasmKernels, printHooks } from './xnn-status.js';

interface WasmKernelEntry {
  /** Built at registration, when tfjs' kernel of the same name can still be captured. */
  readonly config: () => KernelConfig;
  /** Replace tfjs' own kernel of the same name (otherwise only fill a gap). */
  readonly override: boolean;
}

/** dentseg's wasm kernels, in registration order. */
export const WASM_KERNELS: readonly WasmKernelEntry[] = [
  { config: () => conv2DBackpropFilterConfig, override: false },
  {
    config: () => makeConv2DBackpropInput(tfjsConv2DBackpropInput()),
    override: true,
  },
  { config: () => makeTile(tfjsTile()), override: true },
];

let registered = false;

/** Register dentseg's wasm kernels once per process (idempotent). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const entry of WASM_KERNELS) {
    const config = entry.config();
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing && !entry.override) continue;
    if (existing) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  checkAllWasmKernels();
}

let build: WasmBuild | undefined;

/**
 * Build the wasm backend with `threads` threads (falls back to 1, saying why), make it the
 * active tfjs backend and register dentseg's kernels. Returns what it really got.
 */
export async function startWasm(
  threads: number,
  options: CreateOptions = {},
): Promise<{ threads: number; note?: string }> {
  build ??= await createWasmBackend(threads, printHooks, options);
  const instance = build.backend;
  if (findBackendFactory('wasm')) removeBackend('wasm');
  registerBackend('wasm', () => instance, 2);
  if (!(await setBackend('wasm'))) throw new Error('setBackend(wasm) failed');
  registerWasmKernels();
  return build.note === undefined
    ? { threads: build.threads }
    : { threads: build.threads, note: build.note };
}

/**
 * pthread workers the wasm module is running right now (XNNPACK's pool uses threads − 1 of
 * them besides the calling thread); undefined for the single-threaded build.
 */
export function wasmRunningWorkers(): number | undefined {
  return build?.module.PThread?.runningWorkers.length;
}
