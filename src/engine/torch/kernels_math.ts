/**
 * Element-wise, reduction, shape and creation kernels of the `torch` backend. Unary and
 * binary kernels are a table of tfjs names that the addon maps to ATen calls
 * (native/src/ops_math.cc); the rest translate tfjs attributes (axes, begin/size, ...)
 * into the addon's normalised form using tfjs' own helpers, so semantics match tfjs.
 */
import * as tfc from '@tensorflow/tfjs-core';
import { backend_util, slice_util, util, type DataType } from '@tensorflow/tfjs-core';
import { attrsAs, input, inputList, type TorchKernel } from './kernel_util.js';

/** Unary kernels the addon implements under the same name (input `x`). */
export const UNARY_KERNELS = [
  'Abs',
  'Acos',
  'Acosh',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'Ceil',
  'Cos',
  'Cosh',
  'Elu',
  'Erf',
  'Exp',
  'Expm1',
  'Floor',
  'IsFinite',
  'IsInf',
  'IsNan',
  'Log',
  'Log1p',
  'LogicalNot',
  'Neg',
  'Reciprocal',
  'Relu',
  'Relu6',
  'Round',
  'Rsqrt',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softplus',
  'Sqrt',
  'Square',
  'Tan',
  'Tanh',
  'ZerosLike',
  'OnesLike',
] as const;

/** Binary kernels with broadcasting (inputs `a`, `b`). */
export const BINARY_KERNELS = [
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'FloorDiv',
  'Maximum',
  'Minimum',
  'Mod',
  'Pow',
  'Atan2',
  'SquaredDifference',
  'Equal',
  'NotEqual',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'LogicalAnd',
  'LogicalOr',
  'LogicalXor',
] as const;

function axes(axis: number | number[] | null | undefined, shape: number[]): number[] {
  // tfjs passes null for "all axes"; parseAxisParam handles it though its type omits it.
  return util.parseAxisParam((axis ?? null) as number[], shape);
}

function reduction(name: string, fn: string, axisAttr: 'axis' | 'reductionIndices'): TorchKernel {
  return {
    name,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', name);
      const a = attrsAs<{
        axis?: number | number[];
        reductionIndices?: number | number[];
        keepDims: boolean;
      }>(attrs);
      return backend.exec1('reduce', [x], {
        fn,
        axes: axes(a[axisAttr], x.shape),
        keepDims: Boolean(a.keepDims),
      });
    },
  };
}

function argReduction(name: string, fn: 'max' | 'min'): TorchKernel {
  return {
    name,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', name);
      const axis = axes(attrsAs<{ axis: number }>(attrs).axis, x.shape)[0] ?? 0;
      return backend.exec1('arg', [x], { fn, axis });
    },
  };
}

function scan(name: string, fn: 'sum' | 'prod'): TorchKernel {
  return {
    name,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', name);
      const a = attrsAs<tfc.CumsumAttrs>(attrs);
      return backend.exec1('scan', [x], {
        fn,
        axis: axes(a.axis, x.shape)[0] ?? 0,
        exclusive: Boolean(a.exclusive),
        reverse: Boolean(a.reverse),
      });
    },
  };
}

export const MATH_KERNELS: readonly TorchKernel[] = [
  ...UNARY_KERNELS.map((name): TorchKernel => ({
    name,
    run: (inputs, backend) => backend.exec1('unary', [input(inputs, 'x', name)], { fn: name }),
  })),
  ...BINARY_KERNELS.map((name): TorchKernel => ({
    name,
    run: (inputs, backend) =>
      backend.exec1('binary', [input(inputs, 'a', name), input(inputs, 'b', name)], { fn: name }),
  })),
  {
    name: tfc.Prelu,
    run: (inputs, backend) =>
      backend.exec1('binary', [input(inputs, 'x', 'Prelu'), input(inputs, 'alpha', 'Prelu')], {
        fn: 'Prelu',
      }),
  },
  {
    name: tfc.EluGrad,
    run: (inputs, backend) =>
      backend.exec1('binary', [input(inputs, 'dy', 'EluGrad'), input(inputs, 'y', 'EluGrad')], {
        fn: 'EluGrad',
      }),
  },
  reduction(tfc.Sum, 'sum', 'axis'),
  reduction(tfc.Mean, 'mean', 'axis'),
  reduction(tfc.Max, 'max', 'reductionIndices'),
  reduction(tfc.Min, 'min', 'axis'),
  reduction(tfc.Prod, 'prod', 'axis'),
  reduction(tfc.Any, 'any', 'axis'),
  reduction(tfc.All, 'all', 'axis'),
  argReduction(tfc.ArgMax, 'max'),
  argReduction(tfc.ArgMin, 'min'),
  scan(tfc.Cumsum, 'sum'),
  scan(tfc.Cumprod, 'prod'),
  {
    name: tfc.UnsortedSegmentSum,
    run: (inputs, backend, attrs) =>
      backend.exec1(
        'segmentSum',
        [
          input(inputs, 'x', 'UnsortedSegmentSum'),
          input(inputs, 'segmentIds', 'UnsortedSegmentSum'),
        ],
        { numSegments: attrsAs<tfc.UnsortedSegmentSumAttrs>(attrs).numSegments },
      ),
  },
  {
    name: tfc.TopK,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.TopKAttrs>(attrs);
      return backend.exec('topk', [input(inputs, 'x', 'TopK')], { k: a.k, sorted: a.sorted });
    },
  },
  {
    name: tfc.LinSpace,
    run: (_inputs, backend, attrs) => {
      const a = attrsAs<tfc.LinSpaceAttrs>(attrs);
      return backend.exec1('linspace', [], { start: a.start, stop: a.stop, num: a.num });
    },
  },
  {
    name: tfc.ExpandDims,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'input', 'ExpandDims');
      const dim = attrsAs<tfc.ExpandDimsAttrs>(attrs).dim;
      const shape = [...x.shape];
      shape.splice(dim < 0 ? shape.length + 1 + dim : dim, 0, 1);
      return backend.share(x, shape);
    },
  },
  {
    name: tfc.Softmax,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'logits', 'Softmax');
      return backend.exec1('softmax', [x], {
        dim: axes(attrsAs<tfc.SoftmaxAttrs>(attrs).dim, x.shape)[0] ?? -1,
      });
    },
  },
  {
    name: tfc.Cast,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'Cast');
      const dtype = attrsAs<{ dtype: DataType }>(attrs).dtype;
      if (dtype === x.dtype) return backend.share(x, x.shape);
      return backend.exec1('cast', [x], { dtype });
    },
  },
  {
    name: tfc.Reshape,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'Reshape');
      const shape = util.inferFromImplicitShape(
        attrsAs<tfc.ReshapeAttrs>(attrs).shape,
        util.sizeFromShape(x.shape),
      );
      return backend.share(x, shape);
    },
  },
  {
    name: tfc.Identity,
    run: (inputs, backend) =>
      backend.share(input(inputs, 'x', 'Identity'), input(inputs, 'x', 'Identity').shape),
  },
  {
    name: tfc.Transpose,
    run: (inputs, backend, attrs) =>
      backend.exec1('transpose', [input(inputs, 'x', 'Transpose')], {
        perm: attrsAs<tfc.TransposeAttrs>(attrs).perm,
      }),
  },
  {
    name: tfc.Slice,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'Slice');
      const a = attrsAs<tfc.SliceAttrs>(attrs);
      const [begin, size] = slice_util.parseSliceParams(x, a.begin, a.size);
      return backend.exec1('slice', [x], { begin: begin ?? [], size: size ?? [] });
    },
  },
  {
    name: tfc.StridedSlice,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'StridedSlice');
      const a = attrsAs<tfc.StridedSliceAttrs>(attrs);
      const info = slice_util.sliceInfo(
        x.shape,
        a.begin,
        a.end,
        a.strides,
        a.beginMask,
        a.endMask,
        a.ellipsisMask,
        a.newAxisMask,
        a.shrinkAxisMask,
      );
      if (info.strides.some((s) => s < 0))
        throw new Error('StridedSlice: negative strides are not supported by the torch backend');
      const y = backend.exec1('stridedSlice', [x], {
        begin: info.begin,
        end: info.end,
        strides: info.strides,
      });
      const out = backend.share(y, info.finalShape);
      backend.disposeData(y.dataId);
      return out;
    },
  },
  {
    name: tfc.Concat,
    run: (inputs, backend, attrs) => {
      const list = inputList(inputs);
      const first = list[0];
      if (!first) throw new Error('Concat: no inputs');
      const axis = axes(attrsAs<tfc.ConcatAttrs>(attrs).axis, first.shape)[0] ?? 0;
      return backend.exec1('concat', list, { axis });
    },
  },
  {
    name: tfc.SplitV,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'SplitV');
      const a = attrsAs<tfc.SplitVAttrs>(attrs);
      const axis = axes(a.axis, x.shape)[0] ?? 0;
      const sizes = backend_util.prepareSplitSize(x, a.numOrSizeSplits, axis);
      return backend.exec('split', [x], { sizes, axis });
    },
  },
  {
    name: tfc.Pack,
    run: (inputs, backend, attrs) => {
      const list = inputList(inputs);
      const rank = (list[0]?.shape.length ?? 0) + 1;
      const axis = attrsAs<tfc.PackAttrs>(attrs).axis;
      return backend.exec1('stack', list, { axis: axis < 0 ? axis + rank : axis });
    },
  },
  {
    name: tfc.Unpack,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'value', 'Unpack');
      return backend.exec('unstack', [x], {
        axis: axes(attrsAs<tfc.UnpackAttrs>(attrs).axis, x.shape)[0] ?? 0,
      });
    },
  },
  {
    name: tfc.Tile,
    run: (inputs, backend, attrs) =>
      backend.exec1('tile', [input(inputs, 'x', 'Tile')], {
        reps: attrsAs<tfc.TileAttrs>(attrs).reps,
      }),
  },
  {
    name: tfc.Reverse,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'Reverse');
      return backend.exec1('reverse', [x], {
        dims: axes(attrsAs<tfc.ReverseAttrs>(attrs).dims, x.shape),
      });
    },
  },
  {
    name: tfc.GatherV2,
    run: (inputs, backend, attrs) => {
      const x = input(inputs, 'x', 'GatherV2');
      const a = attrsAs<tfc.GatherV2Attrs>(attrs);
      if ((a.batchDims ?? 0) !== 0)
        throw new Error('GatherV2: batchDims > 0 is not supported by the torch backend');
      return backend.exec1('gather', [x, input(inputs, 'indices', 'GatherV2')], {
        axis: axes(a.axis, x.shape)[0] ?? 0,
      });
    },
  },
  {
    name: tfc.Select,
    run: (inputs, backend) =>
      backend.exec1('select', [
        input(inputs, 'condition', 'Select'),
        input(inputs, 't', 'Select'),
        input(inputs, 'e', 'Select'),
      ]),
  },
  {
    name: tfc.ClipByValue,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.ClipByValueAttrs>(attrs);
      return backend.exec1('clip', [input(inputs, 'x', 'ClipByValue')], {
        min: a.clipValueMin,
        max: a.clipValueMax,
      });
    },
  },
  {
    name: tfc.Step,
    run: (inputs, backend, attrs) =>
      backend.exec1('step', [input(inputs, 'x', 'Step')], {
        alpha: attrsAs<tfc.StepAttrs>(attrs).alpha,
      }),
  },
  {
    name: tfc.LeakyRelu,
    run: (inputs, backend, attrs) =>
      backend.exec1('leakyRelu', [input(inputs, 'x', 'LeakyRelu')], {
        alpha: attrsAs<tfc.LeakyReluAttrs>(attrs).alpha,
      }),
  },
  {
    name: tfc.Fill,
    run: (_inputs, backend, attrs) => {
      const a = attrsAs<tfc.FillAttrs>(attrs);
      const dtype = a.dtype ?? (typeof a.value === 'number' ? 'float32' : 'string');
      return backend.exec1('fill', [], { shape: a.shape, value: Number(a.value), dtype });
    },
  },
  {
    name: tfc.Range,
    run: (_inputs, backend, attrs) => {
      const a = attrsAs<tfc.RangeAttrs>(attrs);
      if (a.step === 0) throw new Error('Range: step must not be 0');
      const count = Math.max(Math.ceil((a.stop - a.start) / a.step), 0);
      return backend.exec1('range', [], { start: a.start, step: a.step, count, dtype: a.dtype });
    },
  },
  {
    name: tfc.OneHot,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.OneHotAttrs>(attrs);
      return backend.exec1('oneHot', [input(inputs, 'indices', 'OneHot')], {
        depth: a.depth,
        onValue: a.onValue,
        offValue: a.offValue,
        dtype: a.dtype,
      });
    },
  },
  { name: tfc.AddN, run: (inputs, backend) => backend.exec1('addN', inputList(inputs)) },
  {
    name: tfc.PadV2,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.PadV2Attrs>(attrs);
      return backend.exec1('pad', [input(inputs, 'x', 'PadV2')], {
        pads: a.paddings.flat(),
        value: a.constantValue,
      });
    },
  },
  {
    name: tfc.MirrorPad,
    run: (inputs, backend, attrs) => {
      const a = attrsAs<tfc.MirrorPadAttrs>(attrs);
      return backend.exec1('mirrorPad', [input(inputs, 'x', 'MirrorPad')], {
        pads: a.paddings.flat(),
        mode: a.mode,
      });
    },
  },
];
