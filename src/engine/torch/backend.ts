/**
 * The `torch` tfjs KernelBackend: tensor storage on libtorch. Each tfjs dataId maps to a
 * native tensor handle with a reference count (tfjs shares a dataId between a tensor and
 * its reshapes); kernels (kernels_*.ts) call `exec`, which runs one ATen op and wraps the
 * results as new TensorInfos. Everything is synchronous: `read` resolves at once because
 * the values were computed when the kernel ran.
 */
import {
  DataStorage,
  KernelBackend,
  engine,
  type BackendTimingInfo,
  type BackendValues,
  type DataId,
  type DataType,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { DentsegError } from '../../errors.js';
import type { NativeAttrs, NativeDType, TorchNative } from './native.js';

interface Entry {
  /** Native tensor handle. */
  handle: number;
  refCount: number;
  dtype: NativeDType;
}

function nativeDType(dtype: DataType): NativeDType {
  if (dtype === 'float32' || dtype === 'int32' || dtype === 'bool') return dtype;
  throw new DentsegError('E_KERNEL_MISSING', `the torch backend does not support ${dtype} tensors`);
}

function typed(values: BackendValues, dtype: NativeDType): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32')
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === 'int32')
    return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
}

/** tfjs KernelBackend over libtorch; create through `registerTorchBackend`. */
export class TorchBackend extends KernelBackend {
  readonly #native: TorchNative;
  readonly #data: DataStorage<Entry>;

  constructor(native: TorchNative) {
    super();
    this.#native = native;
    this.#data = new DataStorage<Entry>(this, engine());
  }

  /** Intra-op threads libtorch uses (at::get_num_threads). */
  get threads(): number {
    return this.#native.getThreads();
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(
    dataId: DataId,
    values: BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    const nd = nativeDType(dtype);
    const handle = this.#native.write(typed(values, nd), shape, nd);
    this.#data.set(dataId, { handle, refCount, dtype: nd });
  }

  override readSync(dataId: DataId): BackendValues {
    return this.#native.read(this.#data.get(dataId).handle);
  }

  override read(dataId: DataId): Promise<BackendValues> {
    return Promise.resolve(this.readSync(dataId));
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.#data.has(dataId)) return true;
    const entry = this.#data.get(dataId);
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    this.#native.free(entry.handle);
    this.#data.delete(dataId);
    return true;
  }

  override refCount(dataId: DataId): number {
    return this.#data.has(dataId) ? this.#data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.#data.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.#data.numDataIds();
  }

  override memory(): { unreliable: boolean; reasons?: string[]; numBytesInTorch: number } {
    return { unreliable: false, numBytesInTorch: this.#native.stats().bytes };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override time(f: () => void): Promise<BackendTimingInfo> {
    const start = performance.now();
    f();
    return Promise.resolve({ kernelMs: performance.now() - start });
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    // Tensors are freed one by one through disposeData; nothing global to release.
  }

  /** Runs native op `op` on `inputs` (viewed in their tfjs shapes) and wraps the results. */
  exec(op: string, inputs: readonly TensorInfo[], attrs: NativeAttrs = {}): TensorInfo[] {
    const ids = inputs.map((t) => this.#data.get(t.dataId).handle);
    const results = this.#native.exec(
      op,
      ids,
      inputs.map((t) => t.shape),
      attrs,
    );
    return results.map((r) => {
      const dataId = {};
      this.#data.set(dataId, { handle: r.id, refCount: 1, dtype: r.dtype });
      return { dataId, shape: r.shape, dtype: r.dtype };
    });
  }

  /** `exec` for single-output ops. */
  exec1(op: string, inputs: readonly TensorInfo[], attrs: NativeAttrs = {}): TensorInfo {
    const out = this.exec(op, inputs, attrs);
    if (out.length !== 1 || !out[0])
      throw new Error(`torch op ${op} returned ${out.length} outputs, expected 1`);
    return out[0];
  }

  /** Same data under another shape (reshape, identity): shares the dataId, like tfjs-cpu. */
  share(x: TensorInfo, shape: number[]): TensorInfo {
    this.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype: x.dtype };
  }
}
