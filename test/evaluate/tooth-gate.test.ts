/**
 * `evaluate` with a lesion model that asks for a tooth gate: with a fixed teeth model the
 * region off the teeth is dropped before scoring (fewer false positives, higher Dice, the
 * report's `toothGate` says what was dropped); without one (`--teeth-model none`) the
 * same model is scored ungated and the report says `toothGate: null`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type Dataset } from '../../src/data/index.node.js';
import { evaluateModel, type ScoredImage } from '../../src/evaluate/index.js';
import type { LoadedModel } from '../../src/infer/index.js';
import type { ModelMeta } from '../../src/model/index.js';
import { fixedMeta } from '../helpers/fixed-model.js';
import { runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';
import { writeOneSample } from '../helpers/one-sample.js';
import { rectMask } from '../helpers/rect-mask.js';

const W = 40;
const H = 30;

/** A W×H map with the given rectangles [x, y, w, h] set to 1. */
const rects = (...rs: [number, number, number, number][]): Uint8Array => rectMask(W, H, rs);

const TEETH = rects([0, 0, 15, 15]);
const TRUTH = rects([2, 2, 5, 5]);
// a lesion on the tooth (the truth one) and a false alarm 15 px from it
const PRED = rects([2, 2, 5, 5], [30, 20, 5, 5]);

/** A fixed model of the image's size (no resizing): `values` at 0.9, the rest at 0.1. */
function fixed(meta: ModelMeta, values: Uint8Array): LoadedModel {
  return {
    meta,
    dir: meta.name,
    dispose: () => {},
    engine: {
      name: 'tfjs',
      dispose: () => {},
      run: async () => Float32Array.from(values, (v) => (v ? 0.9 : 0.1)),
    },
  };
}

const lesionMeta = (postprocess: Record<string, unknown>): ModelMeta =>
  fixedMeta({
    name: 'fixed-caries',
    task: 'binary',
    classes: ['caries'],
    size: [H, W],
    postprocess: { lesion: 'caries', minAreaPx: 20, ...postprocess },
  });
const teethModel = fixed(
  fixedMeta({ name: 'fixed-teeth', task: 'binary', classes: ['teeth'], size: [H, W] }),
  TEETH,
);

const dir = tempDir('dentseg-gate-');
let ds: Dataset;

beforeAll(async () => {
  await writeOneSample(
    dir,
    W,
    H,
    TRUTH.map((v) => v * 255),
  );
  ds = await openDataset({
    images: path.join(dir, 'images'),
    masks: path.join(dir, 'masks'),
    valFraction: 0,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluate with a tooth gate', () => {
  const gated = fixed(lesionMeta({ toothGate: { marginPx: 2 } }), PRED);

  it('drops the false alarm off the teeth before the lesion and pixel metrics', async () => {
    const opts = { lesions: { minAreaPx: 20 } };
    const plain = await evaluateModel(gated, ds, opts);
    expect(plain.toothGate).toBeUndefined();
    expect(plain.lesions).toMatchObject({ predicted: 2, found: 1, falsePositives: 1 });
    expect(plain.report.pooled.dice).toBeCloseTo(50 / 75, 6);

    const r = await evaluateModel(gated, ds, { ...opts, teethModel });
    expect(r.toothGate).toEqual({
      teethModel: 'fixed-teeth@0.0.1',
      marginPx: 2,
      droppedRegions: 1,
    });
    expect(r.lesions).toMatchObject({ predicted: 1, found: 1, falsePositives: 0, fpPerImage: 0 });
    expect(r.report.pooled.dice).toBeCloseTo(1, 6);
  });

  it('hands each scored image its raw probabilities and the teeth that gated it', async () => {
    const seen: ScoredImage[] = [];
    await evaluateModel(gated, ds, {
      lesions: { minAreaPx: 20 },
      teethModel,
      onScored: (s) => void seen.push(s),
    });
    expect(seen).toHaveLength(1);
    const s = seen[0]!;
    expect(s.probabilitiesSize).toEqual({ width: W, height: H });
    // the model's output before the gate: the false alarm is still at 0.9 there …
    expect(s.probabilities[22 * W + 32]).toBeCloseTo(0.9, 6);
    expect(s.probabilities[0]).toBeCloseTo(0.1, 6);
    // … while the scored mask has dropped it
    expect(s.prediction[22 * W + 32]).toBe(0);
    expect(s.gateTeeth).toMatchObject({ width: W, height: H });
    expect(Array.from(s.gateTeeth!.mask)).toEqual(Array.from(TEETH));

    const ungatedSeen: ScoredImage[] = [];
    await evaluateModel(gated, ds, { onScored: (x) => void ungatedSeen.push(x) });
    expect(ungatedSeen[0]!.gateTeeth).toBeUndefined();
  });

  it('a model that asks for no gate is scored as it is, teeth model or not', async () => {
    const ungated = fixed(lesionMeta({}), PRED);
    const r = await evaluateModel(ungated, ds, { lesions: { minAreaPx: 20 }, teethModel });
    expect(r.toothGate).toBeUndefined();
    expect(r.lesions?.falsePositives).toBe(1);
  });

  it('dentseg evaluate --teeth-model DIR | none: the report says the gate or null', async () => {
    const lesion = path.join(dir, 'lesion');
    const meta = await writeTinyModel(lesion, { target: 'caries' });
    writeFileSync(
      path.join(lesion, 'dentseg.json'),
      JSON.stringify({
        ...meta,
        postprocess: { lesion: 'caries', minAreaPx: 4, toothGate: { marginPx: 3 } },
      }),
    );
    const teeth = path.join(dir, 'teeth');
    await writeTinyModel(teeth, { name: 'tiny-teeth' });
    const run = (extra: string[]): Record<string, unknown> => {
      const json = path.join(dir, 'report.json');
      const r = runCliSync([
        'evaluate',
        '--model',
        lesion,
        '--images',
        path.join(dir, 'images'),
        '--masks',
        path.join(dir, 'masks'),
        '--engine',
        'tfjs',
        '--json',
        json,
        ...extra,
      ]);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(r.status).toBe(0);
      return JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    };
    expect(run(['--teeth-model', 'none']).toothGate).toBeNull();
    const withTeeth = run(['--teeth-model', teeth]).toothGate as Record<string, unknown>;
    expect(withTeeth).toMatchObject({ teethModel: 'tiny-teeth@0.0.1', marginPx: 3 });
    expect(typeof withTeeth.droppedRegions).toBe('number');
  });
});
