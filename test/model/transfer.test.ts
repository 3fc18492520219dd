// Fine-tuning starts from another model's weights: a U-Net trained at one input size
// continues at another, layer by layer, and a different architecture is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src/engine/index.js';
import { buildUnet, copyModelWeights } from '../../src/model/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});

const tiny = (size: number, seed: number, width = 1 / 16) =>
  buildUnet({ inputSize: [size, size], channels: 1, classes: 1, width, seed });

describe('copyModelWeights', () => {
  it('copies every layer from a 32² model into a 64² one', () => {
    const from = tiny(32, 1);
    const to = tiny(64, 2);
    const before = to.getLayer('block1_conv1').getWeights()[0]!.dataSync().slice();
    const n = copyModelWeights(from, to, 'runs/x/best');
    expect(n).toBe(from.getWeights().length);
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
});
