/**
 * Adam with a learning rate that callbacks may change and a state (step count and both
 * moments) that round-trips through bytes, so `--resume` continues the exact optimiser.
 */
import { tf } from '../engine/index.js';
import { DentsegError } from '../errors.js';

/** Keras' Adam defaults (β1 0.9, β2 0.999, ε 1e-7). */
export class Adam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999, 1e-7);
  }
  /** Current learning rate. */
  get lr(): number {
    return this.learningRate;
  }
  /** Change the learning rate (> 0) from the next step on. */
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

/** Serialised optimiser state: an index (names, shapes) plus one float32 blob. */
export interface OptimizerStateFile {
  readonly index: { readonly name: string; readonly shape: number[] }[];
  readonly data: Float32Array;
}

/** Capture the optimiser's state (iterations, first and second moments) as plain data. */
export async function exportOptimizerState(opt: Adam): Promise<OptimizerStateFile> {
  const weights = await opt.getWeights();
  const index = weights.map((w) => ({ name: w.name, shape: [...w.tensor.shape] }));
  const total = weights.reduce((n, w) => n + w.tensor.size, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const w of weights) {
    const v = await w.tensor.data();
    data.set(v, at);
    at += v.length;
  }
  return { index, data };
}

/** Restore a state captured by {@link exportOptimizerState}; `file` names it in errors. */
export async function importOptimizerState(
  opt: Adam,
  state: OptimizerStateFile,
  file: string,
): Promise<void> {
  const total = state.index.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
  if (total !== state.data.length) {
    throw new DentsegError(
      'E_CHECKPOINT_INVALID',
      `optimizer state holds ${state.data.length} values, its index ${total}`,
      {
        file,
      },
    );
  }
  let at = 0;
  const named: Parameters<Adam['setWeights']>[0] = state.index.map((e) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(state.data.slice(at, at + n), e.shape);
    at += n;
    return { name: e.name, tensor: t };
  });
  await opt.setWeights(named);
  for (const n of named) n.tensor.dispose();
}
