// One inference core: `dentseg predict`, the server's upload and the browser's private-mode
// code (src/web/app/local-analysis.ts, given onnxruntime-node in place of onnxruntime-web
// and the pixels a canvas would give) find the same masks and findings on the full-size
// samples with the bundled model. The real page is covered by test/onnx/private-mode.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePreprocessConfig } from '../../src/data/index.js';
import { loadModel, segment, type LoadedModel } from '../../src/infer/index.js';
import { loadModelSet, type LoadedModelSet } from '../../src/infer/model-set.node.js';
import { FDI_NUMBERS } from '../../src/numbering/index.js';
import { exportOnnx, onnxBytesForFolder } from '../../src/onnx/index.js';
import { buildApp } from '../../src/serve/index.js';
import type { FindingJson } from '../../src/serve/index.js';
import {
  analyseImage,
  greyFromRgba,
  openLocalModel,
  type LocalModel,
} from '../../src/web/app/local-analysis.js';
import { HAS_SHARED_DATA, SAMPLES, runCliSync } from '../helpers/paths.js';
import { multipart } from '../serve/helpers.js';
import { tempDir, writeTinyModel } from './helpers.js';

const IMAGES = path.join(SAMPLES, 'images');
const dir = tempDir('dentseg-parity-');

/** A mask PNG (0/255 or class index) as 0/1 foreground per pixel. */
async function foreground(png: Buffer | string): Promise<Uint8Array> {
  const raw = await sharp(png).extractChannel(0).raw().toBuffer();
  return Uint8Array.from(raw, (v) => (v > 0 ? 1 : 0));
}

describe.skipIf(!HAS_SHARED_DATA)('predict, serve and private mode agree', () => {
  const files = HAS_SHARED_DATA ? readdirSync(IMAGES).filter((f) => f.endsWith('.png')) : [];
  let server: LoadedModelSet;
  let local: LocalModel;

  beforeAll(async () => {
    // predict and serve run the bundled set; private mode its teeth model (the first).
    server = await loadModelSet();
    const { bytes } = await onnxBytesForFolder((server.models[0] as LoadedModel).dir);
    local = await openLocalModel(
      ortNode,
      bytes,
      { executionProviders: ['cpu'], graphOptimizationLevel: 'all' },
      { backend: 'onnxruntime-node' },
    );
  });
  afterAll(() => {
    server?.dispose();
    local?.engine.dispose();
  });

  it('gives the same masks and findings on every sample', async () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    const out = path.join(dir, 'predict');
    const run = runCliSync(['predict', '--input', IMAGES, '--output', out]);
    expect(run.status, run.stderr).toBe(0);

    const app = await buildApp({ models: server.models, dataDir: path.join(dir, 'data') });
    // The set's fields (id, review, type, tooth, surface, score, model) are added around the
    // pipeline's finding; the pipeline's own fields must agree everywhere.
    const pipelineFields = (f: FindingJson): Record<string, unknown> => {
      const {
        id: _id,
        review: _r,
        type: _t,
        tooth: _tooth,
        surface: _s,
        score: _score,
        model: _m,
        ...rest
      } = f;
      return rest;
    };
    // One sample is edentulous (no findings there); the others have teeth.
    let found = 0;
    try {
      for (const file of files) {
        const stem = file.replace(/\.png$/, '');
        const predicted = JSON.parse(readFileSync(path.join(out, `${stem}.json`), 'utf8')) as {
          findings: FindingJson[];
        };
        const predictMask = await foreground(path.join(out, `${stem}.mask.png`));

        const bytes = readFileSync(path.join(IMAGES, file));
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/analyses',
          ...multipart(bytes, file, 'file', 'image/png'),
        });
        expect(res.statusCode, file).toBe(201);
        const analysis = res.json<{ findings: FindingJson[]; links: { mask: string } }>();
        const serveMask = await foreground(
          (await app.inject({ url: analysis.links.mask })).rawPayload,
        );

        // What the page has after createImageBitmap + getImageData: RGBA pixels.
        const { data, info } = await sharp(bytes)
          .ensureAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        const image = greyFromRgba(new Uint8ClampedArray(data), info.width, info.height);
        const mine = await analyseImage(local, image, file);

        found += mine.findings.length;
        const expected = predicted.findings.map(pipelineFields);
        expect(analysis.findings.map(pipelineFields), `${file}: serve vs predict`).toEqual(
          expected,
        );
        // Private mode runs the teeth model alone, without the set's outline: it finds what
        // Node's `segment` finds with that one model.
        const alone = await segment(server.models[0] as LoadedModel, image);
        expect(mine.findings, `${file}: private mode vs the teeth model alone`).toEqual(
          alone.findings,
        );
        // Foreground of every mask: predict's X.mask.png is the set's teeth union (0/255),
        // the server's mask.png the teeth model's class indices (within the outline), the
        // page's mask the teeth model's own.
        const mineMask = Uint8Array.from(mine.mask, (v) => (v > 0 ? 1 : 0));
        const aloneMask = Uint8Array.from(alone.mask, (v) => (v > 0 ? 1 : 0));
        expect(Buffer.from(serveMask).equals(Buffer.from(predictMask)), file).toBe(true);
        expect(Buffer.from(mineMask).equals(Buffer.from(aloneMask)), file).toBe(true);
      }
      expect(found).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  }, 600_000);
});

describe.skipIf(!HAS_SHARED_DATA)(
  'private mode runs the server pipeline for every model type',
  () => {
    it('a tiled, enhanced numbering model gives the same mask, findings, teeth and missing', async () => {
      const modelDir = path.join(dir, 'fdi-tiled');
      await writeTinyModel(modelDir, {
        classes: 33,
        classNames: ['background', ...FDI_NUMBERS.map((f) => `tooth ${f}`)],
        preprocess: validatePreprocessConfig({
          size: [64, 64],
          tiling: { tile: [64, 64] },
          enhance: 'auto',
        }),
      });
      await exportOnnx(modelDir);
      const server = await loadModel(modelDir);
      const { bytes } = await onnxBytesForFolder(modelDir);
      const local = await openLocalModel(
        ortNode,
        bytes,
        { executionProviders: ['cpu'] },
        { backend: 'onnxruntime-node' },
      );
      try {
        expect(server.engine.name).toBe('onnx');
        expect(local.meta).toEqual(server.meta);
        // A real X-ray at a size the tiny tiles cover quickly (15 tiles).
        const { data, info } = await sharp(path.join(IMAGES, 'abdi-1.png'))
          .resize(240, 112)
          .ensureAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true });
        const image = greyFromRgba(new Uint8ClampedArray(data), info.width, info.height);
        const want = await segment(server, image);
        const got = await analyseImage(local, image, 'abdi-1.png');
        expect(want.teeth).toBeDefined();
        expect(want.findings.length).toBeGreaterThan(0);
        expect(Buffer.from(got.mask).equals(Buffer.from(want.mask))).toBe(true);
        expect(got.findings).toEqual(want.findings);
        expect(got.teeth).toEqual(want.teeth);
        expect(got.missing).toEqual(want.missing);
      } finally {
        server.dispose();
        local.engine.dispose();
      }
    }, 300_000);
  },
);
