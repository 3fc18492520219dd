// The U-Net's shape (Keras VGG16 names and counts) and model folders on disk (float32
// and float16 round trips through tfjs' own loader).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import {
  architectureOf,
  buildUnet,
  encoderParamCount,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  normalizeUnetOptions,
  type ModelMeta,
} from '../../src/model/index.js';
import { loadModelFolder, saveModelFolder } from '../../src/model/folder.node.js';
import { runCliSync } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-model-'));
beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tinyMeta(): ModelMeta {
  const o = normalizeUnetOptions({ inputSize: [64, 64], channels: 1, classes: 1, width: 1 / 16 });
  return {
    format: 1,
    name: 'tiny',
    version: '0.0.1',
    task: 'binary',
    classes: ['teeth'],
    input: { size: [64, 64], channels: 1 },
    preprocess: { size: [64, 64], channels: 1, aspect: 'stretch', normalise: 'unit' },
    architecture: architectureOf(o),
  };
}

describe('buildUnet', () => {
  it('has Keras VGG16 notop encoder: names and 14,714,688 parameters at width 1, 3 channels', () => {
    const m = buildUnet({ inputSize: [64, 64], channels: 3, classes: 1 });
    expect(encoderParamCount(m)).toBe(14_714_688);
    const names = m.layers.map((l) => l.name);
    expect(names.slice(0, 5)).toEqual([
      'input',
      'block1_conv1',
      'block1_conv2',
      'block1_pool',
      'block2_conv1',
    ]);
    expect(names).toContain('block5_pool');
    expect(m.getLayer('block3_conv3').getWeights()[0]?.shape).toEqual([3, 3, 256, 256]);
    expect(m.outputs[0]?.shape).toEqual([null, 64, 64, 1]);
    m.dispose();
  });

  it('puts batch norm after every encoder convolution on request (vgg16_bn layout)', () => {
    const m = buildUnet({
      inputSize: [64, 64],
      channels: 1,
      classes: 1,
      width: 1 / 16,
      encoderBatchNorm: true,
    });
    const names = m.layers.map((l) => l.name);
    const at = names.indexOf('block3_conv2');
    expect(names.slice(at, at + 3)).toEqual(['block3_conv2', 'block3_bn2', 'block3_relu2']);
    expect(names.filter((n) => /^block\d_bn\d$/.test(n))).toHaveLength(13);
    // conv without bias (BN's beta is the bias) and without its own ReLU
    expect(m.getLayer('block1_conv1').getWeights()).toHaveLength(1);
    expect(m.getLayer('block1_conv1').getConfig().activation).toBe('linear');
    const o = normalizeUnetOptions({
      inputSize: [64, 64],
      channels: 1,
      classes: 1,
      encoderBatchNorm: true,
    });
    expect(architectureOf(o).encoderBatchNorm).toBe(true);
    // the plain encoder's dentseg.json is unchanged (no new key)
    expect(
      'encoderBatchNorm' in
        architectureOf(normalizeUnetOptions({ inputSize: [64, 64], channels: 1, classes: 1 })),
    ).toBe(false);
    m.dispose();
  });

  it('builds multi-class softmax heads and validates options', () => {
    const m = buildUnet({ inputSize: [64, 96], channels: 1, classes: 33, width: 1 / 16 });
    expect(m.outputs[0]?.shape).toEqual([null, 64, 96, 33]);
    const y = tf.tidy(
      () => tf.mean(tf.sum(m.predict(tf.ones([1, 64, 96, 1])) as tf.Tensor, -1)).dataSync()[0],
    );
    expect(y).toBeCloseTo(1, 5);
    m.dispose();
    expect(() => buildUnet({ inputSize: [60, 64], channels: 1, classes: 1 })).toThrow(
      /multiples of 32/,
    );
    expect(() => buildUnet({ inputSize: [64, 64], channels: 1, classes: 1, width: 0 })).toThrow(
      /width/,
    );
    expect(() => buildUnet({ inputSize: [64, 64], channels: 2 as 1, classes: 1 })).toThrow(
      /channels/,
    );
  });
});

describe('model folders', () => {
  it('round-trips float32 weights exactly and float16 within half precision', async () => {
    const m = buildUnet({ inputSize: [64, 64], channels: 1, classes: 1, width: 1 / 16 });
    const x = tf.randomUniform([1, 64, 64, 1], 0, 1, 'float32', 3);
    const y0 = (m.predict(x) as tf.Tensor).dataSync();
    const d32 = path.join(tmp, 'f32');
    const d16 = path.join(tmp, 'f16');
    await saveModelFolder(d32, m, tinyMeta());
    await saveModelFolder(d16, m, tinyMeta(), { float16: true });
    const s32 = statSync(path.join(d32, 'weights.bin')).size;
    const s16 = statSync(path.join(d16, 'weights.bin')).size;
    expect(s32).toBe(m.countParams() * 4);
    expect(s16).toBe(m.countParams() * 2);

    const a = await loadModelFolder(d32);
    expect(a.meta.name).toBe('tiny');
    const y1 = (a.model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(y1)).toEqual(Array.from(y0));
    const w0 = m.getWeights()[0]!.dataSync();
    const b = await loadModelFolder(d16);
    const w16 = b.model.getWeights()[0]!.dataSync();
    for (let i = 0; i < w0.length; i++)
      expect(Math.abs(w16[i]! - w0[i]!)).toBeLessThanOrEqual(Math.abs(w0[i]!) * 1e-3 + 1e-7);
    const y2 = (b.model.predict(x) as tf.Tensor).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < y0.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y2[i]! - y0[i]!));
    expect(maxDiff).toBeLessThan(1e-2);
    // tfjs' own loader reads what we wrote too (standard model.json)
    expect(b.model.layers.map((l) => l.name)).toEqual(m.layers.map((l) => l.name));
  });

  it('encodes float16 bits like IEEE 754', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(float16BitsToFloat32(float32ToFloat16Bits(0.1))).toBeCloseTo(0.1, 4);
  });

  it('names the missing file when a folder is incomplete', async () => {
    await expect(loadModelFolder(path.join(tmp, 'nope'))).rejects.toMatchObject({
      code: 'E_MODEL_INVALID',
    });
  });
});

describe('dentseg model summary', () => {
  it('prints Keras VGG16 layer names and the encoder parameter count', () => {
    const r = runCliSync(['--backend', 'cpu', 'model', 'summary', '--size', '64']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^block1_conv1\s+Conv2D\s+\[b,64,64,64\]\s+1,792$/m);
    expect(r.stdout).toContain('encoder (VGG16 blocks): 14,714,688');
    expect(r.stdout).toContain('total parameters:     19,038,673');
  });
});
