/**
 * A small builder for ONNX graphs: unique tensor names, nodes with typed attributes and
 * initializers from typed arrays. The layer converters (layers.ts) only talk to this.
 */
import {
  AttributeType,
  DataType,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
} from './proto.js';

/** Attribute values a node accepts; arrays of integers become INTS, of non-integers FLOATS. */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

function toAttribute(name: string, value: AttrValue): OnnxAttribute {
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly #used = new Set<string>();

  /** A tensor or node name not used before, derived from `base`. */
  unique(base: string): string {
    let name = base;
    for (let k = 1; this.#used.has(name); k++) name = `${base}_${k}`;
    this.#used.add(name);
    return name;
  }

  /** Reserve a name (graph input) so nothing else takes it. */
  reserve(name: string): string {
    this.#used.add(name);
    return name;
  }

  /**
   * Add a node computing `op(inputs)` and return its output's name (named after `base`).
   * Empty input names stand for omitted optional inputs.
   */
  node(op: string, inputs: string[], base: string, attrs: Record<string, AttrValue> = {}): string {
    const output = this.unique(base);
    this.nodes.push({
      name: this.unique(`${base}/${op}`),
      op_type: op,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return output;
  }

  /** A float32 initializer; returns its name. */
  floatConst(base: string, dims: number[], data: Float32Array): string {
    const name = this.unique(base);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // protobufjs keeps a reference: copy so later edits of `data` cannot change the model.
    this.initializers.push({ name, dims, data_type: DataType.FLOAT, raw_data: bytes.slice() });
    return name;
  }

  /** An int64 initializer (shapes, pads, axes); returns its name. */
  int64Const(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.push({
      name,
      dims: [values.length],
      data_type: DataType.INT64,
      int64_data: values,
    });
    return name;
  }
}

/**
 * Reorder a tfjs kernel `[kh, kw, a, b]` to ONNX's `[b, a, kh, kw]` (Conv: a = in, b = out;
 * ConvTranspose: a = out, b = in, which is exactly ONNX's `[C_in, C_out, kH, kW]`).
 */
export function kernelToOnnx(
  data: Float32Array,
  kh: number,
  kw: number,
  a: number,
  b: number,
): Float32Array {
  const out = new Float32Array(data.length);
  const k = kh * kw;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const spatial = y * kw + x;
      const srcBase = spatial * a * b;
      for (let i = 0; i < a; i++) {
        const src = srcBase + i * b;
        const dst = i * k + spatial;
        for (let o = 0; o < b; o++) out[o * a * k + dst] = data[src + o]!;
      }
    }
  }
  return out;
}
