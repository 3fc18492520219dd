/**
 * `bench:engines`' PyTorch row: ONNX Runtime for Node and PyTorch (bench/pytorch_unet.py) on
 * the same network, batch 1, 2 threads each, alternating run by run so that load from other
 * jobs on shared cores falls on both, and the ratio of their speeds.
 */
import { onnxEngine } from '../src/infer/index.js';
import { PytorchReference } from './pytorch.js';

/** ORT-node against PyTorch at 2 threads, one size and width, timed in alternation. */
export interface VsPytorch {
  readonly width: number;
  readonly size: number;
  readonly threads: number;
  readonly ortNodeMsPerImage: number;
  readonly pytorchMsPerImage: number;
  /** ORT-node speed ÷ PyTorch speed (> 1 = ORT faster): median of the per-pair ratios. */
  readonly ratio: number;
  readonly ratioSpread: readonly [number, number];
  readonly ortRunsMs: readonly number[];
  readonly pytorchRunsMs: readonly number[];
  /** PyTorch's version and memory layout (NCHW, as its users write it). */
  readonly pytorch: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const r = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

/**
 * One warm-up of each (PyTorch warms up while starting), then `runs` pairs: ORT, PyTorch.
 * `x` is the NHWC input (1 × size × size × 3) for ORT; PyTorch makes its own random input of
 * the same shape (speed does not depend on the values).
 */
export async function ortVsPytorch(
  python: string,
  onnx: Uint8Array | string,
  x: Float32Array,
  o: { width: number; size: number; runs: number; spinning?: boolean; threads?: number },
): Promise<VsPytorch> {
  const threads = o.threads ?? 2;
  const reference = await PytorchReference.start(python, {
    size: o.size,
    batch: 1,
    width: o.width,
    threads,
    channels: 3,
  });
  const eng = await onnxEngine(onnx, { threads, spinning: o.spinning ?? false });
  try {
    await eng.run(x, 1, o.size, o.size, 3);
    const ortRunsMs: number[] = [];
    const pytorchRunsMs: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      await eng.run(x, 1, o.size, o.size, 3);
      ortRunsMs.push(performance.now() - t0);
      pytorchRunsMs.push(await reference.run('forward'));
    }
    const ratios = ortRunsMs.map((t, i) => (pytorchRunsMs[i] ?? NaN) / t);
    return {
      width: o.width,
      size: o.size,
      threads,
      ortNodeMsPerImage: r(median(ortRunsMs), 1),
      pytorchMsPerImage: r(median(pytorchRunsMs), 1),
      ratio: r(median(ratios), 2),
      ratioSpread: [r(Math.min(...ratios), 2), r(Math.max(...ratios), 2)],
      ortRunsMs: ortRunsMs.map((v) => r(v, 1)),
      pytorchRunsMs: pytorchRunsMs.map((v) => r(v, 1)),
      pytorch: `${reference.info.torch} ${reference.info.layout}`,
    };
  } finally {
    eng.dispose();
    reference.close();
  }
}
