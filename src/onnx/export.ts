/**
 * tfjs layers model → ONNX (opset 17). The graph keeps tfjs' NHWC interface (input
 * `[batch, h, w, c]`, output `[batch, h, w, k]` probabilities) and computes in NCHW inside:
 * one Transpose after the input and one before the output, which ONNX Runtime folds into
 * its own blocked layout. Batch is always symbolic; spatial size is fixed to the model's
 * input size unless `dynamicSize` asks for symbolic height and width.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { DentsegError } from '../errors.js';
import { VERSION } from '../version.js';
import { GraphBuilder } from './graph.js';
import { ONNX_INPUT, ONNX_OUTPUT } from '../infer/onnx-io-names.js';
import { CONVERTERS, unsupported, type LayerCall } from './layers.js';
import { DataType, encodeModel, type OnnxDim, type OnnxValueInfo } from './proto.js';

/** ONNX operator set the exporter targets. */
export const ONNX_OPSET = 17;
/** ONNX IR version matching opset 17. */
export const ONNX_IR_VERSION = 8;

export interface OnnxExportOptions {
  /** Symbolic height/width (any size divisible by the network's total stride). Default false. */
  readonly dynamicSize?: boolean | undefined;
  /** Extra `metadata_props` (e.g. `dentseg.json`, `classes`, `preprocess`). */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** Graph name; default the tfjs model's name. */
  readonly graphName?: string | undefined;
}

type InboundRef = [string, number, number, unknown?];
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: InboundRef[][];
}
interface ModelJson {
  config: { layers: LayerJson[]; input_layers: InboundRef[]; output_layers: InboundRef[] };
}

interface TfjsLayerLike {
  readonly name: string;
  readonly weights: readonly {
    originalName: string;
    shape: number[];
    read(): { dataSync(): unknown };
  }[];
  readonly inboundNodes: readonly { inputShapes: unknown }[];
}

function shapesOf(value: unknown): (number | null)[][] {
  const v = value as (number | null)[] | (number | null)[][];
  return Array.isArray(v[0]) ? (v as (number | null)[][]) : [v as (number | null)[]];
}

const ref = (r: InboundRef): string => `${r[0]}:${r[1]}:${r[2]}`;

function valueInfo(name: string, dims: OnnxDim[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims } } } };
}

/**
 * Convert an in-memory tfjs layers model (functional or sequential, one 4-D image input,
 * one 4-D output) to ONNX bytes. Throws E_EXPORT_UNSUPPORTED naming the first layer that
 * has no ONNX equivalent.
 */
export function layersModelToOnnx(model: LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  const json = model.toJSON(undefined, false) as unknown as ModelJson;
  const cfg = json.config;
  if (!Array.isArray(cfg?.layers) || !Array.isArray(cfg.input_layers))
    throw new DentsegError('E_EXPORT_UNSUPPORTED', 'only functional tfjs models can be exported', {
      hint: 'build the model with tf.model({inputs, outputs}) (buildUnet does)',
    });
  if (cfg.input_layers.length !== 1 || cfg.output_layers.length !== 1)
    throw new DentsegError(
      'E_EXPORT_UNSUPPORTED',
      `the model has ${cfg.input_layers.length} inputs and ${cfg.output_layers.length} outputs; one image input and one output are exportable`,
    );
  const dynamicSize = options.dynamicSize ?? false;
  const g = new GraphBuilder();
  const names = new Map<string, string>();

  const inShape = model.inputs[0]?.shape ?? [];
  const outShape = model.outputs[0]?.shape ?? [];
  if (inShape.length !== 4 || outShape.length !== 4)
    throw new DentsegError(
      'E_EXPORT_UNSUPPORTED',
      `input shape [${inShape.join(',')}] / output shape [${outShape.join(',')}]: only 4-D NHWC images are exportable`,
    );
  const dim = (v: number | null, symbol: string): OnnxDim =>
    v === null || dynamicSize ? { dim_param: symbol } : { dim_value: v };
  const inputInfo = valueInfo(g.reserve(ONNX_INPUT), [
    { dim_param: 'batch' },
    dim(inShape[1] ?? null, 'height'),
    dim(inShape[2] ?? null, 'width'),
    { dim_value: inShape[3] ?? 1 },
  ]);
  g.reserve(ONNX_OUTPUT);

  for (const layer of cfg.layers) {
    const className = layer.class_name;
    if (className === 'InputLayer') {
      const nchw = g.node('Transpose', [ONNX_INPUT], `${layer.name}/nchw`, { perm: [0, 3, 1, 2] });
      names.set(`${layer.name}:0:0`, nchw);
      continue;
    }
    const convert = CONVERTERS[className];
    if (!convert) unsupported({ name: layer.name, className }, 'this layer type');
    const tfLayer = model.getLayer(layer.name) as unknown as TfjsLayerLike;
    const weights = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const v of tfLayer.weights) {
      const short = v.originalName.split('/').pop() ?? v.originalName;
      weights.set(short, { shape: [...v.shape], data: v.read().dataSync() as Float32Array });
    }
    layer.inbound_nodes.forEach((node, k) => {
      const inputs = node.map((r) => {
        const name = names.get(ref(r));
        if (name === undefined)
          unsupported({ name: layer.name, className }, `input ${r[0]} (not yet converted)`);
        return name;
      });
      const call: LayerCall = {
        name: k === 0 ? layer.name : `${layer.name}_${k}`,
        className,
        config: layer.config,
        inputs,
        inputShapes: shapesOf(tfLayer.inboundNodes[k]?.inputShapes),
        weights,
        dynamicSize,
      };
      for (const shape of call.inputShapes)
        if (shape.length !== 4) unsupported(call, `a ${shape.length}-D input`);
      names.set(`${layer.name}:${k}:0`, convert(g, call));
    });
  }

  const last = cfg.output_layers[0] as InboundRef;
  const lastName = names.get(ref(last));
  if (lastName === undefined) throw new Error(`internal: output ${last[0]} was not converted`);
  g.nodes.push({
    name: g.unique('output/nhwc'),
    op_type: 'Transpose',
    input: [lastName],
    output: [ONNX_OUTPUT],
    attribute: [{ name: 'perm', type: 7, ints: [0, 2, 3, 1] }],
  });
  const same = (i: number, symbol: string): OnnxDim =>
    dynamicSize && outShape[i] === inShape[i]
      ? { dim_param: symbol }
      : dim(outShape[i] ?? null, `out_${symbol}`);
  const outputInfo = valueInfo(ONNX_OUTPUT, [
    { dim_param: 'batch' },
    same(1, 'height'),
    same(2, 'width'),
    { dim_value: outShape[3] ?? 1 },
  ]);

  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'dentseg',
    producer_version: VERSION,
    doc_string:
      'U-Net segmentation of panoramic dental X-rays; NHWC float32 input, NHWC probabilities output.',
    graph: {
      name: options.graphName ?? model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [inputInfo],
      output: [outputInfo],
    },
    metadata_props: Object.entries({ layout: 'NHWC', ...(options.metadata ?? {}) }).map(
      ([key, value]) => ({ key, value }),
    ),
  });
}
