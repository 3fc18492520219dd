/**
 * `evaluate` of a numbering model within a binary teeth model's outline, as the bundled set
 * runs it (src/infer/outline.ts): the numbering model's tooth is too narrow, the outline
 * draws it whole and the number reaches it, so the scores rise to the outline's; the report
 * names the outline. A binary outline model, a lesion model as outline, and the CLI's
 * refusal of one are checked too.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type Dataset } from '../../src/data/index.node.js';
import { evaluateModel } from '../../src/evaluate/index.js';
import type { LoadedModel } from '../../src/infer/index.js';
import type { ModelMeta } from '../../src/model/index.js';
import { fixedMeta } from '../helpers/fixed-model.js';
import { writeOneSample } from '../helpers/one-sample.js';
import { rectMask } from '../helpers/rect-mask.js';
import { runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';

const W = 40;
const H = 30;
const CLASSES = ['background', 'tooth 46', 'tooth 36'];

// Truth: 46 on x 4..13, 36 on x 24..33 (rows 5..24). The numbering model sees each tooth two
// columns narrower on its outer side; the outline is the truth's teeth.
const TRUTH_46 = rectMask(W, H, [[4, 5, 10, 20]]);
const TRUTH_36 = rectMask(W, H, [[24, 5, 10, 20]]);
const NUM_46 = rectMask(W, H, [[6, 5, 8, 20]]);
const NUM_36 = rectMask(W, H, [[24, 5, 8, 20]]);

function model(meta: ModelMeta, probs: Float32Array): LoadedModel {
  return {
    meta,
    dir: meta.name,
    dispose: () => {},
    engine: { name: 'tfjs', dispose: () => {}, run: async () => probs.slice() },
  };
}

const numbering = (() => {
  const p = new Float32Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const c = NUM_46[i] ? 1 : NUM_36[i] ? 2 : 0;
    p[i * 3 + c] = 1;
  }
  return model(
    fixedMeta({
      name: 'fixed-fdi',
      task: 'multiclass',
      classes: CLASSES,
      size: [H, W],
      postprocess: { numbering: 'none', minToothPx: 4 },
    }),
    p,
  );
})();
const outline = model(
  fixedMeta({ name: 'fixed-teeth', task: 'binary', classes: ['teeth'], size: [H, W] }),
  Float32Array.from({ length: W * H }, (_v, i) => (TRUTH_46[i] || TRUTH_36[i] ? 0.9 : 0.1)),
);

const dir = tempDir('dentseg-outline-');
let ds: Dataset;

beforeAll(async () => {
  await writeOneSample(
    dir,
    W,
    H,
    TRUTH_46.map((v, i) => (v ? 1 : TRUTH_36[i] ? 2 : 0)),
  );
  ds = await openDataset({
    images: path.join(dir, 'images'),
    masks: path.join(dir, 'masks'),
    classes: CLASSES,
    multiclass: true,
    valFraction: 0,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluate within an outline', () => {
  it('scores the numbered teeth the outline draws, and says which outline', async () => {
    const alone = await evaluateModel(numbering, ds);
    expect(alone.outlineModel).toBeUndefined();
    expect(alone.report.union?.dice).toBeCloseTo((2 * 320) / (320 + 400), 6);
    const within = await evaluateModel(numbering, ds, { outlineModel: outline });
    expect(within.outlineModel).toBe('fixed-teeth@0.0.1');
    expect(within.report.union?.dice).toBeCloseTo(1, 6);
    expect(within.report.teeth?.meanToothDice).toBeCloseTo(1, 6);
    expect(within.report.teeth?.f1).toBe(1);
  });

  it('a binary model is scored as it is: no numbers to outline', async () => {
    const binary = await evaluateModel(
      outline,
      await openDataset({
        images: path.join(dir, 'images'),
        masks: path.join(dir, 'masks'),
        valFraction: 0,
      }),
      { outlineModel: outline },
    );
    expect(binary.outlineModel).toBeUndefined();
  });

  it('dentseg evaluate --outline-model refuses a model that is no binary teeth model', async () => {
    const fdi = path.join(dir, 'tiny-fdi');
    await writeTinyModel(fdi, { classes: 3, classNames: CLASSES });
    const r = runCliSync([
      'evaluate',
      '--model',
      fdi,
      '--outline-model',
      fdi,
      '--images',
      path.join(dir, 'images'),
      '--masks',
      path.join(dir, 'masks'),
      '--classes',
      CLASSES.join(','),
      '--multiclass',
      '--engine',
      'tfjs',
      '--json',
      path.join(dir, 'r.json'),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--outline-model .*tiny-fdi is not a binary teeth model/);
  }, 120_000);
});
