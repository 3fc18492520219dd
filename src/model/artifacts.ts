/**
 * Model artifacts in memory ↔ the bytes of a model folder (`model.json` + `weights.bin`),
 * platform-free so that the browser and Node share it; file I/O lives in
 * src/model/folder.node.ts.
 */
import type { io } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { tf } from '../engine/tf.js';
import { DentsegError } from '../errors.js';
import { toFloat16 } from './float16.js';

type ModelArtifacts = io.ModelArtifacts;
type WeightsManifestEntry = io.WeightsManifestEntry;

/** One contiguous ArrayBuffer from tfjs' weight data (which may be a list of buffers). */
export function joinWeightData(data: io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return new tf.io.CompositeArrayBuffer(data).slice();
}

/** Capture a model's artifacts (topology + float32 weights) without touching any file. */
export async function modelArtifacts(model: LayersModel): Promise<ModelArtifacts> {
  let captured: ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!captured) throw new Error('tfjs did not hand over the model artifacts');
  return captured;
}

/**
 * Re-encode float32 weights as float16 (manifest: `dtype: 'float32'`, `quantization:
 * {dtype: 'float16'}`), halving the size; tfjs' loader decodes them back to float32.
 */
export function quantizeFloat16(
  specs: readonly WeightsManifestEntry[],
  data: ArrayBuffer,
): { specs: WeightsManifestEntry[]; data: ArrayBuffer } {
  const outSpecs: WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  let total = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a: number, b: number) => a * b, 1);
    if (spec.dtype !== 'float32' || spec.quantization) {
      throw new DentsegError(
        'E_MODEL_INVALID',
        `weight ${spec.name} is ${spec.dtype}${spec.quantization ? ' (quantised)' : ''}; only float32 weights can be saved as float16`,
      );
    }
    const half = toFloat16(new Float32Array(data.slice(offset, offset + n * 4)));
    offset += n * 4;
    parts.push(new Uint8Array(half.buffer));
    total += half.byteLength;
    outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return { specs: outSpecs, data: out.buffer };
}

/** The standard tfjs `model.json` for artifacts whose weights sit in `weightsFile`. */
export function modelJsonFor(
  artifacts: ModelArtifacts,
  specs: readonly WeightsManifestEntry[],
  weightsFile = 'weights.bin',
): io.ModelJSON {
  if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new DentsegError('E_MODEL_INVALID', 'model artifacts hold no JSON topology');
  }
  const json: io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'TensorFlow.js tfjs-layers',
    convertedBy: 'dentseg',
    weightsManifest: [{ paths: [weightsFile], weights: [...specs] }],
  };
  return json;
}

/** Load a layers model from a parsed `model.json` and the bytes of its single weights file. */
export async function modelFromJson(
  json: io.ModelJSON,
  weights: ArrayBuffer,
): Promise<LayersModel> {
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    return [specs, weights];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
