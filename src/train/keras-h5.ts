/**
 * Read a Keras `save_weights` HDF5 file (as `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`)
 * with h5wasm: root attribute `layer_names`, per layer group an attribute `weight_names`
 * and the datasets at `/<layer>/<weight_name>` (e.g. `/block1_conv1/block1_conv1/kernel:0`).
 */
import fs, { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import h5wasm from 'h5wasm/node';
import { DentsegError } from '../errors.js';
import type { KerasArray, KerasWeights } from '../model/keras.js';

function names(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return list.map((v: unknown) =>
    v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v),
  );
}

/** HDF5's file signature; at offset 0, or 512, 1024, 2048… after a user block. */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether `file` carries the HDF5 signature where the format allows it (first 64 KiB). */
async function hasHdf5Signature(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    for (let at = 0; at + 8 <= bytesRead; at = at === 0 ? 512 : at * 2) {
      if (head.subarray(at, at + 8).equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/**
 * Run `fn` with stderr swallowed: the HDF5 library prints its whole error stack
 * ("HDF5-DIAG: …", dozens of lines) before it fails, which says nothing to a user; the
 * DentsegError thrown instead names the file. h5wasm has no switch for it and writes with
 * `fs.writeSync(2, …)`, so that is what is muted, only while `fn` runs (synchronously).
 */
function quietly<T>(fn: () => T): T {
  const writeSync = fs.writeSync;
  // report every byte as written (a short count would make the C side retry)
  const muted = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fd !== 2) return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    if (typeof data === 'string') return Buffer.byteLength(data);
    const offset = typeof rest[0] === 'number' ? rest[0] : 0;
    return typeof rest[1] === 'number' ? rest[1] : data.byteLength - offset;
  }) as typeof fs.writeSync;
  fs.writeSync = muted;
  try {
    return fn();
  } finally {
    fs.writeSync = writeSync;
  }
}

/** Every layer's weights from a Keras HDF5 weights file (float32). */
export async function readKerasH5(file: string): Promise<KerasWeights> {
  if (!existsSync(file)) throw new DentsegError('E_FILE_NOT_FOUND', 'no such file', { file });
  if (!(await hasHdf5Signature(file))) {
    throw new DentsegError('E_HDF5_INVALID', 'not an HDF5 file (no HDF5 signature)', {
      file,
      hint: "give Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 (from the keras-team/keras GitHub releases)",
    });
  }
  await h5wasm.ready;
  return quietly(() => {
    try {
      return readOpenable(file);
    } catch (err) {
      if (err instanceof DentsegError) throw err;
      // a damaged or truncated file: h5wasm throws bare messages such as "name not defined!"
      throw new DentsegError(
        'E_HDF5_INVALID',
        `cannot be read as HDF5, damaged or truncated (h5wasm: ${err instanceof Error ? err.message : String(err)})`,
        { file, hint: 'download the weights file again', cause: err },
      );
    }
  });
}

function readOpenable(file: string): KerasWeights {
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new h5wasm.File(file, 'r');
  } catch (err) {
    throw new DentsegError('E_HDF5_INVALID', 'not an HDF5 file', { file, cause: err });
  }
  try {
    const root = f.get('/');
    const rootAttrs = root instanceof h5wasm.Group ? root.attrs : {};
    const layerNames = 'layer_names' in rootAttrs ? names(rootAttrs.layer_names?.value) : f.keys();
    const out = new Map<string, KerasArray[]>();
    for (const layer of layerNames) {
      const g = f.get(layer);
      if (!(g instanceof h5wasm.Group)) continue;
      const weightNames = 'weight_names' in g.attrs ? names(g.attrs.weight_names?.value) : [];
      const arrays: KerasArray[] = [];
      for (const w of weightNames) {
        const ds = g.get(w);
        if (!(ds instanceof h5wasm.Dataset)) {
          throw new DentsegError('E_HDF5_INVALID', `layer ${layer}: weight ${w} is not a dataset`, {
            file,
          });
        }
        const v = ds.value;
        if (!(v instanceof Float32Array || v instanceof Float64Array)) {
          throw new DentsegError(
            'E_HDF5_INVALID',
            `layer ${layer}: weight ${w} is not floating point`,
            { file },
          );
        }
        arrays.push({
          shape: ds.shape ?? [v.length],
          data: v instanceof Float32Array ? v : Float32Array.from(v),
        });
      }
      if (arrays.length) out.set(layer, arrays);
    }
    if (out.size === 0) {
      throw new DentsegError(
        'E_HDF5_INVALID',
        'no layer weights found (expected Keras save_weights layout)',
        {
          file,
          hint: "use Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        },
      );
    }
    return out;
  } finally {
    f.close();
  }
}
