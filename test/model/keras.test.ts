// Keras VGG16 HDF5 import: the test writes a small file in Keras' save_weights layout
// (layer_names / weight_names attributes, /<layer>/<layer>/kernel:0 datasets) with known
// values, imports it into a narrow U-Net, and checks every encoder weight.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { architectureOf, buildUnet, normalizeUnetOptions } from '../../src/model/index.js';
import { loadModelFolder, saveModelFolder } from '../../src/model/folder.node.js';
import { applyKerasWeights, sumInputChannels } from '../../src/model/keras.js';
import { readKerasH5 } from '../../src/train/keras-h5.js';
import { runCliSync } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-keras-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Known value of element i of a layer's kernel/bias (distinct per layer). */
const value = (layer: number, bias: boolean, i: number): number =>
  layer * 0.01 + (bias ? 0.5 : 0) + i * 1e-4;

/** Write a Keras-layout weights file for a VGG16 at `width` (RGB input). */
async function writeKerasFile(file: string, width: number): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  const blocks = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  const layerNames: string[] = ['input_1'];
  let cin = 3;
  let n = 0;
  f.create_group('input_1').create_attribute('weight_names', [] as string[]);
  blocks.forEach(([filters = 0, convs = 0], b) => {
    const cout = Math.max(1, Math.round(filters * width));
    for (let c = 1; c <= convs; c++) {
      const name = `block${b + 1}_conv${c}`;
      layerNames.push(name);
      const g = f.create_group(name);
      g.create_attribute('weight_names', [`${name}/kernel:0`, `${name}/bias:0`]);
      const sub = g.create_group(name);
      const k = Float32Array.from({ length: 9 * cin * cout }, (_, i) => value(n, false, i));
      const bias = Float32Array.from({ length: cout }, (_, i) => value(n, true, i));
      sub.create_dataset({ name: 'kernel:0', data: k, shape: [3, 3, cin, cout], dtype: '<f' });
      sub.create_dataset({ name: 'bias:0', data: bias, shape: [cout], dtype: '<f' });
      cin = cout;
      n++;
    }
    const pool = `block${b + 1}_pool`;
    layerNames.push(pool);
    f.create_group(pool).create_attribute('weight_names', [] as string[]);
  });
  f.create_attribute('layer_names', layerNames);
  f.create_attribute('backend', 'tensorflow');
  f.close();
}

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
  await writeKerasFile(path.join(tmp, 'vgg.h5'), 1 / 16);
});

describe('import-keras', () => {
  it('reads the Keras layout and fills every encoder conv (3 channels)', async () => {
    const w = await readKerasH5(path.join(tmp, 'vgg.h5'));
    expect([...w.keys()]).toHaveLength(13);
    const m = buildUnet({ inputSize: [64, 64], channels: 3, classes: 1, width: 1 / 16 });
    const loaded = applyKerasWeights(m, w, 'vgg.h5');
    expect(loaded).toHaveLength(13);
    const [k, b] = m.getLayer('block3_conv2').getWeights();
    expect(k!.shape).toEqual([3, 3, 16, 16]);
    const kd = k!.dataSync();
    expect(kd[0]).toBeCloseTo(value(5, false, 0), 6);
    expect(kd[100]).toBeCloseTo(value(5, false, 100), 6);
    expect(b!.dataSync()[3]).toBeCloseTo(value(5, true, 3), 6);
    m.dispose();
  });

  it('sums the RGB kernels of block1_conv1 for a 1-channel model', async () => {
    const w = await readKerasH5(path.join(tmp, 'vgg.h5'));
    const m = buildUnet({ inputSize: [64, 64], channels: 1, classes: 1, width: 1 / 16 });
    applyKerasWeights(m, w, 'vgg.h5');
    const k = m.getLayer('block1_conv1').getWeights()[0]!;
    expect(k.shape).toEqual([3, 3, 1, 4]);
    // element (p=0, o=1) = Σ_i value(0, false, (0*3 + i)*4 + 1)
    const expected = [0, 1, 2].reduce((s, i) => s + value(0, false, i * 4 + 1), 0);
    expect(k.dataSync()[1]).toBeCloseTo(expected, 6);
    const summed = sumInputChannels({ shape: [1, 1, 2, 2], data: Float32Array.from([1, 2, 3, 4]) });
    expect(Array.from(summed.data)).toEqual([4, 6]);
    m.dispose();
  });

  it('refuses mismatched widths and non-HDF5 files, naming the file', async () => {
    const w = await readKerasH5(path.join(tmp, 'vgg.h5'));
    const m = buildUnet({ inputSize: [64, 64], channels: 3, classes: 1, width: 1 / 8 });
    expect(() => applyKerasWeights(m, w, 'vgg.h5')).toThrow(/block1_conv1.*needs/);
    m.dispose();
    await expect(readKerasH5(path.join(tmp, 'missing.h5'))).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
  });

  it('`dentseg weights import-keras --model` updates an existing model folder', async () => {
    const src = path.join(tmp, 'tiny');
    const m = buildUnet({ inputSize: [64, 64], channels: 1, classes: 1, width: 1 / 16 });
    const o = normalizeUnetOptions({ inputSize: [64, 64], channels: 1, classes: 1, width: 1 / 16 });
    await saveModelFolder(src, m, {
      format: 1,
      name: 'tiny',
      version: '0',
      task: 'binary',
      classes: ['teeth'],
      input: { size: [64, 64], channels: 1 },
      preprocess: { size: [64, 64], channels: 1, aspect: 'stretch', normalise: 'caffe' },
      architecture: architectureOf(o),
    });
    m.dispose();
    const out = path.join(tmp, 'tiny-imagenet');
    const r = runCliSync([
      '--backend',
      'cpu',
      'weights',
      'import-keras',
      path.join(tmp, 'vgg.h5'),
      '--model',
      src,
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const { model, meta } = await loadModelFolder(out);
    expect(meta.name).toBe('tiny');
    const k = model.getLayer('block5_conv3').getWeights()[0]!;
    expect(k.shape).toEqual([3, 3, 32, 32]);
    expect(k.dataSync()[7]).toBeCloseTo(value(12, false, 7), 5);
    const bad = runCliSync([
      '--backend',
      'cpu',
      'weights',
      'import-keras',
      path.join(tmp, 'vgg.h5'),
      '--out',
      path.join(tmp, 'w1'),
      '--size',
      '64',
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('E_HDF5_INVALID'); // a width-1 model cannot take 1/16-width weights
  });
});
