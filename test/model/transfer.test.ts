// Fine-tuning starts from another model's weights: a U-Net trained at one input size
// continues at another, layer by layer, and a different architecture is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import { buildUnet, copyModelWeights } from '../../src/model/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});

const tiny = (size: number, seed: number, width = 1 / 16, decoderFilters?: number[]) =>
  buildUnet({
    inputSize: [size, size],
    channels: 1,
    classes: 1,
    width,
    seed,
    ...(decoderFilters ? { decoderFilters } : {}),
  });

describe('copyModelWeights', () => {
  it('copies every layer from a 32² model into a 64² one', () => {
    const from = tiny(32, 1);
    const to = tiny(64, 2);
    const before = to.getLayer('block1_conv1').getWeights()[0]!.dataSync().slice();
    const { copied, skipped } = copyModelWeights(from, to, 'runs/x/best');
    expect(copied).toBe(from.getWeights().length);
    expect(skipped).toEqual([]);
    const a = from.getWeights();
    const b = to.getWeights();
    a.forEach((w, i) => expect(Array.from(b[i]!.dataSync())).toEqual(Array.from(w.dataSync())));
    // it really changed something (the seeds differ)
    expect(Array.from(to.getLayer('block1_conv1').getWeights()[0]!.dataSync())).not.toEqual(
      Array.from(before),
    );
    // the copy is independent of the source: disposing it keeps the target usable
    from.dispose();
    const y = tf.tidy(() => (to.predict(tf.zeros([1, 64, 64, 1])) as tf.Tensor).shape);
    expect(y).toEqual([1, 64, 64, 1]);
    to.dispose();
  });

  it('refuses another width, naming the layer and the file', () => {
    const from = tiny(32, 1, 1 / 8);
    const to = tiny(32, 1, 1 / 16);
    expect(() => copyModelWeights(from, to, 'models/wide')).toThrow(
      /layer block1_conv1: the model to start from has weights \[3×3×1×8, 8\], this run needs \[3×3×1×4, 4\]/,
    );
    from.dispose();
    to.dispose();
  });

  it('partial: copies the layers that fit and leaves a wider decoder stage fresh', () => {
    const from = tiny(32, 1);
    const to = tiny(32, 2, 1 / 16, [16, 8, 4, 8, 8]);
    const fresh = to.getLayer(skippedName(to, from)).getWeights()[0]!.dataSync().slice();
    const { copied, skipped } = copyModelWeights(from, to, 'runs/x/best', { partial: true });
    expect(skipped.length).toBeGreaterThan(0);
    expect(copied).toBeGreaterThan(0);
    // the encoder came across …
    expect(Array.from(to.getLayer('block1_conv1').getWeights()[0]!.dataSync())).toEqual(
      Array.from(from.getLayer('block1_conv1').getWeights()[0]!.dataSync()),
    );
    // … and a layer that did not fit kept its own initialisation
    expect(Array.from(to.getLayer(skipped[0]!).getWeights()[0]!.dataSync())).toEqual(
      Array.from(fresh),
    );
    // without partial the same pair is refused
    expect(() => copyModelWeights(from, to, 'runs/x/best')).toThrow(/E_MODEL_INVALID|layer /);
    from.dispose();
    to.dispose();
  });
});

describe('copyModelWeights with zeroNewInputChannels', () => {
  it('widens a grey model to coordinate channels that start at zero weight: same output', () => {
    const from = tiny(32, 1);
    const to = buildUnet({ inputSize: [32, 32], channels: 3, classes: 1, width: 1 / 16, seed: 2 });
    expect(() => copyModelWeights(from, to, 'runs/x/best')).toThrow(/block1_conv1/);
    const { copied, skipped } = copyModelWeights(from, to, 'runs/x/best', {
      zeroNewInputChannels: true,
    });
    expect(skipped).toEqual([]);
    expect(copied).toBe(from.getWeights().length);
    const kernel = to.getLayer('block1_conv1').getWeights()[0]!;
    expect(kernel.shape.slice(0, 3)).toEqual([3, 3, 3]);
    // Whatever the new channels hold, the widened model computes what the grey one did.
    const [a, b] = tf.tidy(() => {
      const grey = tf.randomUniform([1, 32, 32, 1], 0, 1, 'float32', 7);
      const coords = tf.randomUniform([1, 32, 32, 2], -1, 1, 'float32', 8);
      const one = from.predict(grey) as tf.Tensor;
      const three = to.predict(tf.concat([grey, coords], 3)) as tf.Tensor;
      return [one.dataSync(), three.dataSync()];
    });
    expect(b!.length).toBe(a!.length);
    let worst = 0;
    for (let i = 0; i < a!.length; i++) worst = Math.max(worst, Math.abs(a![i]! - b![i]!));
    expect(worst).toBeLessThan(1e-5);
    from.dispose();
    to.dispose();
  });
});

/** The first layer with weights whose shapes differ between the two models. */
function skippedName(a: tf.LayersModel, b: tf.LayersModel): string {
  const layer = a.layers.find((l) => {
    const w = l.getWeights();
    if (w.length === 0) return false;
    const o = b.layers.find((x) => x.name === l.name)?.getWeights() ?? [];
    return w.some((t, i) => t.shape.join() !== o[i]?.shape.join());
  });
  if (!layer) throw new Error('the two models have the same shapes');
  return layer.name;
}
