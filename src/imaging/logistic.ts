/**
 * A small L2-regularised logistic regression, fitted by full-batch gradient descent with
 * Adam on standardised features: enough for a few hundred samples of a few hundred
 * features, with no dependency, and its weights fit in a small JSON file. Pure.
 */

/** A fitted model: standardisation, weights and the probability threshold. */
export interface LogisticModel {
  /** Per-feature mean and standard deviation used to standardise inputs. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly weights: readonly number[];
  readonly bias: number;
}

/** Fitting options. */
export interface LogisticFitOptions {
  /** L2 penalty on the weights (≥ 0, default 0.01). */
  readonly l2?: number;
  /** Gradient steps (default 2000). */
  readonly steps?: number;
  /** Adam learning rate (default 0.05). */
  readonly lr?: number;
  /** Weight of the positive samples' loss relative to the negatives' (default: balance the classes). */
  readonly positiveWeight?: number;
}

/** P(positive) for one feature vector. */
export function logisticPredict(model: LogisticModel, x: ArrayLike<number>): number {
  let z = model.bias;
  for (let j = 0; j < model.weights.length; j++) {
    const s = model.std[j]!;
    z += (model.weights[j]! * (x[j]! - model.mean[j]!)) / (s > 0 ? s : 1);
  }
  return 1 / (1 + Math.exp(-z));
}

/** Fit on `xs` (feature vectors of equal length) and labels `ys` (1 positive, 0 negative). */
export function logisticFit(
  xs: readonly ArrayLike<number>[],
  ys: readonly number[],
  opts: LogisticFitOptions = {},
): LogisticModel {
  const n = xs.length;
  const d = xs[0]?.length ?? 0;
  const l2 = opts.l2 ?? 0.01;
  const steps = opts.steps ?? 2000;
  const lr = opts.lr ?? 0.05;
  const positives = ys.filter((y) => y === 1).length;
  const wPos = opts.positiveWeight ?? (n - positives) / Math.max(1, positives);
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const x of xs) for (let j = 0; j < d; j++) mean[j]! += x[j]! / n;
  for (const x of xs) for (let j = 0; j < d; j++) std[j]! += (x[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const z = xs.map((x) => Float64Array.from({ length: d }, (_, j) => (x[j]! - mean[j]!) / std[j]!));
  const sw = ys.map((y) => (y === 1 ? wPos : 1));
  const total = sw.reduce((a, b) => a + b, 0);
  const w = new Float64Array(d + 1); // last: bias
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const g = new Float64Array(d + 1);
  for (let t = 1; t <= steps; t++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const zi = z[i]!;
      let s = w[d]!;
      for (let j = 0; j < d; j++) s += w[j]! * zi[j]!;
      const err = (sw[i]! * (1 / (1 + Math.exp(-s)) - ys[i]!)) / total;
      for (let j = 0; j < d; j++) g[j]! += err * zi[j]!;
      g[d]! += err;
    }
    for (let j = 0; j < d; j++) g[j]! += l2 * w[j]!;
    for (let j = 0; j <= d; j++) {
      m[j] = 0.9 * m[j]! + 0.1 * g[j]!;
      v[j] = 0.999 * v[j]! + 0.001 * g[j]! ** 2;
      const mh = m[j]! / (1 - 0.9 ** t);
      const vh = v[j]! / (1 - 0.999 ** t);
      w[j] = w[j]! - (lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  return { mean, std, weights: Array.from(w.subarray(0, d)), bias: w[d]! };
}
