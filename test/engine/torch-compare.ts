/**
 * Test harness for the torch backend: runs the same function on the cpu backend (the
 * reference) and on torch with identical seeded inputs, and measures the relative error
 * of outputs and of gradients. Shared by the torch*.test.ts files.
 */
import { tf } from '../../src/engine/index.js';
import { registerTorchBackend, torchAddonBuilt } from '../../src/engine/torch/index.js';

/** The addon exists here; otherwise the torch tests skip (CI installs libtorch). */
export const TORCH_BUILT = torchAddonBuilt();

/** Registers the backend once (2 threads: the tests' machine has 2 cores). */
export function setupTorch(): void {
  if (TORCH_BUILT) registerTorchBackend({ threads: 2 });
}

type Tensor = ReturnType<typeof tf.tensor>;

/** How to draw one input: shape, dtype and value range [lo, hi). */
export interface InputSpec {
  readonly shape: number[];
  readonly dtype?: 'float32' | 'int32' | 'bool';
  readonly lo?: number;
  readonly hi?: number;
}

/** Deterministic uniform numbers (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function draw(spec: InputSpec, next: () => number): Float32Array | Int32Array | Uint8Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const lo = spec.lo ?? -1;
  const hi = spec.hi ?? 1;
  if (spec.dtype === 'bool') return Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
  if (spec.dtype === 'int32')
    return Int32Array.from({ length: n }, () => Math.floor(lo + next() * (hi - lo)));
  return Float32Array.from({ length: n }, () => lo + next() * (hi - lo));
}

/** max |a - b| / max(max |b|, 1e-6): error relative to the reference's scale. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? NaN;
    const y = b[i] ?? NaN;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
    if (Number.isNaN(y) || x === y) continue;
    diff = Math.max(diff, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(y));
  }
  return diff / scale;
}

export interface RunResult {
  readonly outputs: { shape: number[]; dtype: string; values: number[] }[];
  readonly grads: number[][];
}

async function runOn(
  backend: string,
  fn: (...xs: Tensor[]) => Tensor | Tensor[],
  specs: readonly InputSpec[],
  seed: number,
  grad: boolean,
): Promise<RunResult> {
  await tf.setBackend(backend);
  const next = rng(seed);
  const xs = specs.map((s) => tf.tensor(draw(s, next), s.shape, s.dtype ?? 'float32'));
  const out = fn(...xs);
  const list = Array.isArray(out) ? out : [out];
  const outputs = [];
  for (const t of list)
    outputs.push({ shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) });
  const grads: number[][] = [];
  if (grad) {
    // Weight each output element differently so the gradient is not a constant fill.
    const weights = list.map((t) =>
      tf.tensor(draw({ shape: t.shape, lo: 0.5, hi: 1.5 }, next), t.shape),
    );
    const loss = (...ins: Tensor[]): Tensor => {
      const o = fn(...ins);
      const ol = Array.isArray(o) ? o : [o];
      return tf.addN(ol.map((t, i) => tf.sum(tf.mul(t, weights[i] as Tensor))));
    };
    const gs = tf.grads(loss)(xs);
    for (const g of gs) grads.push(Array.from(await g.data()));
    tf.dispose([...gs, ...weights]);
  }
  tf.dispose([...xs, ...list]);
  return { outputs, grads };
}

/**
 * Runs `fn` on cpu and torch and returns the worst relative error over outputs and
 * (when `grad`) input gradients; throws when shapes or dtypes differ.
 */
export async function compareBackends(
  fn: (...xs: Tensor[]) => Tensor | Tensor[],
  specs: readonly InputSpec[],
  options: { grad?: boolean; seed?: number } = {},
): Promise<number> {
  const seed = options.seed ?? 1234;
  const grad = options.grad ?? false;
  const ref = await runOn('cpu', fn, specs, seed, grad);
  const got = await runOn('torch', fn, specs, seed, grad);
  let worst = 0;
  ref.outputs.forEach((r, i) => {
    const g = got.outputs[i];
    if (!g)
      throw new Error(`torch returned ${got.outputs.length} outputs, cpu ${ref.outputs.length}`);
    if (g.shape.join() !== r.shape.join())
      throw new Error(`shape [${g.shape}] vs cpu [${r.shape}]`);
    if (g.dtype !== r.dtype) throw new Error(`dtype ${g.dtype} vs cpu ${r.dtype}`);
    worst = Math.max(worst, relError(g.values, r.values));
  });
  ref.grads.forEach((r, i) => {
    worst = Math.max(worst, relError(got.grads[i] ?? [], r));
  });
  return worst;
}
