/**
 * A lesion model's raw output on a fold's images, written for analyses of other operating
 * points and region rules (bench/caries_second_stage.py). It runs `evaluateModel` as `dentseg
 * evaluate --teeth-model models/teeth-fdi --outline-model models/teeth-binary --tta` runs it,
 * and writes what that run scored, per image:
 *   STEM.prob.f32   the model's probabilities (float32, row-major, at the size in STEM.json),
 *   STEM.gate.u8    the teeth that gated it (0/1), STEM.truth.u8 the ground truth (0/1),
 *   STEM.grey.u8    the X-ray as 8-bit grey (`toGrey8`, as the overlays show it),
 *   STEM.json       its size and evaluate's per-image row,
 * and report.json, the evaluation report (lesions included), so an analysis can check that it
 * counts as `evaluate` counts before it counts anything else.
 *
 *   npx tsx bench/lesion-probabilities.ts --model DIR --images D/images --masks D/masks \
 *     --split data/folds/dc1000-caries-5fold/fold-1.csv --out ~/dentseg-runs/probs/f1
 * (--subset val by default; --teeth-model / --outline-model as in `dentseg evaluate`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/index.node.js';
import { evaluateModel, SUBSETS, type Subset } from '../src/evaluate/index.js';
import { loadModel, toGrey8 } from '../src/infer/index.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    'teeth-model': { type: 'string', default: 'models/teeth-fdi' },
    'outline-model': { type: 'string', default: 'models/teeth-binary' },
    images: { type: 'string' },
    masks: { type: 'string' },
    split: { type: 'string' },
    subset: { type: 'string', default: 'val' },
    out: { type: 'string' },
  },
});

function required(name: 'model' | 'images' | 'masks' | 'split' | 'out'): string {
  const v = args[name];
  if (v === undefined) throw new Error(`--${name} is required (see this file's header)`);
  return v;
}

const subset = args.subset as Subset;
if (!SUBSETS.includes(subset)) throw new Error(`--subset must be one of ${SUBSETS.join(', ')}`);

const bytes = (a: Uint8Array | Float32Array): Buffer =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const out = required('out');
mkdirSync(out, { recursive: true });
const model = await loadModel(required('model'));
const teethModel = await loadModel(args['teeth-model']);
const outlineModel = await loadModel(args['outline-model']);
const dataset = await openDataset({
  images: required('images'),
  masks: required('masks'),
  split: required('split'),
});
const result = await evaluateModel(model, dataset, {
  subset,
  tta: true,
  teethModel,
  outlineModel,
  lesions: { minAreaPx: 20 },
  onScored: (s) => {
    const stem = path.parse(s.label).name;
    const { width, height } = s.probabilitiesSize;
    if (width !== s.image.width || height !== s.image.height || !s.gateTeeth)
      throw new Error(`${s.label}: probabilities or gate not at the X-ray's size`);
    writeFileSync(path.join(out, `${stem}.prob.f32`), bytes(s.probabilities));
    writeFileSync(path.join(out, `${stem}.gate.u8`), bytes(s.gateTeeth.mask));
    writeFileSync(path.join(out, `${stem}.truth.u8`), bytes(s.truth));
    writeFileSync(path.join(out, `${stem}.grey.u8`), bytes(toGrey8(s.image)));
    writeFileSync(path.join(out, `${stem}.json`), JSON.stringify({ width, height, row: s.row }));
  },
});
if (result.failed.length > 0) throw new Error(`not scored: ${result.failed[0]!.message}`);
const report = {
  model: `${model.meta.name}@${model.meta.version}`,
  threshold: model.meta.postprocess?.threshold ?? 0.5,
  minAreaPx: model.meta.postprocess?.minAreaPx,
  marginPx: model.meta.postprocess?.toothGate?.marginPx,
  pooled: result.report.pooled,
  lesions: result.lesions,
};
writeFileSync(path.join(out, 'report.json'), JSON.stringify(report, null, 2));
console.log(JSON.stringify({ out, images: result.rows.length, lesions: result.lesions }));
