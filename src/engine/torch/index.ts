/**
 * The `torch` compute backend: registers the libtorch-backed KernelBackend and its
 * kernels with tfjs. Every kernel the cpu backend has but torch lacks is registered as a
 * stub that throws E_KERNEL_MISSING naming it, so a model never silently falls back.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tfc from '@tensorflow/tfjs-core';
import { DentsegError, isDentsegError } from '../../errors.js';
import { TorchBackend } from './backend.js';
import { MATH_KERNELS } from './kernels_math.js';
import { NN_KERNELS } from './kernels_nn.js';
import type { TorchKernel } from './kernel_util.js';
import { loadTorchNative, type ConvLayoutMode } from './native.js';

export { TorchBackend } from './backend.js';
export { torchAddonBuilt, ADDON_PATH, type ConvLayoutMode } from './native.js';

/** Name under which the backend registers with tfjs. */
export const TORCH_BACKEND = 'torch';

/** All kernels the torch backend implements. */
export const TORCH_KERNELS: readonly TorchKernel[] = [...MATH_KERNELS, ...NN_KERNELS];

export interface TorchOptions {
  /** libtorch intra-op threads (at::set_num_threads), ≥ 1. Default: all cores. */
  readonly threads: number;
  /** Convolution layout policy. Default: `DENTSEG_TORCH_CONV_LAYOUT`, else `auto`. */
  readonly convLayout?: ConvLayoutMode;
}

const CONV_LAYOUTS: readonly ConvLayoutMode[] = ['auto', 'nhwc', 'nchw'];

/** `DENTSEG_TORCH_CONV_LAYOUT` (auto | nhwc | nchw), validated; `auto` when unset. */
export function convLayoutFromEnv(): ConvLayoutMode {
  const env = process.env.DENTSEG_TORCH_CONV_LAYOUT;
  if (env === undefined || env === '') return 'auto';
  const mode = CONV_LAYOUTS.find((m) => m === env);
  if (mode === undefined) {
    throw new DentsegError(
      'E_USAGE',
      `DENTSEG_TORCH_CONV_LAYOUT must be one of ${CONV_LAYOUTS.join(', ')}; received "${env}"`,
      { hint: 'unset it to let dentseg choose per CPU and layer (auto)' },
    );
  }
  return mode;
}

let registered = false;

/** A native failure as a DentsegError naming the kernel and its input shapes. */
function kernelError(kernel: string, inputs: tfc.NamedTensorInfoMap, err: unknown): unknown {
  if (isDentsegError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const shapes = Object.entries(inputs)
    .filter(([, t]) => t != null)
    .map(([name, t]) => `${name} [${t?.shape.join(', ') ?? ''}]`)
    .join(', ');
  const oom = /can't allocate memory|not enough memory|bad_alloc/i.test(message);
  return new DentsegError(
    oom ? 'E_ENGINE_OOM' : 'E_ENGINE_FAILED',
    `${kernel} on the torch backend failed for ${shapes}: ${message}`,
    {
      cause: err,
      hint: oom ? 'use a smaller batch, input size or width' : 'try --backend wasm and report it',
    },
  );
}

/**
 * Loads the addon and registers the `torch` backend and its kernels (once). Throws a plain
 * Error saying why when the addon is not built or libtorch does not load. Returns the
 * thread count libtorch actually uses.
 */
export function registerTorchBackend(options: TorchOptions): number {
  const native = loadTorchNative();
  if (!Number.isInteger(options.threads) || options.threads < 1) {
    throw new DentsegError(
      'E_USAGE',
      `threads must be an integer ≥ 1; received ${options.threads}`,
    );
  }
  native.setThreads(options.threads);
  native.setConvLayout(options.convLayout ?? convLayoutFromEnv());
  if (registered) return native.getThreads();
  tfc.registerBackend(TORCH_BACKEND, () => new TorchBackend(native), 3);
  const have = new Set<string>();
  for (const k of TORCH_KERNELS) {
    have.add(k.name);
    tfc.registerKernel({
      kernelName: k.name,
      backendName: TORCH_BACKEND,
      kernelFunc: ({ inputs, backend, attrs }) => {
        if (!(backend instanceof TorchBackend)) throw new Error(`${k.name}: not a torch backend`);
        try {
          return k.run(inputs, backend, attrs ?? {});
        } catch (err) {
          throw kernelError(k.name, inputs, err);
        }
      },
    });
  }
  for (const cpuKernel of tfc.getKernelsForBackend('cpu')) {
    const name = cpuKernel.kernelName;
    if (have.has(name)) continue;
    tfc.registerKernel({
      kernelName: name,
      backendName: TORCH_BACKEND,
      kernelFunc: () => {
        throw new DentsegError(
          'E_KERNEL_MISSING',
          `kernel ${name} is not implemented by the torch backend`,
          {
            hint: 'use --backend wasm or cpu for this operation, or add the kernel in src/engine/torch',
          },
        );
      },
    });
  }
  registered = true;
  return native.getThreads();
}
