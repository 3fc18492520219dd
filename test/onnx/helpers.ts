/**
 * Shared helpers of the ONNX tests: non-trivial batch-norm statistics for random models
 * and the error measure.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../src/engine/index.js';

/** Give every BatchNormalization layer non-trivial gamma, beta, mean and variance. */
export function randomiseBatchNorm(model: tf.LayersModel, seed = 7): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    // getWeights() returns the variables themselves: never dispose them.
    const ws = layer.getWeights();
    tf.tidy(() =>
      layer.setWeights(
        ws.map((w, i) =>
          i === ws.length - 1
            ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed + i)
            : tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + i),
        ),
      ),
    );
  }
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

/** A fresh temp folder. */
export function tempDirFor(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
