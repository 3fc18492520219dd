/**
 * The sub-pixel rewrite of the decoder (src/onnx/subpixel.ts) changes how ONNX Runtime
 * computes upsample → concat → conv, never what: every rewritten graph must give the plain
 * graph's outputs, on hand-built stages (kernel sizes, static and symbolic sizes) and on a
 * tiny U-Net as the exporter writes it.
 */
import * as ort from 'onnxruntime-node';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { layersModelToOnnx } from '../../src/onnx/index.js';
import { GraphBuilder } from '../../src/onnx/graph.js';
import { DataType, decodeModel, encodeModel, type OnnxModel } from '../../src/onnx/proto.js';
import { foldBatchNorm } from '../../src/onnx/quantize.js';
import { splitDecoderConvs, subpixelKernel } from '../../src/onnx/subpixel.js';
import { maxAbsDiff } from './helpers.js';
import { tinyModelFolder } from './tiny.js';

/** Deterministic pseudo-random values in [-1, 1). */
const noise = (n: number, seed: number): Float32Array =>
  new Float32Array(n).map((_, i) => Math.sin(i * 12.9898 + seed * 78.233) % 1);

interface Stage {
  /** Kernel size of the convolution after the concat (odd, 'same' pads). */
  readonly k: number;
  readonly cSmall: number;
  readonly cSkip: number;
  readonly cout: number;
  /** Full-size height and width of the stage (even). */
  readonly size: number;
  /** Symbolic height and width in the graph input. */
  readonly dynamic?: boolean;
}

/**
 * One U-Net decoder stage as the exporter writes it: NHWC input → Transpose → a skip Conv,
 * MaxPool → Conv (the small tensor) → Resize ×2 nearest → Concat(up, skip) → Conv → Relu.
 */
function stageModel(s: Stage): OnnxModel {
  const g = new GraphBuilder();
  g.reserve('input');
  const conv = (x: string, cin: number, cout: number, k: number, name: string): string =>
    g.node(
      'Conv',
      [
        x,
        g.floatConst(`${name}/w`, [cout, cin, k, k], noise(cout * cin * k * k, cout + k)),
        g.floatConst(`${name}/b`, [cout], noise(cout, 3)),
      ],
      name,
      { kernel_shape: [k, k], pads: Array(4).fill((k - 1) / 2), strides: [1, 1], group: 1 },
    );
  const x = g.node('Transpose', ['input'], 'nchw', { perm: [0, 3, 1, 2] });
  const skip = g.node('Relu', [conv(x, 2, s.cSkip, 3, 'skip')], 'skip_relu');
  const pooled = g.node('MaxPool', [x], 'pool', { kernel_shape: [2, 2], strides: [2, 2] });
  const small = g.node('Relu', [conv(pooled, 2, s.cSmall, 3, 'small')], 'small_relu');
  const scales = g.floatConst('scales', [4], Float32Array.of(1, 1, 2, 2));
  const up = g.node('Resize', [small, '', scales], 'up', {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  const cat = g.node('Concat', [up, skip], 'cat', { axis: 1 });
  const y = g.node('Relu', [conv(cat, s.cSmall + s.cSkip, s.cout, s.k, 'dec')], 'dec_relu');
  const dim = (v: number, p: string) => (s.dynamic ? { dim_param: p } : { dim_value: v });
  const info = (name: string, dims: ({ dim_value: number } | { dim_param: string })[]) => ({
    name,
    type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims } } },
  });
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'test',
    producer_version: '0',
    graph: {
      name: 'stage',
      node: g.nodes,
      initializer: g.initializers,
      input: [
        info('input', [{ dim_value: 1 }, dim(s.size, 'h'), dim(s.size, 'w'), { dim_value: 2 }]),
      ],
      output: [{ name: y, type: { tensor_type: { elem_type: DataType.FLOAT } } }],
    },
    metadata_props: [],
  };
}

async function run(model: OnnxModel, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, dims) });
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('sub-pixel split of upsample → concat → conv', () => {
  it.each([
    { k: 3, cSmall: 4, cSkip: 3, cout: 5, size: 16 },
    { k: 1, cSmall: 4, cSkip: 3, cout: 5, size: 16 },
    { k: 5, cSmall: 3, cSkip: 2, cout: 4, size: 16 },
    { k: 3, cSmall: 4, cSkip: 3, cout: 5, size: 16, dynamic: true },
  ])('gives the plain graph’s outputs: %o', async (stage) => {
    const plain = stageModel(stage);
    const { model, report } = splitDecoderConvs(plain);
    expect(report.convs).toEqual(['dec/Conv']);
    const ops = model.graph.node.map((n) => n.op_type);
    expect(ops).not.toContain('Resize');
    expect(ops).not.toContain('Concat');
    expect(ops).toContain('Add');
    // symbolic sizes cannot be written into a Reshape: DepthToSpace does the interleave
    expect(ops.includes('DepthToSpace')).toBe(stage.dynamic === true);
    const size = stage.dynamic ? 24 : stage.size; // a symbolic graph runs at any even size
    const dims = [1, size, size, 2];
    const x = noise(size * size * 2, 11);
    expect(maxAbsDiff(await run(model, x, dims), await run(plain, x, dims))).toBeLessThan(1e-5);
  });

  it("upsampled 'resize' splits the concat only, with the same outputs", async () => {
    const stage = { k: 3, cSmall: 4, cSkip: 3, cout: 5, size: 16 };
    const plain = stageModel(stage);
    const { model } = splitDecoderConvs(plain, 'resize');
    const ops = model.graph.node.map((n) => n.op_type);
    expect(ops).toContain('Resize');
    expect(ops).not.toContain('Concat');
    const x = noise(16 * 16 * 2, 4);
    const dims = [1, 16, 16, 2];
    expect(maxAbsDiff(await run(model, x, dims), await run(plain, x, dims))).toBeLessThan(1e-5);
  });

  it('leaves a stage alone where the larger kernel would outweigh the tensor it saves', () => {
    // 64 outputs · (36 − 9) extra taps = 1728 weights > 4 · 4 · 4 = 64 upsampled pixels
    const plain = stageModel({ k: 3, cSmall: 4, cSkip: 3, cout: 64, size: 8 });
    const { model, report } = splitDecoderConvs(plain);
    expect(report.convs).toEqual([]);
    expect(model.graph.node.map((n) => n.op_type)).toEqual(plain.graph.node.map((n) => n.op_type));
  });

  it('sub-pixel kernel of a 3×3: each phase sums the taps that land on the same small pixel', () => {
    // one channel in and out, taps 1…9 row by row
    const w = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const { data, dims, pads } = subpixelKernel(w, [1, 1, 3, 3], [1, 1]);
    expect(dims).toEqual([4, 1, 3, 3]);
    expect(pads).toEqual([1, 1]);
    const phase = (p: number): number[] => [...data.subarray(p * 9, p * 9 + 9)];
    // phase (0, 0): row −1 alone reads the row above, rows 0 and 1 read the pixel's own row
    expect(phase(0)).toEqual([1, 2 + 3, 0, 4 + 7, 5 + 6 + 8 + 9, 0, 0, 0, 0]);
    // phase (1, 1): rows −1 and 0 read the own row, row 1 the row below
    expect(phase(3)).toEqual([0, 0, 0, 0, 1 + 2 + 4 + 5, 3 + 6, 0, 7 + 8, 9]);
  });

  it('a tiny U-Net gives the same probabilities after folding and splitting', async () => {
    await initEngine();
    const tiny = await tinyModelFolder([64, 64], 3);
    try {
      const plain = decodeModel(layersModelToOnnx(tiny.model));
      const { model, report } = splitDecoderConvs(foldBatchNorm(plain));
      expect(report.convs.length).toBeGreaterThan(0);
      const x = noise(64 * 64 * 3, 5);
      const dims = [1, 64, 64, 3];
      expect(maxAbsDiff(await run(model, x, dims), await run(plain, x, dims))).toBeLessThan(1e-5);
    } finally {
      tiny.model.dispose();
      rmSync(tiny.dir, { recursive: true, force: true });
    }
  });
});
