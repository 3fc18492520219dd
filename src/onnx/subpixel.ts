/**
 * A graph rewrite for ONNX Runtime's sake: the U-Net decoder's nearest ×2 upsampling, the
 * concatenation with the skip tensor and the convolution after them become one convolution
 * per concatenated part, summed. The upsampled part's convolution runs on the small tensor
 * with 4× the output channels, followed by DepthToSpace (sub-pixel convolution), which is
 * exactly a convolution over the nearest-upsampled tensor (same zero padding) and never
 * materialises the full-size upsampled or concatenated tensor. In the int8 graph this
 * removes ORT's uint8 Resize and QLinearConcat, which barely use a second thread
 * (bench/README.md, int8 section). Platform-free: works on decoded model objects.
 */
import { DataType, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';

/** What {@link splitDecoderConvs} changed, for the export record and the tests. */
export interface SubpixelReport {
  /** Names of the Conv nodes that were split. */
  readonly convs: readonly string[];
}

/** How the upsampled part of a split convolution is computed. */
export type UpsampledPart =
  /** On the small tensor with 4× the output channels, then DepthToSpace (the default). */
  | 'subpixel'
  /** Resize kept, the convolution over the upsampled tensor as before (for measurements). */
  | 'resize';

function floatsOf(t: OnnxTensor): Float32Array {
  if (t.data_type !== DataType.FLOAT || !t.raw_data)
    throw new Error(`internal: initializer ${t.name} is not raw float32`);
  return new Float32Array(new Uint8Array(t.raw_data).buffer);
}

const attr = (n: OnnxNode, name: string): OnnxNode['attribute'][number] | undefined =>
  n.attribute.find((a) => a.name === name);

const text = (n: OnnxNode, name: string): string | undefined => {
  const s = attr(n, name)?.s;
  return s === undefined ? undefined : new TextDecoder().decode(s);
};

/** Per-axis pad of a stride-1, dilation-1, ungrouped Conv with odd kernel and 'same' pads. */
function samePads(conv: OnnxNode, w: OnnxTensor): [number, number] | undefined {
  const [, , kh, kw] = w.dims as [number, number, number, number];
  const ones = (name: string): boolean => (attr(conv, name)?.ints ?? [1, 1]).every((v) => v === 1);
  if (!ones('strides') || !ones('dilations') || (attr(conv, 'group')?.i ?? 1) !== 1) return;
  if (text(conv, 'auto_pad') !== undefined && text(conv, 'auto_pad') !== 'NOTSET') return;
  const [t, l, b, r] = attr(conv, 'pads')?.ints ?? [0, 0, 0, 0];
  if (kh % 2 !== 1 || kw % 2 !== 1) return;
  const ph = (kh - 1) / 2;
  const pw = (kw - 1) / 2;
  return t === ph && b === ph && l === pw && r === pw ? [ph, pw] : undefined;
}

/**
 * The sub-pixel kernel of a `[cout, cin, kh, kw]` kernel with 'same' pads `[ph, pw]`:
 * `[4·cout, cin, 2qh+1, 2qw+1]` with `q = ⌈p/2⌉`, output channel `(py·2 + px)·cout + o`
 * holding phase (py, px) as DepthToSpace's DCR order reads it. Full-size row `2i + py + d − p`
 * of the upsampled tensor is row `⌊(py + d − p)/2⌋ + i` of the small one, and both sides
 * pad with zeros exactly where the other does.
 */
export function subpixelKernel(
  w: Float32Array,
  dims: readonly [number, number, number, number],
  pads: readonly [number, number],
): { data: Float32Array; dims: [number, number, number, number]; pads: [number, number] } {
  const [cout, cin, kh, kw] = dims;
  const [ph, pw] = pads;
  const qh = Math.ceil(ph / 2);
  const qw = Math.ceil(pw / 2);
  const sh = 2 * qh + 1;
  const sw = 2 * qw + 1;
  const out = new Float32Array(4 * cout * cin * sh * sw);
  for (let py = 0; py < 2; py++)
    for (let px = 0; px < 2; px++)
      for (let o = 0; o < cout; o++) {
        const oc = (py * 2 + px) * cout + o;
        for (let i = 0; i < cin; i++)
          for (let dy = 0; dy < kh; dy++) {
            const ty = Math.floor((py + dy - ph) / 2) + qh;
            for (let dx = 0; dx < kw; dx++) {
              const tx = Math.floor((px + dx - pw) / 2) + qw;
              out[((oc * cin + i) * sh + ty) * sw + tx]! += w[((o * cin + i) * kh + dy) * kw + dx]!;
            }
          }
      }
  return { data: out, dims: [4 * cout, cin, sh, sw], pads: [qh, qw] };
}

/** A tensor's static NCHW size, where the graph fixes it. */
interface Chw {
  readonly c: number | undefined;
  readonly h: number | undefined;
  readonly w: number | undefined;
}

/** Output length of a window op (Conv, pooling) along one axis, or undefined when not static. */
function windowed(
  n: OnnxNode,
  size: number | undefined,
  axis: 0 | 1,
  k: number,
): number | undefined {
  if (size === undefined) return undefined;
  const autoPad = text(n, 'auto_pad');
  if (autoPad !== undefined && autoPad !== 'NOTSET') return undefined;
  const pads = attr(n, 'pads')?.ints ?? [0, 0, 0, 0];
  const s = attr(n, 'strides')?.ints?.[axis] ?? 1;
  const d = attr(n, 'dilations')?.ints?.[axis] ?? 1;
  const span = (k - 1) * d + 1;
  return Math.floor((size + (pads[axis] ?? 0) + (pads[axis + 2] ?? 0) - span) / s) + 1;
}

/**
 * Channels and spatial size of every tensor that follows from the graph input's static NHWC
 * shape through the ops the exporter writes; unknown (undefined) past anything else.
 */
function staticShapes(model: OnnxModel): Map<string, Chw> {
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const shapes = new Map<string, Chw>();
  const value = (
    d: { dim_value: number } | { dim_param: string } | undefined,
  ): number | undefined => (d && 'dim_value' in d ? d.dim_value : undefined);
  const nhwc = new Map<string, Chw>();
  for (const input of model.graph.input) {
    const dims = input.type.tensor_type.shape?.dim ?? [];
    nhwc.set(input.name, { c: value(dims[3]), h: value(dims[1]), w: value(dims[2]) });
  }
  const unknown: Chw = { c: undefined, h: undefined, w: undefined };
  for (const n of model.graph.node) {
    const x = shapes.get(n.input[0] ?? '') ?? unknown;
    let y: Chw = x; // element-wise ops, activations, batch norm: shape unchanged
    if (n.op_type === 'Transpose') {
      const perm = (attr(n, 'perm')?.ints ?? []).join();
      y = perm === '0,3,1,2' ? (nhwc.get(n.input[0] ?? '') ?? unknown) : unknown;
    } else if (n.op_type === 'Conv') {
      const dims = inits.get(n.input[1] ?? '')?.dims ?? [];
      const [kh, kw] = [dims[2] ?? 1, dims[3] ?? 1];
      y = { c: dims[0], h: windowed(n, x.h, 0, kh), w: windowed(n, x.w, 1, kw) };
    } else if (n.op_type === 'MaxPool' || n.op_type === 'AveragePool') {
      const [kh, kw] = attr(n, 'kernel_shape')?.ints ?? [1, 1];
      y = { c: x.c, h: windowed(n, x.h, 0, kh ?? 1), w: windowed(n, x.w, 1, kw ?? 1) };
    } else if (n.op_type === 'Resize') {
      const up = isNearestUp2(n, inits);
      const twice = (v: number | undefined): number | undefined => (up && v ? 2 * v : undefined);
      y = { c: x.c, h: twice(x.h), w: twice(x.w) };
    } else if (n.op_type === 'Concat') {
      const parts = n.input.map((t) => shapes.get(t)?.c);
      const c = parts.every((p) => p !== undefined)
        ? parts.reduce((a, b) => a! + b!, 0)
        : undefined;
      y = (attr(n, 'axis')?.i ?? 0) === 1 ? { ...x, c } : unknown;
    } else if (n.op_type === 'DepthToSpace' || n.op_type === 'Reshape') y = unknown;
    shapes.set(n.output[0] ?? '', y);
  }
  return shapes;
}

/** True for the exporter's UpSampling2D 'nearest' ×2: Resize nearest/asymmetric/floor, scales [1,1,2,2]. */
function isNearestUp2(n: OnnxNode, inits: ReadonlyMap<string, OnnxTensor>): boolean {
  if (n.op_type !== 'Resize' || text(n, 'mode') !== 'nearest') return false;
  if (text(n, 'coordinate_transformation_mode') !== 'asymmetric') return false;
  if ((text(n, 'nearest_mode') ?? 'round_prefer_floor') !== 'floor') return false;
  if ((n.input[1] ?? '') !== '' || n.input.length > 3) return false;
  const scales = inits.get(n.input[2] ?? '');
  if (!scales) return false;
  return floatsOf(scales).join() === '1,1,2,2';
}

/**
 * Split every ungrouped stride-1 'same' Conv whose input is a Concat (axis 1, read by
 * nothing else) having a nearest ×2 Resize among its inputs (or whose input is such a Resize
 * directly): one Conv per part, summed with Add, the Conv's bias on the first part. With
 * `upsampled: 'subpixel'` an upsampled part's Conv reads the Resize's input with the
 * {@link subpixelKernel} and an interleave brings it to full size (NHWC Reshape/Transpose
 * where the sizes are static, else DepthToSpace, blocksize 2, DCR); a stage where that
 * kernel would add more weights than the upsampled tensor has elements is left as it was.
 * Outputs equal the plain graph's up to float rounding. Returns a new model.
 */
export function splitDecoderConvs(
  model: OnnxModel,
  upsampled: UpsampledPart = 'subpixel',
): { model: OnnxModel; report: SubpixelReport } {
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const producer = new Map<string, OnnxNode>();
  const readers = new Map<string, number>();
  for (const n of model.graph.node) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  for (const o of model.graph.output) readers.set(o.name, (readers.get(o.name) ?? 0) + 1);
  const soleReader = (t: string): boolean => readers.get(t) === 1;
  const shapes = staticShapes(model);
  const used = new Set([
    ...model.graph.node.flatMap((n) => [n.name, ...n.output]),
    ...model.graph.initializer.map((t) => t.name),
  ]);
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const newInits: OnnxTensor[] = [];
  const int64Init = (base: string, values: number[]): string => {
    const name = unique(base);
    newInits.push({ name, dims: [values.length], data_type: DataType.INT64, int64_data: values });
    return name;
  };
  const floatInit = (base: string, dims: number[], data: Float32Array): string => {
    const name = unique(base);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    newInits.push({ name, dims, data_type: DataType.FLOAT, raw_data: raw });
    return name;
  };
  const dropped = new Set<OnnxNode>();
  const replaced = new Map<OnnxNode, OnnxNode[]>();
  const convs: string[] = [];

  for (const conv of model.graph.node) {
    if (conv.op_type !== 'Conv') continue;
    const w = inits.get(conv.input[1] ?? '');
    const src = producer.get(conv.input[0] ?? '');
    if (!w || !src || !soleReader(conv.input[0] ?? '')) continue;
    const pads = samePads(conv, w);
    if (!pads) continue;
    const concat = src.op_type === 'Concat' && (attr(src, 'axis')?.i ?? 0) === 1;
    const parts = concat ? src.input : [conv.input[0] ?? ''];
    const isUp = (t: string): boolean => {
      const p = producer.get(t);
      return p !== undefined && soleReader(t) && isNearestUp2(p, inits);
    };
    if (!concat && src.op_type !== 'Resize') continue;
    const counts = parts.map((t) => shapes.get(t)?.c);
    const [cout, cin, kh, kw] = w.dims as [number, number, number, number];
    if (counts.some((c) => c === undefined) || counts.reduce((a, b) => a! + b!, 0) !== cin)
      continue;
    // The sub-pixel kernel has 4·(2⌈p/2⌉+1)² taps per channel pair where the Conv had k²
    // (36 against 9 for 3×3): worth it where the weights it adds are fewer than the
    // full-size elements it saves per forward. A deep, wide and small stage (the first
    // decoder stage) keeps its Resize and Concat, so the int8 file stays small to download.
    const subpixel = (t: string): boolean => {
      if (upsampled !== 'subpixel' || !isUp(t)) return false;
      const { h, w: width } = shapes.get(producer.get(t)!.input[0] ?? '') ?? {};
      if (h === undefined || width === undefined) return true;
      const [ph, pw] = pads;
      const grown = 4 * (2 * Math.ceil(ph / 2) + 1) * (2 * Math.ceil(pw / 2) + 1) - kh * kw;
      return cout * grown <= 4 * h * width;
    };
    if (!parts.some(upsampled === 'subpixel' ? subpixel : isUp)) continue;

    const weights = floatsOf(w);
    const bias = conv.input[2] ? inits.get(conv.input[2]) : undefined;
    const nodes: OnnxNode[] = [];
    const node = (
      op: string,
      input: string[],
      base: string,
      attribute: OnnxNode['attribute'] = [],
    ): string => {
      const output = unique(base);
      nodes.push({
        name: unique(`${base}/${op}`),
        op_type: op,
        input,
        output: [output],
        attribute,
      });
      return output;
    };
    /**
     * DepthToSpace (DCR, blocksize 2) written as NHWC Reshape → Transpose → Reshape between
     * a Transpose pair: ORT runs the quantised convolutions in NHWC and its transpose
     * optimiser cancels the pair against its own layout transposes, leaving one uint8
     * Transpose, where a DepthToSpace node costs a transpose to NCHW and back as well.
     */
    const interleaveNhwc = (
      add: typeof node,
      y: string,
      base: string,
      [c, h, w]: [number, number, number],
    ): string => {
      const perm = (p: number[]): OnnxNode['attribute'] => [{ name: 'perm', type: 7, ints: p }];
      const a = add('Transpose', [y], `${base}/nhwc`, perm([0, 2, 3, 1]));
      const b = add(
        'Reshape',
        [a, int64Init(`${base}/phases`, [0, h, w, 2, 2, c])],
        `${base}/phases`,
      );
      const d = add('Transpose', [b], `${base}/interleave`, perm([0, 1, 3, 2, 4, 5]));
      const e = add(
        'Reshape',
        [d, int64Init(`${base}/full`, [0, 2 * h, 2 * w, c])],
        `${base}/full`,
      );
      return add('Transpose', [e], `${base}/nchw`, perm([0, 3, 1, 2]));
    };
    const convAttrs = (k: [number, number], p: [number, number]): OnnxNode['attribute'] => [
      { name: 'kernel_shape', type: 7, ints: [...k] },
      { name: 'strides', type: 7, ints: [1, 1] },
      { name: 'dilations', type: 7, ints: [1, 1] },
      { name: 'group', type: 2, i: 1 },
      { name: 'pads', type: 7, ints: [p[0], p[1], p[0], p[1]] },
    ];
    const sums: string[] = [];
    let c0 = 0;
    parts.forEach((t, j) => {
      const cj = counts[j]!;
      // This part's input channels of the kernel: [cout, cj, kh, kw].
      const slice = new Float32Array(cout * cj * kh * kw);
      const per = kh * kw;
      for (let o = 0; o < cout; o++)
        slice.set(weights.subarray((o * cin + c0) * per, (o * cin + c0 + cj) * per), o * cj * per);
      c0 += cj;
      const base = `${conv.name}/part${j}`;
      const withBias = j === 0 && bias !== undefined;
      if (subpixel(t)) {
        const small = producer.get(t)!.input[0] ?? '';
        const sp = subpixelKernel(slice, [cout, cj, kh, kw], pads);
        const inputs = [small, floatInit(`${base}/kernel`, sp.dims, sp.data)];
        if (withBias) {
          const b = floatsOf(bias);
          const tiled = new Float32Array(4 * cout);
          for (let k = 0; k < 4; k++) tiled.set(b, k * cout);
          inputs.push(floatInit(`${base}/bias`, [4 * cout], tiled));
        }
        const y = node(
          'Conv',
          inputs,
          `${base}/subpixel`,
          convAttrs([sp.dims[2], sp.dims[3]], sp.pads),
        );
        const { h, w } = shapes.get(small) ?? { h: undefined, w: undefined };
        sums.push(
          h !== undefined && w !== undefined
            ? interleaveNhwc(node, y, base, [cout, h, w])
            : node('DepthToSpace', [y], `${base}/d2s`, [
                { name: 'blocksize', type: 2, i: 2 },
                { name: 'mode', type: 3, s: new TextEncoder().encode('DCR') },
              ]),
        );
        dropped.add(producer.get(t)!);
      } else {
        const inputs = [t, floatInit(`${base}/kernel`, [cout, cj, kh, kw], slice)];
        if (withBias) inputs.push(conv.input[2] ?? '');
        sums.push(node('Conv', inputs, `${base}/conv`, convAttrs([kh, kw], pads)));
      }
    });
    let acc = sums[0]!;
    for (let k = 1; k < sums.length; k++) {
      const last = k === sums.length - 1;
      const out = last ? (conv.output[0] ?? '') : unique(`${conv.name}/sum${k}`);
      nodes.push({
        name: unique(`${conv.name}/sum${k}/Add`),
        op_type: 'Add',
        input: [acc, sums[k]!],
        output: [out],
        attribute: [],
      });
      acc = out;
    }
    // A single part (Resize straight into the Conv): its output takes the Conv's name.
    if (sums.length === 1) nodes[nodes.length - 1]!.output[0] = conv.output[0] ?? '';
    if (concat) dropped.add(src);
    replaced.set(conv, nodes);
    convs.push(conv.name);
  }

  const node: OnnxNode[] = [];
  for (const n of model.graph.node) {
    if (dropped.has(n)) continue;
    node.push(...(replaced.get(n) ?? [n]));
  }
  // Nodes must stay topologically sorted: a part's Conv may read a tensor produced after the
  // dropped Resize/Concat but before the Conv, and the split nodes sit where the Conv was.
  const initializer = [...model.graph.initializer, ...newInits];
  const read = new Set(node.flatMap((n) => n.input));
  return {
    model: {
      ...model,
      graph: { ...model.graph, node, initializer: initializer.filter((t) => read.has(t.name)) },
    },
    report: { convs },
  };
}
