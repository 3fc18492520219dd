/**
 * Static int8 quantisation of the float ONNX graphs dentseg writes, in the QDQ format:
 * every quantised activation passes through a QuantizeLinear → DequantizeLinear pair and
 * every quantised convolution reads its weights (int8, per output channel, symmetric) and
 * bias (int32) through DequantizeLinear. ONNX Runtime recognises the pattern
 * DQ → Conv(→Relu) → Q and runs it as one integer kernel (QLinearConv), DQ → Add(→Relu) → Q
 * as QLinearAdd, and drops the pairs around MaxPool, nearest Resize and layout ops when input
 * and output share a scale. Platform-free: it
 * works on decoded model objects; the calibration that supplies the ranges runs elsewhere.
 */
import { DataType, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';

/** A tensor's value range observed during calibration, `[min, max]`. */
export type Range = readonly [min: number, max: number];

/** Affine uint8 parameters of one activation tensor: `x ≈ scale · (q − zeroPoint)`. */
export interface ActivationQuant {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** What {@link planQuantisation} decided: which tensors and convolutions become int8. */
export interface QuantisationPlan {
  /** Activation tensors that get a Q/DQ pair, in graph order. */
  readonly tensors: readonly string[];
  /** Tensors whose range is their input's (MaxPool, Resize): output → input. */
  readonly tied: ReadonlyMap<string, string>;
  /** Names of the Conv nodes computed in int8. */
  readonly convs: readonly string[];
  /** Names of the Conv nodes kept in float32 (the last `floatTail` convolutions). */
  readonly floatConvs: readonly string[];
}

/** Operators whose activation inputs and outputs are quantised. */
const QUANTISED_OPS = new Set(['Conv', 'MaxPool', 'Resize', 'Concat', 'Add', 'DepthToSpace']);
/** Operators whose output values are a subset of their input's: the output shares its scale. */
const PASS_THROUGH = new Set(['MaxPool', 'Resize', 'DepthToSpace', 'Transpose', 'Reshape']);
/**
 * Layout ops, quantised only where their input already is (the sub-pixel interleave of
 * subpixel.ts), so the graph's float input and output Transposes stay float.
 */
const LAYOUT_OPS = new Set(['Transpose', 'Reshape']);

function floats(t: OnnxTensor): Float32Array {
  if (t.data_type !== DataType.FLOAT || !t.raw_data)
    throw new Error(`internal: initializer ${t.name} is not raw float32`);
  // Copy (a Buffer.slice would not): a decoded raw_data may sit at an odd offset.
  return new Float32Array(new Uint8Array(t.raw_data).buffer);
}

function rawOf(data: Float32Array | Int8Array | Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

function attrInt(node: OnnxNode, name: string): number | undefined {
  return node.attribute.find((a) => a.name === name)?.i;
}
function attrFloat(node: OnnxNode, name: string): number | undefined {
  return node.attribute.find((a) => a.name === name)?.f;
}

class GraphIndex {
  readonly inits = new Map<string, OnnxTensor>();
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly outputs: Set<string>;

  constructor(readonly model: OnnxModel) {
    for (const t of model.graph.initializer) this.inits.set(t.name, t);
    for (const n of model.graph.node) {
      for (const o of n.output) this.producer.set(o, n);
      for (const i of n.input) {
        if (i === '') continue;
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
    }
    this.outputs = new Set(model.graph.output.map((o) => o.name));
  }

  only(tensor: string): OnnxNode | undefined {
    const list = this.consumers.get(tensor) ?? [];
    return list.length === 1 && !this.outputs.has(tensor) ? list[0] : undefined;
  }
}

const copyModel = (model: OnnxModel): OnnxModel => ({
  ...model,
  graph: {
    ...model.graph,
    node: model.graph.node.map((n) => ({ ...n, input: [...n.input], output: [...n.output] })),
    initializer: [...model.graph.initializer],
    output: [...model.graph.output],
  },
  metadata_props: [...model.metadata_props],
});

/**
 * Fold every BatchNormalization that is the only consumer of a Conv into that Conv's
 * weights and bias (inference statistics), so the folded weights are what gets quantised.
 * Returns a new model; the input is not changed.
 */
export function foldBatchNorm(model: OnnxModel): OnnxModel {
  const m = copyModel(model);
  const g = new GraphIndex(m);
  const drop = new Set<OnnxNode>();
  const dropInits = new Set<string>();
  for (const bn of m.graph.node) {
    if (bn.op_type !== 'BatchNormalization') continue;
    const conv = g.producer.get(bn.input[0] ?? '');
    if (conv?.op_type !== 'Conv' || g.only(bn.input[0] ?? '') !== bn) continue;
    const w = g.inits.get(conv.input[1] ?? '');
    const params = bn.input.slice(1, 5).map((n) => g.inits.get(n));
    if (!w || params.some((p) => p === undefined) || (attrInt(conv, 'group') ?? 1) !== 1) continue;
    const [gamma, beta, mean, variance] = params.map((p) => floats(p!)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const eps = attrFloat(bn, 'epsilon') ?? 1e-5;
    const weights = floats(w);
    const cout = w.dims[0] ?? 0;
    const per = weights.length / cout;
    const biasInit = conv.input[2] ? g.inits.get(conv.input[2]) : undefined;
    const bias = biasInit ? floats(biasInit) : new Float32Array(cout);
    for (let c = 0; c < cout; c++) {
      const k = gamma[c]! / Math.sqrt(variance[c]! + eps);
      for (let j = 0; j < per; j++) weights[c * per + j]! *= k;
      bias[c] = (bias[c]! - mean[c]!) * k + beta[c]!;
    }
    const wName = `${w.name}/folded`;
    const bName = `${conv.name}/bias_folded`;
    m.graph.initializer.push(
      { name: wName, dims: [...w.dims], data_type: DataType.FLOAT, raw_data: rawOf(weights) },
      { name: bName, dims: [cout], data_type: DataType.FLOAT, raw_data: rawOf(bias) },
    );
    dropInits.add(w.name);
    if (biasInit) dropInits.add(biasInit.name);
    for (const p of bn.input.slice(1)) dropInits.add(p);
    conv.input[1] = wName;
    conv.input[2] = bName;
    conv.output[0] = bn.output[0] ?? '';
    drop.add(bn);
  }
  m.graph.node = m.graph.node.filter((n) => !drop.has(n));
  m.graph.initializer = m.graph.initializer.filter((t) => !dropInits.has(t.name));
  return m;
}

/**
 * Decide what becomes int8 in a (BN-folded, maybe sub-pixel split) graph: every Conv but
 * the last `floatTail`, every MaxPool, Resize, Concat, Add and DepthToSpace, and the
 * Transposes and Reshapes of quantised tensors; their activation inputs and outputs get
 * Q/DQ pairs. A Conv or Add followed only by Relu is quantised after the Relu (ORT then
 * folds the Relu into the uint8 range, zero point 0).
 */
export function planQuantisation(model: OnnxModel, floatTail: number): QuantisationPlan {
  const g = new GraphIndex(model);
  const allConvs = model.graph.node.filter((n) => n.op_type === 'Conv');
  const floatConvs = new Set(allConvs.slice(Math.max(allConvs.length - floatTail, 0)));
  const tensors: string[] = [];
  const seen = new Set<string>();
  const add = (t: string): void => {
    if (t === '' || g.inits.has(t) || seen.has(t)) return;
    seen.add(t);
    tensors.push(t);
  };
  const tied = new Map<string, string>();
  for (const n of model.graph.node) {
    const layout = LAYOUT_OPS.has(n.op_type) && seen.has(n.input[0] ?? '');
    if (!(QUANTISED_OPS.has(n.op_type) || layout) || floatConvs.has(n)) continue;
    // Resize's scales and Reshape's shape are inputs too, but not activations.
    const activations = n.op_type === 'Resize' || layout ? n.input.slice(0, 1) : n.input;
    for (const t of activations) add(t);
    let out = n.output[0] ?? '';
    const next = g.only(out);
    if ((n.op_type === 'Conv' || n.op_type === 'Add') && next?.op_type === 'Relu')
      out = next.output[0] ?? '';
    add(out);
    if (PASS_THROUGH.has(n.op_type)) tied.set(out, n.input[0] ?? '');
  }
  // Tensors are listed by first use; the producers run in graph order, so sort by that.
  const order = new Map<string, number>();
  model.graph.node.forEach((n, i) => n.output.forEach((o) => order.set(o, i)));
  tensors.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
  return {
    tensors,
    tied,
    convs: allConvs.filter((n) => !floatConvs.has(n)).map((n) => n.name),
    floatConvs: [...floatConvs].map((n) => n.name),
  };
}

/** The model with `tensors` added as float outputs, so a runtime can report their values. */
export function withTensorOutputs(model: OnnxModel, tensors: readonly string[]): OnnxModel {
  const m = copyModel(model);
  const have = new Set(m.graph.output.map((o) => o.name));
  for (const name of tensors)
    if (!have.has(name))
      m.graph.output.push({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } });
  return m;
}

/** uint8 affine parameters covering `range` (widened to include 0, as ONNX requires). */
export function activationQuant([min, max]: Range): ActivationQuant {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0, lo + 1e-6);
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** Per-output-channel symmetric int8 weights: `w ≈ scale[c] · q`, q in −127…127. */
export function quantiseWeights(
  weights: Float32Array,
  cout: number,
): { q: Int8Array; scales: Float32Array } {
  const per = weights.length / cout;
  const q = new Int8Array(weights.length);
  const scales = new Float32Array(cout);
  for (let c = 0; c < cout; c++) {
    let m = 0;
    for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(weights[c * per + j]!));
    const s = m > 0 ? m / 127 : 1;
    scales[c] = s;
    for (let j = 0; j < per; j++) {
      const v = Math.round(weights[c * per + j]! / s);
      q[c * per + j] = Math.max(-127, Math.min(127, v));
    }
  }
  return { q, scales };
}

/**
 * Insert the Q/DQ pairs of `plan` into a BN-folded float model, with activation ranges
 * from calibration (`ranges` by tensor name; a tied tensor takes its input's). Conv weights
 * become int8 initializers and biases int32, each read through a DequantizeLinear.
 */
export function quantiseModel(
  model: OnnxModel,
  plan: QuantisationPlan,
  ranges: ReadonlyMap<string, Range>,
): OnnxModel {
  const m = copyModel(model);
  const g = new GraphIndex(m);
  const quant = new Map<string, ActivationQuant>();
  for (const t of plan.tensors) {
    let src = t;
    for (let hops = 0; plan.tied.has(src) && hops < 100; hops++) src = plan.tied.get(src)!;
    const r = ranges.get(src);
    if (!r) throw new Error(`internal: no calibration range for tensor ${src}`);
    quant.set(t, activationQuant(r));
  }
  const inits = m.graph.initializer;
  const scalarFloat = (name: string, v: number): string => {
    inits.push({
      name,
      dims: [],
      data_type: DataType.FLOAT,
      raw_data: rawOf(Float32Array.of(v)),
    });
    return name;
  };
  const tensor = (
    name: string,
    dims: number[],
    type: number,
    data: Float32Array | Int8Array | Uint8Array | Int32Array,
  ): string => {
    inits.push({ name, dims, data_type: type, raw_data: rawOf(data) });
    return name;
  };
  const qp = new Map<string, { scale: string; zp: string }>();
  for (const [t, a] of quant) {
    qp.set(t, {
      scale: scalarFloat(`${t}/scale`, a.scale),
      zp: tensor(`${t}/zero_point`, [], DataType.UINT8, Uint8Array.of(a.zeroPoint)),
    });
  }
  const node = (op: string, name: string, input: string[], output: string, axis?: number) => ({
    name,
    op_type: op,
    input,
    output: [output],
    attribute: axis === undefined ? [] : [{ name: 'axis', type: 2, i: axis }],
  });
  const convs = new Set(plan.convs);
  const out: OnnxNode[] = [];
  const quantiseAfter = (t: string): void => {
    const p = qp.get(t);
    if (p) out.push(node('QuantizeLinear', `${t}/Q`, [t, p.scale, p.zp], `${t}/quantized`));
  };
  for (const t of m.graph.input) quantiseAfter(t.name);
  let dqCount = 0;
  for (const n of m.graph.node) {
    const x = quant.get(n.input[0] ?? ''); // before the DQ renames it
    n.input.forEach((t, i) => {
      // Every consumer reads through a DQ, float ones too: ORT fuses a Conv into its
      // integer kernel only when the Q is the sole consumer of the Conv's output.
      const p = qp.get(t);
      if (!p || g.inits.has(t)) return;
      const name = `${t}/dq${++dqCount}`;
      out.push(node('DequantizeLinear', `${name}/DQ`, [`${t}/quantized`, p.scale, p.zp], name));
      n.input[i] = name;
    });
    if (n.op_type === 'Conv' && convs.has(n.name)) {
      const w = g.inits.get(n.input[1] ?? '');
      if (!w || !x) throw new Error(`internal: Conv ${n.name} has no weights or input range`);
      const cout = w.dims[0] ?? 0;
      const { q, scales } = quantiseWeights(floats(w), cout);
      const wq = tensor(`${w.name}/int8`, [...w.dims], DataType.INT8, q);
      const ws = tensor(`${w.name}/scales`, [cout], DataType.FLOAT, scales);
      const wz = tensor(`${w.name}/zero_points`, [cout], DataType.INT8, new Int8Array(cout));
      out.push(node('DequantizeLinear', `${w.name}/DQ`, [wq, ws, wz], `${w.name}/dq`, 0));
      n.input[1] = `${w.name}/dq`;
      const b = n.input[2] ? g.inits.get(n.input[2]) : undefined;
      if (b) {
        const bias = floats(b);
        const bScales = scales.map((s) => s * x.scale);
        const bq = Int32Array.from(bias, (v, c) => Math.round(v / bScales[c]!));
        const bi = tensor(`${b.name}/int32`, [cout], DataType.INT32, bq);
        const bs = tensor(`${b.name}/scales`, [cout], DataType.FLOAT, bScales);
        const bz = tensor(`${b.name}/zero_points`, [cout], DataType.INT32, new Int32Array(cout));
        out.push(node('DequantizeLinear', `${b.name}/DQ`, [bi, bs, bz], `${b.name}/dq`, 0));
        n.input[2] = `${b.name}/dq`;
      }
    }
    out.push(n);
    for (const t of n.output) quantiseAfter(t);
  }
  m.graph.node = out;
  // The float weights of quantised convolutions are no longer read: drop them.
  const used = new Set(out.flatMap((n) => n.input));
  m.graph.initializer = inits.filter((t) => used.has(t.name));
  return m;
}
