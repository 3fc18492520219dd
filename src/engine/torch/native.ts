/**
 * Loads the libtorch addon (native/, built by scripts/build-native.mjs) and describes its
 * API. Kept apart from the backend so that "is the addon there?" can be asked without
 * touching tfjs, and so that the rest of the code sees a typed interface, not `require`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** dtypes the addon stores (tfjs' `string` and `complex64` are not supported). */
export type NativeDType = 'float32' | 'int32' | 'bool';

/** One op result: a new native tensor handle with its shape and dtype. */
export interface NativeResult {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: NativeDType;
}

/** Attribute values the addon reads (numbers, lists of numbers, strings, booleans). */
export type NativeAttrs = Readonly<Record<string, number | readonly number[] | string | boolean>>;

/** The functions exported by `dentseg_torch.node` (native/src/addon.cc). */
export interface TorchNative {
  /** Copies a typed array into a new tensor; returns its handle. */
  write(
    values: Float32Array | Int32Array | Uint8Array,
    shape: readonly number[],
    dtype: NativeDType,
  ): number;
  /** Copies a tensor out (Float32Array, Int32Array, or Uint8Array for bool). */
  read(id: number): Float32Array | Int32Array | Uint8Array;
  free(id: number): void;
  /** Runs op `name` on stored tensors viewed in `shapes`; synchronous, on the JS thread. */
  exec(
    name: string,
    ids: readonly number[],
    shapes: readonly (readonly number[])[],
    attrs: NativeAttrs,
  ): NativeResult[];
  setThreads(n: number): void;
  getThreads(): number;
  stats(): { tensors: number; bytes: number; cachedBytes: number };
  ops(): string[];
  version(): { torch: string; mkldnn: boolean; parallel: string };
  /** Sets the convolutions' layout policy (process-wide); throws on any other value. */
  setConvLayout(mode: ConvLayoutMode): void;
  /** The policy in force and the CPU class `auto` decides by. */
  convLayout(): { mode: ConvLayoutMode; cpu: 'avx512' | 'avx2' };
  /**
   * The layout one convolution pass would run in (batch n, cin → cout channels, h × w input);
   * `bothGrads` is Conv2D's paired input and filter gradient (one ATen call).
   */
  convPlan(
    pass: 'forward' | 'inputGrad' | 'weightGrad' | 'bothGrads',
    n: number,
    cin: number,
    cout: number,
    h: number,
    w: number,
  ): 'nchw' | 'nhwc';
}

/**
 * Memory layout of the convolutions (native/src/conv_layout.cc): `auto` picks channels-last
 * or contiguous NCHW per pass by CPU (AVX-512 or AVX2) and layer shape, as measured;
 * `nhwc` / `nchw` force one. Set by `DENTSEG_TORCH_CONV_LAYOUT`.
 */
export type ConvLayoutMode = 'auto' | 'nhwc' | 'nchw';

/** Where the build puts the addon, relative to this file in both src/ and dist/. */
export const ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/dentseg_torch.node', import.meta.url),
);

let cached: TorchNative | undefined;

/**
 * Loads the addon once. Throws an Error whose message says why (not built, or libtorch's
 * shared libraries missing) and how to fix it.
 */
export function loadTorchNative(): TorchNative {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) {
    throw new Error(
      'the libtorch addon is not built (apt-get install libtorch-dev, or set LIBTORCH to a ' +
        'LibTorch folder; then npm run build:native)',
    );
  }
  // libtorch's OpenMP threads spin at every barrier by default; on a shared machine that
  // burns the cores other jobs (and our own other thread) need: measured here under load,
  // a 256² training step took 2.3 s of CPU passive vs 6-7 s spinning, 3-4× faster in wall
  // time. libgomp reads this when it loads (with the addon), so set it before, unless the
  // user chose a policy.
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.OMP_WAIT_POLICY = 'PASSIVE';
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(ADDON_PATH) as TorchNative;
  } catch (err) {
    throw new Error(
      `the libtorch addon failed to load (${err instanceof Error ? err.message : String(err)}); ` +
        'reinstall libtorch-dev or rebuild with npm run build:native',
      { cause: err },
    );
  }
  return cached;
}

/** True when the addon file exists (cheap; does not load libtorch). */
export function torchAddonBuilt(): boolean {
  return existsSync(ADDON_PATH);
}
