/**
 * XNNPACK failures must never pass silently. tfjs-backend-wasm only *prints* when an
 * XNNPACK operator cannot be created or set up ("XNN status for xnn_create_... is not
 * successful. Got status 6") and carries on with whatever the output buffer held. We catch
 * those lines through the emscripten print hooks and make every wasm kernel check for them
 * when it returns: status 6 (xnn_status_out_of_memory) and a failed wasm malloc become
 * E_ENGINE_OOM, any other status E_ENGINE_FAILED.
 */
import {
  getKernelsForBackend,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { DentsegError } from '../../errors.js';
import type { PrintHooks } from './module.js';

const XNN_STATUS = /XNN status for (\S+) is not successful\. Got status (\d+)/;
/** xnn_status_out_of_memory in xnnpack.h. */
export const XNN_STATUS_OUT_OF_MEMORY = 6;

export interface XnnFailure {
  readonly call: string;
  readonly status: number;
}
let pending: XnnFailure | undefined;

function watch(line: string, forward: (line: string) => void): void {
  const m = XNN_STATUS.exec(line);
  if (m) {
    // Keep the first failure of a kernel call: later ones are consequences.
    pending ??= { call: m[1] ?? '?', status: Number(m[2]) };
    return;
  }
  forward(line);
}

/** Print hooks for the emscripten module: XNN status lines are recorded, not printed. */
export const printHooks: PrintHooks = {
  print: (line) => watch(line, (l) => process.stdout.write(`${l}\n`)),
  printErr: (line) => watch(line, (l) => process.stderr.write(`${l}\n`)),
};

const OOM_HINT = 'use a smaller batch, input size or model width, or a native backend';

export function xnnError(kernel: string, shapes: string, failure: XnnFailure): DentsegError {
  if (failure.status === XNN_STATUS_OUT_OF_MEMORY) {
    return new DentsegError(
      'E_ENGINE_OOM',
      `wasm ran out of memory in ${kernel} (${failure.call}, XNNPACK status 6) for inputs ${shapes}`,
      { hint: OOM_HINT },
    );
  }
  return new DentsegError(
    'E_ENGINE_FAILED',
    `wasm kernel ${kernel} failed (${failure.call}, XNNPACK status ${failure.status}) for inputs ${shapes}`,
    { hint: 'report it with the shapes above; another backend may work (--backend)' },
  );
}

export function describeInputs(inputs: object): string {
  return Object.entries(inputs as Record<string, TensorInfo | undefined>)
    .map(([k, t]) => `${k}[${t?.shape.join('×') ?? ''}]`)
    .join(', ');
}

let depth = 0;

/**
 * The XNNPACK failure printed since the current top-level kernel started (or since the last
 * call), cleared. Composite kernels use it to retry a step that ran out of memory.
 */
export function takeXnnFailure(): XnnFailure | undefined {
  const failure = pending;
  pending = undefined;
  return failure;
}

/**
 * Run `fn`, throwing instead of returning when XNNPACK or malloc failed during it. Only the
 * outermost kernel call checks: composite kernels release their own intermediates.
 */
export function checked(kernel: string, fn: KernelFunc): KernelFunc {
  return (args) => {
    if (depth === 0) pending = undefined;
    depth++;
    let out: ReturnType<KernelFunc>;
    try {
      out = fn(args);
    } finally {
      depth--;
    }
    if (depth === 0 && pending) {
      const failure = pending;
      pending = undefined;
      const backend = args.backend as { disposeData(id: object): void };
      for (const t of Array.isArray(out) ? out : [out]) backend.disposeData(t.dataId);
      throw xnnError(kernel, describeInputs(args.inputs), failure);
    }
    return out;
  };
}

let wrapped = false;

/** Wrap every kernel registered for wasm (tfjs' and dentseg's) with `checked`, once. */
export function checkAllWasmKernels(): void {
  if (wrapped) return;
  wrapped = true;
  for (const config of getKernelsForBackend('wasm')) {
    const replacement: KernelConfig = {
      ...config,
      kernelFunc: checked(config.kernelName, config.kernelFunc),
    };
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel(replacement);
  }
}

/** For tests: pretend XNNPACK just printed a failure. */
export function simulateXnnFailureForTest(status: number): void {
  printHooks.printErr(
    `XNN status for xnn_create_convolution2d_nhwc_f32 is not successful. Got status ${status}. Use -c dbg to see XNN logs.`,
  );
}
