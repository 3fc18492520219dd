/**
 * Adam with a learning rate that callbacks may change and a state (step count and both
 * moments) that round-trips through bytes, so `--resume` continues the exact optimiser.
 * On a backend with the fused update kernel (torch) each variable is updated in one pass.
 */
import { ADAM_UPDATE, tf } from '../engine/index.js';
import { DentsegError } from '../errors.js';

/** One moment variable of tfjs' AdamOptimizer, as it keeps and saves them. */
interface Moment {
  originalName: string;
  variable: tf.Variable;
}

/**
 * tfjs' AdamOptimizer's state, private in its typings: the fused path updates the same
 * variables so that getWeights / setWeights (and `--resume`) stay tfjs' own.
 */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: (Moment | undefined)[];
  accumulatedSecondMoment: (Moment | undefined)[];
}

function adamState(opt: tf.AdamOptimizer): AdamState | undefined {
  const s = opt as unknown as Partial<AdamState>;
  return s.accBeta1 instanceof tf.Variable &&
    s.accBeta2 instanceof tf.Variable &&
    Array.isArray(s.accumulatedFirstMoment) &&
    Array.isArray(s.accumulatedSecondMoment)
    ? (s as AdamState)
    : undefined;
}

/** Keras' Adam defaults (β1 0.9, β2 0.999, ε 1e-7). */
export class Adam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999, 1e-7);
  }

  /**
   * tfjs' update, in one kernel per variable where the backend has {@link ADAM_UPDATE}:
   * tfjs' own is 14 full-size element-wise kernels per variable (at full width, 3-4 % of a
   * torch training step; the fused one reads x, g, m, v once and writes x, m, v once).
   */
  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  ): void {
    const state = adamState(this);
    if (state === undefined || tf.getKernel(ADAM_UPDATE, tf.getBackend()) === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const named = Array.isArray(variableGradients) ? variableGradients : undefined;
    const names = named ? named.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      // tfjs' bias corrections: 1 - β^t from its float32 running products.
      const correction1 = 1 - (state.accBeta1.dataSync()[0] ?? 0);
      const correction2 = 1 - (state.accBeta2.dataSync()[0] ?? 0);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        if (value === undefined) throw new Error(`Adam: no variable named ${name}`);
        const zeros = (): tf.Variable => tf.tidy(() => tf.zerosLike(value).variable(false));
        const m = (state.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: zeros(),
        });
        const v = (state.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: zeros(),
        });
        const gradient = named
          ? named[i]?.tensor
          : (variableGradients as Record<string, tf.Tensor | undefined>)[name];
        if (gradient == null) return;
        const [x2, m2, v2] = tf.engine().runKernel(
          ADAM_UPDATE,
          { x: value, g: gradient, m: m.variable, v: v.variable },
          {
            lr: this.learningRate,
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: this.epsilon,
            correction1,
            correction2,
          },
        ) as tf.Tensor[];
        m.variable.assign(m2!);
        v.variable.assign(v2!);
        value.assign(x2!);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
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
