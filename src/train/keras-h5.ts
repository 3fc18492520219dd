/**
 * Read a Keras `save_weights` HDF5 file (as `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`)
 * with h5wasm: root attribute `layer_names`, per layer group an attribute `weight_names`
 * and the datasets at `/<layer>/<weight_name>` (e.g. `/block1_conv1/block1_conv1/kernel:0`).
 */
import { existsSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { DentsegError } from '../errors.js';
import type { KerasArray, KerasWeights } from '../model/keras.js';

function names(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return list.map((v: unknown) =>
    v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v),
  );
}

/** Every layer's weights from a Keras HDF5 weights file (float32). */
export async function readKerasH5(file: string): Promise<KerasWeights> {
  if (!existsSync(file)) throw new DentsegError('E_FILE_NOT_FOUND', 'no such file', { file });
  await h5wasm.ready;
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
