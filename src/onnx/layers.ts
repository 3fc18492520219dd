/**
 * One converter per tfjs-layers class, emitting ONNX (opset 17) nodes in NCHW layout.
 * The exporter transposes the NHWC input once at the start and back once at the end, so
 * every converter here sees channels on axis 1. A layer or option without a converter is
 * refused with E_EXPORT_UNSUPPORTED naming the layer (never a silently different graph).
 */
import { DentsegError } from '../errors.js';
import { GraphBuilder, kernelToOnnx } from './graph.js';

/** What a converter knows about the layer call it converts. */
export interface LayerCall {
  /** Layer name as in model.json. */
  readonly name: string;
  /** tfjs class name, e.g. `Conv2D`. */
  readonly className: string;
  /** The layer's serialised config (snake or camel case keys as tfjs writes them). */
  readonly config: Readonly<Record<string, unknown>>;
  /** ONNX names of the inputs (NCHW). */
  readonly inputs: readonly string[];
  /** Static NHWC input shapes as tfjs inferred them (batch null). */
  readonly inputShapes: readonly (readonly (number | null)[])[];
  /** Weights by short name (`kernel`, `bias`, `gamma`, …). */
  readonly weights: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;
  /** Spatial size symbolic in the graph: pads must not depend on it. */
  readonly dynamicSize: boolean;
}

type Converter = (g: GraphBuilder, call: LayerCall) => string;

export function unsupported(call: { name: string; className: string }, what: string): never {
  throw new DentsegError(
    'E_EXPORT_UNSUPPORTED',
    `layer "${call.name}" (${call.className}): ${what} cannot be exported to ONNX`,
    {
      hint: 'dentseg exports Conv2D, Conv2DTranspose, MaxPooling2D, AveragePooling2D, BatchNormalization, UpSampling2D, Concatenate, Add, Multiply, Activation, ReLU, LeakyReLU, Softmax, ZeroPadding2D, Cropping2D and Dropout layers',
    },
  );
}

function get<T>(call: LayerCall, ...keys: string[]): T | undefined {
  for (const k of keys) if (call.config[k] !== undefined) return call.config[k] as T;
  return undefined;
}

function pair(value: unknown, fallback: number): [number, number] {
  if (value === undefined || value === null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  const arr = value as number[];
  return [arr[0] ?? fallback, arr[1] ?? arr[0] ?? fallback];
}

function input(call: LayerCall, k = 0): string {
  const name = call.inputs[k];
  if (name === undefined) unsupported(call, `missing input ${k}`);
  return name;
}

function requireChannelsLast(call: LayerCall): void {
  const fmt = get<string>(call, 'data_format', 'dataFormat');
  if (fmt !== undefined && fmt !== 'channels_last') unsupported(call, `data_format ${fmt}`);
}

function weight(call: LayerCall, key: string): { shape: number[]; data: Float32Array } {
  const w = call.weights.get(key);
  if (!w) unsupported(call, `missing weight "${key}"`);
  return w;
}

/** NHWC axis (negative allowed) → NCHW axis. */
function nchwAxis(call: LayerCall, axis: number): number {
  const a = axis < 0 ? axis + 4 : axis;
  const mapped = [0, 2, 3, 1][a];
  if (mapped === undefined) unsupported(call, `axis ${axis}`);
  return mapped;
}

/** Append the fused activation of a Conv/Activation layer. */
export function activation(g: GraphBuilder, call: LayerCall, x: string, act: string): string {
  const base = call.name;
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x], base);
    case 'relu6':
      return g.node(
        'Clip',
        [
          x,
          g.floatConst(`${base}/min`, [], Float32Array.of(0)),
          g.floatConst(`${base}/max`, [], Float32Array.of(6)),
        ],
        base,
      );
    case 'sigmoid':
      return g.node('Sigmoid', [x], base);
    case 'softmax':
      return g.node('Softmax', [x], base, { axis: 1 });
    case 'tanh':
      return g.node('Tanh', [x], base);
    case 'elu':
      return g.node('Elu', [x], base, { alpha: { float: 1 } });
    case 'selu':
      return g.node('Selu', [x], base);
    case 'softplus':
      return g.node('Softplus', [x], base);
    case 'hard_sigmoid':
    case 'hardSigmoid':
      return g.node('HardSigmoid', [x], base, { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    default:
      return unsupported(call, `activation "${act}"`);
  }
}

/** Explicit [top, left, bottom, right] pads for TF 'same' (extra padding at the end). */
function samePads(
  call: LayerCall,
  kernel: [number, number],
  strides: [number, number],
  dilation: [number, number],
): number[] | undefined {
  const shape = call.inputShapes[0] ?? [];
  const pads = [0, 0, 0, 0];
  for (let d = 0; d < 2; d++) {
    const k = ((kernel[d] ?? 1) - 1) * (dilation[d] ?? 1) + 1;
    const s = strides[d] ?? 1;
    let total: number;
    if (s === 1) total = k - 1;
    else {
      const size = shape[d + 1];
      if (call.dynamicSize || size === null || size === undefined) return undefined;
      const out = Math.ceil(size / s);
      total = Math.max((out - 1) * s + k - size, 0);
    }
    pads[d] = Math.floor(total / 2);
    pads[d + 2] = total - Math.floor(total / 2);
  }
  return pads;
}

function padAttrs(
  call: LayerCall,
  kernel: [number, number],
  strides: [number, number],
  dilation: [number, number],
): Record<string, number[] | string> {
  const padding = get<string>(call, 'padding') ?? 'valid';
  if (padding === 'valid') return { pads: [0, 0, 0, 0] };
  if (padding !== 'same') unsupported(call, `padding "${padding}"`);
  const pads = samePads(call, kernel, strides, dilation);
  return pads ? { pads } : { auto_pad: 'SAME_UPPER' };
}

const conv2d: Converter = (g, call) => {
  requireChannelsLast(call);
  const kernel = weight(call, 'kernel');
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const strides = pair(get(call, 'strides'), 1);
  const dilation = pair(get(call, 'dilation_rate', 'dilationRate'), 1);
  const w = g.floatConst(
    `${call.name}/kernel`,
    [cout, cin, kh, kw],
    kernelToOnnx(kernel.data, kh, kw, cin, cout),
  );
  const inputs = [input(call), w];
  const bias = call.weights.get('bias');
  if (bias) inputs.push(g.floatConst(`${call.name}/bias`, [cout], bias.data));
  const y = g.node('Conv', inputs, `${call.name}/conv`, {
    kernel_shape: [kh, kw],
    strides,
    dilations: dilation,
    group: 1,
    ...padAttrs(call, [kh, kw], strides, dilation),
  });
  return activation(g, call, y, get<string>(call, 'activation') ?? 'linear');
};

const conv2dTranspose: Converter = (g, call) => {
  requireChannelsLast(call);
  const kernel = weight(call, 'kernel');
  // tfjs: [kh, kw, outChannels, inChannels]; ONNX: [C_in, C_out, kH, kW].
  const [kh, kw, cout, cin] = kernel.shape as [number, number, number, number];
  const strides = pair(get(call, 'strides'), 1);
  const dilation = pair(get(call, 'dilation_rate', 'dilationRate'), 1);
  if (dilation[0] !== 1 || dilation[1] !== 1) unsupported(call, 'dilated transposed convolution');
  const padding = get<string>(call, 'padding') ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') unsupported(call, `padding "${padding}"`);
  const pads = [0, 0, 0, 0];
  const outputPadding = [0, 0];
  const k = [kh, kw];
  for (let d = 0; d < 2; d++) {
    const kd = k[d] ?? 1;
    const s = strides[d] ?? 1;
    // TF: 'same' → out = in*s; 'valid' → out = in*s + max(k - s, 0).
    if (kd >= s) {
      if (padding === 'same') {
        const total = kd - s;
        pads[d] = Math.floor(total / 2);
        pads[d + 2] = total - Math.floor(total / 2);
      }
    } else outputPadding[d] = s - kd;
  }
  const w = g.floatConst(
    `${call.name}/kernel`,
    [cin, cout, kh, kw],
    kernelToOnnx(kernel.data, kh, kw, cout, cin),
  );
  const inputs = [input(call), w];
  const bias = call.weights.get('bias');
  if (bias) inputs.push(g.floatConst(`${call.name}/bias`, [cout], bias.data));
  const y = g.node('ConvTranspose', inputs, `${call.name}/convT`, {
    kernel_shape: [kh, kw],
    strides,
    pads,
    output_padding: outputPadding,
    group: 1,
  });
  return activation(g, call, y, get<string>(call, 'activation') ?? 'linear');
};

function pooling(op: 'MaxPool' | 'AveragePool'): Converter {
  return (g, call) => {
    requireChannelsLast(call);
    const size = pair(get(call, 'pool_size', 'poolSize'), 2);
    const strides = pair(get(call, 'strides') ?? size, 1);
    const attrs: Record<string, number | number[] | string> = {
      kernel_shape: size,
      strides,
      ...padAttrs(call, size, strides, [1, 1]),
    };
    if (op === 'AveragePool') attrs.count_include_pad = 0;
    return g.node(op, [input(call)], call.name, attrs);
  };
}

const batchNorm: Converter = (g, call) => {
  const axis = get<number | number[]>(call, 'axis') ?? -1;
  const ax = Array.isArray(axis) ? axis : [axis];
  if (ax.length !== 1 || nchwAxis(call, ax[0] ?? -1) !== 1)
    unsupported(call, `axis ${JSON.stringify(axis)}`);
  const mean = weight(call, 'moving_mean');
  const n = mean.data.length;
  const gamma = call.weights.get('gamma')?.data ?? new Float32Array(n).fill(1);
  const beta = call.weights.get('beta')?.data ?? new Float32Array(n);
  return g.node(
    'BatchNormalization',
    [
      input(call),
      g.floatConst(`${call.name}/gamma`, [n], gamma),
      g.floatConst(`${call.name}/beta`, [n], beta),
      g.floatConst(`${call.name}/moving_mean`, [n], mean.data),
      g.floatConst(`${call.name}/moving_variance`, [n], weight(call, 'moving_variance').data),
    ],
    call.name,
    { epsilon: { float: get<number>(call, 'epsilon') ?? 1e-3 } },
  );
};

const upSampling: Converter = (g, call) => {
  requireChannelsLast(call);
  const [sh, sw] = pair(get(call, 'size'), 2);
  const interpolation = get<string>(call, 'interpolation') ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear')
    unsupported(call, `interpolation "${interpolation}"`);
  // tfjs resizes with alignCorners = false and halfPixelCenters = false: 'asymmetric'.
  const scales = g.floatConst(`${call.name}/scales`, [4], Float32Array.of(1, 1, sh, sw));
  return g.node('Resize', [input(call), '', scales], call.name, {
    mode: interpolation === 'nearest' ? 'nearest' : 'linear',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
};

const concatenate: Converter = (g, call) =>
  g.node('Concat', [...call.inputs], call.name, {
    axis: nchwAxis(call, get<number>(call, 'axis') ?? -1),
  });

function elementwise(op: 'Sum' | 'Mul' | 'Max' | 'Min' | 'Mean'): Converter {
  return (g, call) => g.node(op, [...call.inputs], call.name);
}

const activationLayer: Converter = (g, call) =>
  activation(g, call, input(call), get<string>(call, 'activation') ?? 'linear');

const reluLayer: Converter = (g, call) => {
  const max = get<number | null>(call, 'max_value', 'maxValue');
  if (max === undefined || max === null) return g.node('Relu', [input(call)], call.name);
  return g.node(
    'Clip',
    [
      input(call),
      g.floatConst(`${call.name}/min`, [], Float32Array.of(0)),
      g.floatConst(`${call.name}/max`, [], Float32Array.of(max)),
    ],
    call.name,
  );
};

const leakyRelu: Converter = (g, call) =>
  g.node('LeakyRelu', [input(call)], call.name, {
    alpha: { float: get<number>(call, 'alpha') ?? 0.3 },
  });

const softmaxLayer: Converter = (g, call) =>
  g.node('Softmax', [input(call)], call.name, {
    axis: nchwAxis(call, get<number>(call, 'axis') ?? -1),
  });

function padding2d(call: LayerCall, key: string): [[number, number], [number, number]] {
  const p = get<number | number[] | number[][]>(call, key) ?? 1;
  if (typeof p === 'number')
    return [
      [p, p],
      [p, p],
    ];
  const [a, b] = p as (number | number[])[];
  const one = (v: number | number[] | undefined): [number, number] =>
    typeof v === 'number' ? [v, v] : [v?.[0] ?? 0, v?.[1] ?? 0];
  return [one(a), one(b)];
}

const zeroPadding: Converter = (g, call) => {
  requireChannelsLast(call);
  const [[t, b], [l, r]] = padding2d(call, 'padding');
  const pads = g.int64Const(`${call.name}/pads`, [0, 0, t, l, 0, 0, b, r]);
  return g.node('Pad', [input(call), pads], call.name, { mode: 'constant' });
};

const cropping: Converter = (g, call) => {
  requireChannelsLast(call);
  const [[t, b], [l, r]] = padding2d(call, 'cropping');
  const end = (v: number): number => (v === 0 ? Number.MAX_SAFE_INTEGER : -v);
  return g.node(
    'Slice',
    [
      input(call),
      g.int64Const(`${call.name}/starts`, [t, l]),
      g.int64Const(`${call.name}/ends`, [end(b), end(r)]),
      g.int64Const(`${call.name}/axes`, [2, 3]),
    ],
    call.name,
  );
};

const identity: Converter = (g, call) => g.node('Identity', [input(call)], call.name);

/** Converters by tfjs class name. */
export const CONVERTERS: Readonly<Record<string, Converter>> = {
  Conv2D: conv2d,
  Conv2DTranspose: conv2dTranspose,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  BatchNormalization: batchNorm,
  UpSampling2D: upSampling,
  Concatenate: concatenate,
  Add: elementwise('Sum'),
  Multiply: elementwise('Mul'),
  Maximum: elementwise('Max'),
  Minimum: elementwise('Min'),
  Average: elementwise('Mean'),
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyRelu,
  Softmax: softmaxLayer,
  ZeroPadding2D: zeroPadding,
  Cropping2D: cropping,
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};
