/**
 * Every torch kernel against the cpu backend on seeded random inputs: forward outputs
 * and, where the op is differentiable, input gradients (which also exercise the gradient
 * kernels: Conv2DBackprop*, MaxPoolGrad, Resize*Grad, ...). Relative error ≤ 1e-4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/engine/index.js';
import { isDentsegError } from '../../src/errors.js';
import { UNARY_KERNELS, BINARY_KERNELS } from '../../src/engine/torch/kernels_math.js';
import { loadTorchNative } from '../../src/engine/torch/native.js';
import { batchCounts } from '../../src/train/losses.js';
import { compareBackends, setupTorch, TORCH_BUILT, type InputSpec } from './torch-compare.js';

type T = ReturnType<typeof tf.tensor>;
type T4 = ReturnType<typeof tf.tensor4d>;
const TOL = 1e-4;
const as4 = (t: T): T4 => t as T4;

interface Case {
  readonly name: string;
  readonly fn: (...xs: T[]) => T | T[];
  readonly inputs: InputSpec[];
  readonly grad?: boolean;
}

const UNARY_DOMAIN: Record<string, [number, number]> = {
  Acos: [-0.9, 0.9],
  Asin: [-0.9, 0.9],
  Atanh: [-0.9, 0.9],
  Acosh: [1.1, 3],
  Log: [0.1, 3],
  Sqrt: [0.1, 3],
  Rsqrt: [0.1, 3],
  Log1p: [-0.5, 3],
  Reciprocal: [0.2, 3],
  Tan: [-1.2, 1.2],
};
const NO_GRAD = new Set([
  'Ceil',
  'Floor',
  'Round',
  'Sign',
  'IsFinite',
  'IsInf',
  'IsNan',
  'LogicalNot',
  'ZerosLike',
  'OnesLike',
]);
const unaryOp: Record<string, (x: T) => T> = {
  Abs: tf.abs,
  Acos: tf.acos,
  Acosh: tf.acosh,
  Asin: tf.asin,
  Asinh: tf.asinh,
  Atan: tf.atan,
  Atanh: tf.atanh,
  Ceil: tf.ceil,
  Cos: tf.cos,
  Cosh: tf.cosh,
  Elu: tf.elu,
  Erf: tf.erf,
  Exp: tf.exp,
  Expm1: tf.expm1,
  Floor: tf.floor,
  IsFinite: tf.isFinite,
  IsInf: tf.isInf,
  IsNan: tf.isNaN,
  Log: tf.log,
  Log1p: tf.log1p,
  LogicalNot: (x) => tf.logicalNot(tf.greater(x, 0)),
  Neg: tf.neg,
  Reciprocal: tf.reciprocal,
  Relu: tf.relu,
  Relu6: (x) => tf.relu6(tf.mul(x, 8)),
  Round: (x) => tf.round(tf.mul(x, 3)),
  Rsqrt: tf.rsqrt,
  Selu: tf.selu,
  Sigmoid: tf.sigmoid,
  Sign: tf.sign,
  Sin: tf.sin,
  Sinh: tf.sinh,
  Softplus: tf.softplus,
  Sqrt: tf.sqrt,
  Square: tf.square,
  Tan: tf.tan,
  Tanh: tf.tanh,
  ZerosLike: tf.zerosLike,
  OnesLike: tf.onesLike,
};
const binaryOp: Record<string, (a: T, b: T) => T> = {
  Add: tf.add,
  Sub: tf.sub,
  Multiply: tf.mul,
  RealDiv: tf.div,
  FloorDiv: tf.floorDiv,
  Maximum: tf.maximum,
  Minimum: tf.minimum,
  Mod: tf.mod,
  Pow: tf.pow,
  Atan2: tf.atan2,
  SquaredDifference: tf.squaredDifference,
  Equal: tf.equal,
  NotEqual: tf.notEqual,
  Greater: tf.greater,
  GreaterEqual: tf.greaterEqual,
  Less: tf.less,
  LessEqual: tf.lessEqual,
  LogicalAnd: (a, b) => tf.logicalAnd(tf.greater(a, 0), tf.greater(b, 0)),
  LogicalOr: (a, b) => tf.logicalOr(tf.greater(a, 0), tf.greater(b, 0)),
  LogicalXor: (a, b) => tf.logicalXor(tf.greater(a, 0), tf.greater(b, 0)),
};
const BINARY_GRAD = new Set(['Add', 'Sub', 'Multiply', 'RealDiv', 'Pow', 'Atan2']);

const f4 = (shape: number[], lo = -1, hi = 1): InputSpec => ({ shape, lo, hi });
const conv =
  (s: number, pad: 'same' | 'valid', d = 1) =>
  (x: T, w: T) =>
    tf.conv2d(as4(x), as4(w), s, pad, 'NHWC', d);

const CASES: Case[] = [
  ...UNARY_KERNELS.map((name): Case => {
    const [lo, hi] = UNARY_DOMAIN[name] ?? [-2, 2];
    return {
      name,
      fn: unaryOp[name] as (x: T) => T,
      inputs: [f4([3, 5, 4], lo, hi)],
      grad: !NO_GRAD.has(name),
    };
  }),
  ...BINARY_KERNELS.map((name): Case => ({
    name,
    fn: binaryOp[name] as (a: T, b: T) => T,
    inputs:
      name === 'Pow' || name === 'RealDiv' || name === 'FloorDiv' || name === 'Mod'
        ? [f4([3, 5, 4], 0.5, 3), f4([5, 1], 0.5, 2)]
        : [f4([3, 5, 4]), f4([5, 1])],
    grad: BINARY_GRAD.has(name),
  })),
  ...['Maximum', 'Minimum', 'SquaredDifference'].map((name): Case => ({
    // Same shapes: tfjs' gradients of these do not reduce over broadcast axes.
    name: `${name} same-shape`,
    fn: binaryOp[name] as (a: T, b: T) => T,
    inputs: [f4([3, 5, 4]), f4([3, 5, 4])],
    grad: true,
  })),
  {
    name: 'FloorDiv int32',
    fn: tf.floorDiv,
    inputs: [
      { shape: [20], dtype: 'int32', lo: -9, hi: 9 },
      { shape: [20], dtype: 'int32', lo: 1, hi: 4 },
    ],
  },
  {
    name: 'Mod int32',
    fn: tf.mod,
    inputs: [
      { shape: [20], dtype: 'int32', lo: -9, hi: 9 },
      { shape: [20], dtype: 'int32', lo: 1, hi: 4 },
    ],
  },
  {
    name: 'Prelu',
    fn: (x, a) => tf.prelu(x, a),
    inputs: [f4([2, 3, 4]), f4([4], 0, 0.5)],
    grad: true,
  },
  { name: 'LeakyRelu', fn: (x) => tf.leakyRelu(x, 0.1), inputs: [f4([2, 3, 4])], grad: true },
  {
    name: 'Step (with NaN and 0)',
    fn: (x) => tf.step(tf.concat([x, tf.tensor1d([NaN, 0, -0])]), 0.3),
    inputs: [f4([10])],
  },
  {
    name: 'ClipByValue',
    fn: (x) => tf.clipByValue(x, -0.3, 0.4),
    inputs: [f4([2, 3, 4])],
    grad: true,
  },
  {
    name: 'Sum',
    fn: (x) => [tf.sum(x), tf.sum(x, [0, 2]), tf.sum(x, -1, true)],
    inputs: [f4([3, 4, 5])],
    grad: true,
  },
  {
    name: 'Sum int/bool',
    fn: (x) => [tf.sum(tf.cast(x, 'int32'), 1), tf.sum(tf.greater(x, 0))],
    inputs: [f4([3, 4], -5, 5)],
  },
  {
    name: 'Mean',
    fn: (x) => [tf.mean(x), tf.mean(x, [1, 2]), tf.mean(x, 0, true)],
    inputs: [f4([3, 4, 5])],
    grad: true,
  },
  {
    name: 'Max',
    fn: (x) => [tf.max(x), tf.max(x, 1), tf.max(x, [0, 2], true)],
    inputs: [f4([3, 4, 5])],
    grad: true,
  },
  { name: 'Min', fn: (x) => [tf.min(x), tf.min(x, -1)], inputs: [f4([3, 4, 5])], grad: true },
  {
    name: 'Prod',
    // No gradient check: tfjs' Prod gradient calls a chained op (x.reshape) that this
    // build of tfjs-core does not register, on any backend.
    fn: (x) => [tf.prod(x, 1), tf.prod(x, [0, 1])],
    inputs: [f4([3, 4, 2], 0.5, 1.5)],
  },
  {
    name: 'Any/All',
    fn: (x) => [tf.any(tf.greater(x, 0.5), 1), tf.all(tf.greater(x, -0.8), [0, 1])],
    inputs: [f4([3, 4, 2])],
  },
  {
    name: 'ArgMax/ArgMin',
    fn: (x) => [tf.argMax(x, -1), tf.argMin(x, 0)],
    inputs: [f4([3, 4, 5])],
  },
  {
    name: 'Cumsum',
    fn: (x) => [tf.cumsum(x, 1), tf.cumsum(x, 0, true, true)],
    inputs: [f4([3, 4])],
  },
  // tfjs' Cumsum gradient transposes wrongly for a non-last axis (on cpu too): last only.
  {
    name: 'Cumsum last axis',
    fn: (x) => tf.cumsum(x, 1, false, true),
    inputs: [f4([3, 4])],
    grad: true,
  },
  {
    name: 'Cumprod',
    fn: (x) => [tf.cumprod(x, 1), tf.cumprod(x, 0, true, true)],
    inputs: [f4([3, 4], 0.5, 1.5)],
  },
  {
    name: 'UnsortedSegmentSum',
    fn: (x, i) =>
      tf.unsortedSegmentSum(x, tf.cast(i, 'int32') as ReturnType<typeof tf.tensor1d>, 4),
    inputs: [f4([5, 3]), { shape: [5], lo: 0, hi: 4 }],
  },
  {
    // tfjs' GatherV2 gradient is an UnsortedSegmentSum.
    name: 'GatherV2 gradient',
    fn: (x) => tf.gather(x, tf.tensor1d([2, 0, 2, 4], 'int32')),
    inputs: [f4([5, 3])],
    grad: true,
  },
  {
    name: 'TopK/LinSpace/ExpandDims',
    fn: (x) => [...Object.values(tf.topk(x, 3)), tf.linspace(-1, 2, 7), tf.expandDims(x, 1)],
    inputs: [f4([4, 6])],
  },
  { name: 'Softmax', fn: (x) => tf.softmax(x), inputs: [f4([2, 3, 5], -3, 3)], grad: true },
  { name: 'LogSoftmax', fn: (x) => tf.logSoftmax(x), inputs: [f4([2, 3, 5], -3, 3)], grad: true },
  {
    name: 'Cast',
    fn: (x) => [tf.cast(x, 'int32'), tf.cast(x, 'bool'), tf.cast(tf.cast(x, 'int32'), 'float32')],
    inputs: [f4([12], -3, 3)],
  },
  {
    name: 'Reshape/Identity',
    fn: (x) => tf.reshape(tf.clone(x), [4, -1]),
    inputs: [f4([2, 2, 6])],
    grad: true,
  },
  { name: 'Transpose', fn: (x) => tf.transpose(x, [2, 0, 1]), inputs: [f4([2, 3, 4])], grad: true },
  {
    name: 'Slice',
    fn: (x) => [tf.slice(x, [0, 1, 1], [2, 2, -1]), tf.slice(x, 1)],
    inputs: [f4([2, 4, 5])],
    grad: true,
  },
  {
    name: 'StridedSlice',
    fn: (x) => tf.stridedSlice(x, [0, 1, 0], [2, 4, 5], [1, 2, 2]),
    inputs: [f4([2, 4, 5])],
  },
  {
    name: 'Concat',
    fn: (a, b) => [tf.concat([a, b], -1), tf.concat([a, a, b], 3)],
    inputs: [f4([2, 3, 3, 2]), f4([2, 3, 3, 4])],
    grad: true,
  },
  {
    name: 'SplitV',
    fn: (x) => [...tf.split(x, [1, 3], 1), ...tf.split(x, 2, 0)],
    inputs: [f4([2, 4, 3])],
    grad: true,
  },
  {
    name: 'Pack/Unpack',
    fn: (a, b) => [tf.stack([a, b], 1), ...tf.unstack(a, 1)],
    inputs: [f4([2, 3]), f4([2, 3])],
    grad: true,
  },
  { name: 'Tile', fn: (x) => tf.tile(x, [2, 1, 3]), inputs: [f4([2, 3, 2])], grad: true },
  {
    name: 'Reverse',
    fn: (x) => [tf.reverse(x, [1, 2]), tf.reverse(x)],
    inputs: [f4([2, 3, 4])],
    grad: true,
  },
  { name: 'FlipLeftRight', fn: (x) => tf.image.flipLeftRight(as4(x)), inputs: [f4([2, 3, 4, 2])] },
  {
    name: 'GatherV2',
    fn: (x, i) => tf.gather(x, i, 1),
    inputs: [f4([2, 5, 3]), { shape: [2, 3], dtype: 'int32', lo: 0, hi: 5 }],
  },
  {
    name: 'Select',
    fn: (c, a, b) => [
      tf.where(tf.greater(c, 0), a, b),
      tf.where(tf.greater(tf.reshape(tf.slice(c, [0, 0], [1, 3]), [3]), 0), a, b),
    ],
    inputs: [f4([2, 3]), f4([2, 3]), f4([2, 3])],
  },
  {
    name: 'Fill/Range/OneHot',
    fn: (i) => [
      tf.fill([2, 3], 1.5),
      tf.range(0, 7, 1.5),
      tf.range(0, 5, 1, 'int32'),
      tf.oneHot(i, 4),
    ],
    inputs: [{ shape: [5], dtype: 'int32', lo: 0, hi: 4 }],
  },
  {
    // Out-of-range indices give a row of offValue; on/off values and the dtype are kept.
    name: 'OneHot out of range, on/off values, float32, 2-D indices',
    fn: (i) => [
      tf.oneHot(i, 4, 2.5, -1, 'float32'),
      tf.oneHot(tf.reshape(i, [4, 6]), 5, 1, 0, 'float32'),
      tf.oneHot(i, 3, 7, 1),
    ],
    inputs: [{ shape: [24], dtype: 'int32', lo: -2, hi: 7 }],
  },
  {
    // The training loop's multi-class counts: ArgMax, Where on int32, UnsortedSegmentSum.
    name: 'batchCounts (multi-class)',
    fn: (logits, m) =>
      batchCounts(tf.reshape(tf.oneHot(m, 5, 1, 0, 'float32'), [2, 3, 4, 5]), tf.softmax(logits)),
    inputs: [f4([2, 3, 4, 5]), { shape: [24], dtype: 'int32', lo: 0, hi: 6 }],
  },
  { name: 'AddN', fn: (a, b) => tf.addN([a, b, a]), inputs: [f4([3, 2]), f4([3, 2])], grad: true },
  {
    name: 'PadV2',
    fn: (x) =>
      tf.pad(
        x,
        [
          [0, 0],
          [1, 2],
          [2, 0],
          [0, 0],
        ],
        0.5,
      ),
    inputs: [f4([1, 3, 3, 2])],
    grad: true,
  },
  {
    name: 'MirrorPad',
    fn: (x) => [
      tf.mirrorPad(
        x,
        [
          [1, 1],
          [2, 1],
        ],
        'reflect',
      ),
      tf.mirrorPad(
        x,
        [
          [1, 0],
          [0, 2],
        ],
        'symmetric',
      ),
    ],
    inputs: [f4([4, 4])],
  },
  {
    name: 'Conv2D same s1',
    fn: conv(1, 'same'),
    inputs: [f4([2, 7, 6, 3]), f4([3, 3, 3, 5])],
    grad: true,
  },
  {
    name: 'Conv2D same s2 (asymmetric pad)',
    fn: conv(2, 'same'),
    inputs: [f4([2, 8, 7, 3]), f4([3, 3, 3, 4])],
    grad: true,
  },
  {
    name: 'Conv2D valid s2',
    fn: conv(2, 'valid'),
    inputs: [f4([1, 9, 8, 2]), f4([3, 3, 2, 4])],
    grad: true,
  },
  {
    name: 'Conv2D 2x2 same',
    fn: conv(1, 'same'),
    inputs: [f4([1, 5, 5, 2]), f4([2, 2, 2, 3])],
    grad: true,
  },
  { name: 'Conv2D dilated', fn: conv(1, 'same', 2), inputs: [f4([1, 7, 7, 2]), f4([3, 3, 2, 3])] },
  {
    name: 'Conv2D 1x1',
    fn: conv(1, 'valid'),
    inputs: [f4([2, 4, 4, 6]), f4([1, 1, 6, 2])],
    grad: true,
  },
  {
    name: 'FusedConv2D bias+relu',
    fn: (x, w, b) =>
      tf.fused.conv2d({
        x: as4(x),
        filter: as4(w),
        strides: 1,
        pad: 'same',
        bias: b,
        activation: 'relu',
      }),
    inputs: [f4([2, 6, 6, 3]), f4([3, 3, 3, 4]), f4([4])],
    grad: true,
  },
  {
    name: 'FusedConv2D sigmoid',
    fn: (x, w, b) =>
      tf.fused.conv2d({
        x: as4(x),
        filter: as4(w),
        strides: 1,
        pad: 'valid',
        bias: b,
        activation: 'sigmoid',
      }),
    inputs: [f4([1, 5, 5, 2]), f4([1, 1, 2, 3]), f4([3])],
  },
  ...(['relu6', 'elu', 'leakyrelu', 'prelu'] as const).map((activation): Case => ({
    name: `FusedConv2D ${activation}`,
    fn: (x, w, b, p) =>
      tf.fused.conv2d({
        x: as4(x),
        filter: as4(w),
        strides: 1,
        pad: 'same',
        bias: b,
        activation,
        leakyreluAlpha: 0.15,
        ...(activation === 'prelu' ? { preluActivationWeights: p } : {}),
      }),
    inputs: [
      f4([1, 5, 5, 2], -4, 4),
      f4([3, 3, 2, 3]),
      f4([3]),
      ...(activation === 'prelu' ? [f4([3], 0, 0.5)] : []),
    ],
    grad: activation !== 'prelu',
  })),
  {
    name: 'Conv2DTranspose s2 same',
    fn: (x, w) => tf.conv2dTranspose(as4(x), as4(w), [2, 8, 6, 3], 2, 'same'),
    inputs: [f4([2, 4, 3, 5]), f4([2, 2, 3, 5])],
    grad: true,
  },
  {
    name: 'MaxPool 2x2 s2',
    fn: (x) => tf.maxPool(as4(x), 2, 2, 'valid'),
    inputs: [f4([2, 6, 8, 3])],
    grad: true,
  },
  {
    name: 'MaxPool 3x3 s2 same',
    fn: (x) => tf.maxPool(as4(x), 3, 2, 'same'),
    inputs: [f4([1, 7, 6, 2])],
    grad: true,
  },
  {
    name: 'AvgPool',
    fn: (x) => [tf.avgPool(as4(x), 2, 2, 'valid'), tf.avgPool(as4(x), 3, 1, 'same')],
    inputs: [f4([2, 6, 6, 2])],
    grad: true,
  },
  {
    name: 'FusedBatchNorm',
    fn: (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3),
    inputs: [f4([2, 3, 3, 4]), f4([4]), f4([4], 0.5, 2), f4([4]), f4([4], 0.5, 1.5)],
    grad: true,
  },
  {
    name: 'ResizeBilinear',
    // Square inputs for gradients: tfjs-cpu's ResizeBilinearGrad swaps H and W in its
    // output shape (a tfjs bug), so only H = W can be compared.
    fn: (x) => tf.image.resizeBilinear(as4(x), [7, 9]),
    inputs: [f4([2, 5, 5, 3])],
    grad: true,
  },
  {
    name: 'ResizeBilinear align',
    fn: (x) => tf.image.resizeBilinear(as4(x), [8, 3], true),
    inputs: [f4([1, 4, 4, 2])],
    grad: true,
  },
  {
    name: 'ResizeBilinear half-pixel',
    fn: (x) => tf.image.resizeBilinear(as4(x), [3, 11], false, true),
    inputs: [f4([1, 6, 5, 2])],
  },
  {
    name: 'ResizeNearestNeighbor',
    // Batch 1 for gradients: tfjs-cpu's ResizeNearestNeighborGrad reads the wrong dy rows
    // for batch > 1 (a tfjs bug; torch is right there). Forward checked at batch 2 below.
    fn: (x) => tf.image.resizeNearestNeighbor(as4(x), [8, 10]),
    inputs: [f4([1, 4, 5, 3])],
    grad: true,
  },
  {
    name: 'ResizeNearestNeighbor align/half',
    fn: (x) => [
      tf.image.resizeNearestNeighbor(as4(x), [7, 3], true),
      tf.image.resizeNearestNeighbor(as4(x), [9, 2], false, true),
    ],
    inputs: [f4([2, 4, 5, 2])],
  },
  {
    name: 'BatchMatMul',
    fn: (a, b) => [tf.matMul(a, b), tf.matMul(a, a, true, false)],
    inputs: [f4([2, 3, 4]), f4([2, 4, 5])],
    grad: true,
  },
  {
    name: '_FusedMatMul',
    fn: (a, b, bias) =>
      tf.fused.matMul({
        a: a as ReturnType<typeof tf.tensor2d>,
        b: b as ReturnType<typeof tf.tensor2d>,
        bias,
        activation: 'relu',
      }),
    inputs: [f4([3, 4]), f4([4, 5]), f4([5])],
    grad: true,
  },
];

describe.skipIf(!TORCH_BUILT)('torch kernels match the cpu backend', () => {
  beforeAll(() => setupTorch());

  for (const c of CASES) {
    it(`${c.name}${c.grad ? ' (+grad)' : ''}`, async () => {
      const err = await compareBackends(c.fn, c.inputs, { grad: c.grad ?? false });
      expect(err).toBeLessThanOrEqual(TOL);
    });
  }

  it('frees every tensor it makes (no native leak across a gradient)', async () => {
    await tf.setBackend('torch');
    const before = tf.memory().numTensors;
    const nativeBefore = loadTorchNative().stats().tensors;
    const x = tf.randomNormal([1, 6, 6, 2]);
    const w = tf.randomNormal([3, 3, 2, 2]);
    tf.dispose(
      tf.grads((a: T, b: T) =>
        tf.sum(tf.reshape(tf.maxPool(tf.conv2d(as4(a), as4(b), 1, 'same'), 2, 2, 'valid'), [-1])),
      )([x, w]),
    );
    tf.dispose([x, w]);
    expect(tf.memory().numTensors).toBe(before);
    // Reshapes share a dataId: the native store must be back where it was, too.
    expect(loadTorchNative().stats().tensors).toBe(nativeBefore);
  });

  it('reuses large blocks through the caching allocator', async () => {
    await tf.setBackend('torch');
    const native = loadTorchNative();
    const before = native.stats().cachedBytes;
    const big = tf.ones([1024, 1024, 3]); // 12 MiB
    await big.data();
    big.dispose();
    const cached = native.stats().cachedBytes;
    expect(cached).toBeGreaterThanOrEqual(before + 12 * 2 ** 20);
    const again = tf.zeros([1024, 1024, 3]); // same size: served from the cache
    expect(native.stats().cachedBytes).toBeLessThan(cached);
    again.dispose();
  });

  it('turns a native failure into E_ENGINE_FAILED naming the kernel and shapes', async () => {
    await tf.setBackend('torch');
    const a = tf.ones([2, 3]);
    const b = tf.ones([4, 5]);
    let caught: unknown;
    try {
      // Bypass the op's own shape check to reach ATen with incompatible shapes.
      tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
    } catch (err) {
      caught = err;
    }
    tf.dispose([a, b]);
    expect(isDentsegError(caught) && caught.code === 'E_ENGINE_FAILED').toBe(true);
    expect(String(caught)).toMatch(/BatchMatMul.*a \[2, 3\], b \[4, 5\]/);
  });

  it('reports a kernel it lacks as E_KERNEL_MISSING naming the kernel', async () => {
    await tf.setBackend('torch');
    const x = tf.tensor1d([3, 1, 2]);
    let caught: unknown;
    try {
      tf.diag(x);
    } catch (err) {
      caught = err;
    }
    x.dispose();
    expect(isDentsegError(caught) && caught.code === 'E_KERNEL_MISSING').toBe(true);
    expect(String(caught)).toMatch(/Diag/);
  });
});
