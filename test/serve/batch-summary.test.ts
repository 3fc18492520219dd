// `dentseg batch` writes summary.csv from stored analyses: for the same X-ray and the same
// model set (fixed-output models: teeth 46 and 36, four caries squares of which three on 36)
// its row must say what `predict`'s says, caries count and teeth included, and a finding
// the dentist rejected no longer counts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictBatch, summaryCsv, type LoadedModel } from '../../src/infer/index.js';
import { analyseUpload } from '../../src/serve/analyse.js';
import { batchItemOf } from '../../src/serve/batch.js';
import type { AnalysisRecord } from '../../src/serve/types.js';
import {
  H,
  W,
  fixedModel,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from '../infer/set-fixtures.js';
import { tempDir } from './helpers.js';

function rows(csv: string): Record<string, string>[] {
  const [head, ...rest] = csv.trim().split('\n');
  const keys = head!.split(',');
  // The fixtures' fields hold no commas or quotes.
  return rest.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i]!, v])));
}

const COLUMNS = ['regions', 'classes_present', 'teeth', 'missing', 'caries', 'caries_teeth'];

describe('batch summary.csv rows from stored analyses', () => {
  const models = (): LoadedModel[] => [
    fixedModel(numberingMeta(), numberingProbs(), '/fixed-fdi'),
    fixedModel(lesionMeta(), lesionProbs(), '/fixed-caries'),
  ];
  let png: Buffer;
  let predicted: Record<string, string>;
  let record: AnalysisRecord;

  beforeAll(async () => {
    png = await sharp(Buffer.alloc(W * H, 90), { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toBuffer();
    const dir = tempDir('dentseg-batch-summary-');
    const xray = path.join(dir, 'x.png');
    await sharp(png).toFile(xray);
    const out = path.join(dir, 'out');
    const r = await predictBatch(
      { models: models(), dispose: () => {} },
      {
        inputs: [xray],
        outputDir: out,
        threshold: 0.5,
        tta: false,
        concurrency: 1,
        keepDicomTags: false,
        // A flat grey square is no panoramic: keep its findings.
        force: true,
      },
    );
    expect(r.items[0]?.error).toBeUndefined();
    predicted = rows(readFileSync(path.join(out, 'summary.csv'), 'utf8'))[0]!;
    ({ record } = await analyseUpload(models(), png, 'x.png', {
      maxPixels: 40e6,
      threshold: 0.5,
      force: true,
    }));
  });

  it("fills caries, caries_teeth, teeth and missing as predict's row does", () => {
    const row = rows(summaryCsv([batchItemOf('x.png', 'x', record)]))[0]!;
    expect(predicted).toMatchObject({ caries: '4', caries_teeth: '36', teeth: '36 46' });
    for (const c of COLUMNS) expect(row[c], c).toBe(predicted[c]);
  });

  it("leaves out the findings the dentist rejected (the lesion off the teeth, then 36's)", () => {
    const reject = (r: AnalysisRecord, pick: (tooth: number | null) => boolean): AnalysisRecord => {
      let done = false;
      return {
        ...r,
        findings: r.findings.map((f) => {
          if (done || f.type !== 'caries' || f.review === 'rejected' || !pick(f.tooth)) return f;
          done = true;
          return { ...f, review: 'rejected' as const };
        }),
      };
    };
    const offTeeth = reject(record, (t) => t === null);
    expect(rows(summaryCsv([batchItemOf('x.png', 'x', offTeeth)]))[0]).toMatchObject({
      caries: '3',
      caries_teeth: '36',
    });
    let none = offTeeth;
    for (let i = 0; i < 3; i++) none = reject(none, (t) => t === 36);
    expect(rows(summaryCsv([batchItemOf('x.png', 'x', none)]))[0]).toMatchObject({
      caries: '0',
      caries_teeth: '',
      // The teeth model's own findings are its regions; lesions never were.
      regions: predicted.regions,
    });
  });
});
