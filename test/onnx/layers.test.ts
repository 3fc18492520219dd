/**
 * Every layer converter against tfjs on small random graphs (ONNX Runtime for Node runs the
 * exported bytes), the ONNX file's structure, and E_EXPORT_UNSUPPORTED for what has no
 * ONNX equivalent.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import { isDentsegError } from '../../src/errors.js';
import { layersModelToOnnx, ONNX_OPSET } from '../../src/onnx/export.js';
import { onnxMetadata } from '../../src/infer/onnx-metadata.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { maxAbsDiff, randomiseBatchNorm } from './helpers.js';

type Sym = tf.SymbolicTensor;
const L = tf.layers;

async function compare(model: tf.LayersModel, batch = 2): Promise<number> {
  const shape = model.inputs[0]?.shape.map((d) => d ?? batch) ?? [];
  const x = tf.randomUniform(shape, -1, 1, 'float32', 3);
  const want = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
  const session = await ort.InferenceSession.create(layersModelToOnnx(model));
  const out = await session.run({
    input: new ort.Tensor('float32', x.dataSync() as Float32Array, shape),
  });
  await session.release();
  x.dispose();
  return maxAbsDiff(out.probabilities?.data as Float32Array, want);
}

function graph(h: number, w: number, body: (x: Sym) => Sym, c = 3): tf.LayersModel {
  const input = tf.input({ shape: [h, w, c] });
  const model = tf.model({ inputs: input, outputs: body(input) });
  randomiseBatchNorm(model);
  return model;
}

const apply = (layer: { apply(x: Sym | Sym[]): unknown }, x: Sym | Sym[]): Sym =>
  layer.apply(x) as Sym;

describe('ONNX layer converters match tfjs', () => {
  // The reference is tfjs' own cpu backend: these tests are about the converters, not about
  // the default backend (match.test.ts compares with that one on real images).
  beforeAll(async () => {
    await initEngine({ backend: 'cpu' });
  });

  const cases: [string, tf.LayersModel][] = [];
  const add = (name: string, model: () => tf.LayersModel): void => {
    it(name, async () => {
      const m = model();
      cases.push([name, m]);
      expect(await compare(m)).toBeLessThanOrEqual(1e-5);
      m.dispose();
    });
  };

  add('Conv2D same/valid, strided, dilated, with every activation', () =>
    graph(17, 22, (x) => {
      let y = apply(
        L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        x,
      );
      y = apply(
        L.conv2d({
          filters: 5,
          kernelSize: [3, 5],
          strides: 2,
          padding: 'same',
          activation: 'tanh',
        }),
        y,
      );
      y = apply(
        L.conv2d({
          filters: 4,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          activation: 'elu',
        }),
        y,
      );
      y = apply(
        L.conv2d({
          filters: 4,
          kernelSize: 2,
          padding: 'valid',
          activation: 'relu6',
          useBias: false,
        }),
        y,
      );
      y = apply(L.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax' }), y);
      return y;
    }),
  );
  add('Conv2DTranspose k2s2, k3s2 same, k3s2 valid, k1s2', () =>
    graph(8, 6, (x) => {
      let y = apply(
        L.conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2, padding: 'same' }),
        x,
      );
      y = apply(
        L.conv2dTranspose({
          filters: 3,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        y,
      );
      y = apply(L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid' }), y);
      y = apply(
        L.conv2dTranspose({
          filters: 2,
          kernelSize: 1,
          strides: 2,
          padding: 'same',
          activation: 'sigmoid',
        }),
        y,
      );
      return y;
    }),
  );
  add('pooling, batch norm, upsampling nearest and bilinear, concatenate', () =>
    graph(16, 24, (x) => {
      const a = apply(
        L.batchNormalization({ epsilon: 1e-3 }),
        apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), x),
      );
      const p = apply(
        L.maxPooling2d({ poolSize: 2 }),
        apply(L.activation({ activation: 'relu' }), a),
      );
      const q = apply(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), a);
      const up1 = apply(L.upSampling2d({ size: [2, 2] }), p);
      const up2 = apply(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), q);
      const cat = apply(L.concatenate({ axis: -1 }), [up1, up2, a]);
      return apply(L.conv2d({ filters: 2, kernelSize: 1, activation: 'softmax' }), cat);
    }),
  );
  add('padding, cropping, add, multiply, ReLU, LeakyReLU, Softmax layer, Dropout', () =>
    graph(12, 10, (x) => {
      const a = apply(
        L.zeroPadding2d({
          padding: [
            [1, 2],
            [0, 3],
          ],
        }),
        x,
      );
      const b = apply(
        L.cropping2D({
          cropping: [
            [1, 2],
            [0, 3],
          ],
        }),
        a,
      );
      const c = apply(L.add(), [b, x]);
      const d = apply(L.multiply(), [c, x]);
      const e = apply(L.leakyReLU({ alpha: 0.2 }), d);
      const f = apply(L.reLU({ maxValue: 1.5 }), apply(L.dropout({ rate: 0.5 }), e));
      return apply(L.softmax({ axis: -1 }), f);
    }),
  );
});

describe('ONNX file structure', () => {
  it('opset 17, symbolic batch, NHWC input and output names, metadata', () => {
    const model = graph(32, 48, (x) =>
      apply(L.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'softmax' }), x),
    );
    const bytes = layersModelToOnnx(model, { metadata: { classes: '["a","b"]' } });
    const m = decodeModel(bytes);
    expect(m.opset_import[0]?.version).toBe(ONNX_OPSET);
    expect(m.graph.input[0]?.name).toBe('input');
    expect(m.graph.output[0]?.name).toBe('probabilities');
    expect(m.graph.input[0]?.type.tensor_type.shape?.dim).toEqual([
      { dim_param: 'batch' },
      { dim_value: 32 },
      { dim_value: 48 },
      { dim_value: 3 },
    ]);
    expect(m.graph.output[0]?.type.tensor_type.shape?.dim.at(-1)).toEqual({ dim_value: 2 });
    expect(m.metadata_props).toContainEqual({ key: 'classes', value: '["a","b"]' });
    expect(m.metadata_props).toContainEqual({ key: 'layout', value: 'NHWC' });
    // The platform-free reader (used by the browser) sees the same metadata.
    expect(onnxMetadata(bytes)).toEqual(
      Object.fromEntries(m.metadata_props.map(({ key, value }) => [key, value])),
    );
    const dyn = decodeModel(layersModelToOnnx(model, { dynamicSize: true }));
    expect(dyn.graph.input[0]?.type.tensor_type.shape?.dim.slice(1, 3)).toEqual([
      { dim_param: 'height' },
      { dim_param: 'width' },
    ]);
    model.dispose();
  });

  it('refuses a layer without an ONNX equivalent with E_EXPORT_UNSUPPORTED naming it', () => {
    const model = graph(8, 8, (x) =>
      apply(L.depthwiseConv2d({ kernelSize: 3, name: 'my_depthwise' }), x),
    );
    let err: unknown;
    try {
      layersModelToOnnx(model);
    } catch (e) {
      err = e;
    }
    expect(isDentsegError(err) && err.code).toBe('E_EXPORT_UNSUPPORTED');
    expect(String(err)).toContain('my_depthwise');
    const act = graph(8, 8, (x) =>
      apply(L.conv2d({ filters: 1, kernelSize: 1, activation: 'swish', name: 'swishy' }), x),
    );
    expect(() => layersModelToOnnx(act)).toThrow(/swishy.*swish/);
    model.dispose();
    act.dispose();
  });
});
