// The model set through the HTTP API (app.inject()), with fixed-output models so that what
// is found is known by construction: a numbering model (teeth 46 and 36) and a caries model
// (squares on 36's mesial side, crown and distal side, and one off the teeth). An analysis
// lists its `models`, keeps each model's mask apart (mask.png the teeth, caries.png the
// lesions), its lesion findings carry tooth, surface and score, the model card lists the
// set, and the review's mask route takes each model of the set by name.
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/serve/index.js';
import type { AnalysisJson, HealthJson, ModelCardJson } from '../../src/serve/wire.js';
import { fixedMeta } from '../helpers/fixed-model.js';
import { buildDicom } from '../infer/helpers.js';
import {
  H,
  W,
  fixedModel,
  lesionMeta,
  lesionProbs,
  numberingMeta,
  numberingProbs,
} from '../infer/set-fixtures.js';
import { multipart, tempDir } from './helpers.js';

const HAS_PDFTOTEXT = ((): boolean => {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const grey = (png: Buffer) =>
  sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });

describe('a model set in the API (inject)', () => {
  let app: FastifyInstance;
  let created: AnalysisJson;
  const flat = (): Promise<Buffer> =>
    sharp(Buffer.alloc(W * H, 90), { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toBuffer();
  const post = async (buf: Buffer, name = 'set.png', type = 'image/png') =>
    app.inject({ method: 'POST', url: '/api/v1/analyses', ...multipart(buf, name, 'file', type) });

  beforeAll(async () => {
    // Given lesion model first: the analysis still lists the teeth model first.
    app = await buildApp({
      models: [
        fixedModel(lesionMeta(), lesionProbs(), '/fixed-caries'),
        fixedModel(numberingMeta(), numberingProbs(), '/fixed-fdi'),
      ],
      dataDir: tempDir(),
      webDir: false,
      // A flat grey test image is no panoramic: keep its findings.
      force: true,
    });
    const res = await post(await flat());
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    created = res.json<AnalysisJson>();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists the models, teeth model first, each with its mask file', () => {
    expect(created.model).toMatchObject({ name: 'fixed-fdi', task: 'multiclass' });
    expect(created.models).toEqual([
      {
        name: 'fixed-fdi',
        version: '0.0.1',
        engine: 'fixed',
        task: 'multiclass',
        role: 'teeth',
        mask: 'mask.png',
      },
      {
        name: 'fixed-caries',
        version: '0.0.1',
        engine: 'fixed',
        task: 'binary',
        role: 'lesion',
        type: 'caries',
        mask: 'caries.png',
      },
    ]);
    expect(created.links.masks).toEqual({
      'fixed-fdi': `${created.links.self}/mask.png`,
      'fixed-caries': `${created.links.self}/caries.png`,
    });
    expect(created.teeth.map((t) => t.fdi)).toEqual([36, 46]);
    expect(created.missing).toHaveLength(30);
  });

  it('GET answers the same analysis (a null surface passes the response schema)', async () => {
    const one = await app.inject({ url: created.links.self });
    expect(one.statusCode, one.body.slice(0, 300)).toBe(200);
    expect(one.json()).toEqual({ ...created, status: 'done' });
  });

  it('lesion findings carry their tooth, surface, score and model; ids are stable', () => {
    const lesions = created.findings.filter((f) => f.model === 'fixed-caries');
    expect(lesions.map((f) => [f.type, f.tooth, f.surface])).toEqual(
      expect.arrayContaining([
        ['caries', 36, 'mesial'],
        ['caries', 36, 'occlusal'],
        ['caries', 36, 'distal'],
        ['caries', null, null],
      ]),
    );
    expect(lesions).toHaveLength(4);
    for (const f of lesions) {
      expect(f.score).toBeCloseTo(0.9, 2);
      expect(f.review).toBe('suggested');
      expect(f.areaPx).toBeGreaterThan(0);
      expect(f.bbox).toHaveLength(4);
    }
    // The teeth model's regions come first, each on its own tooth.
    const teeth = created.findings.filter((f) => f.model === 'fixed-fdi');
    expect(teeth.map((f) => f.tooth).sort()).toEqual([36, 46]);
    expect(created.findings.map((f) => f.id)).toEqual(created.findings.map((_, i) => `f${i + 1}`));
  });

  it('serves each mask apart: mask.png the teeth classes, caries.png the lesions (0/255)', async () => {
    const mask = await app.inject({ url: created.links.mask });
    const caries = await app.inject({ url: created.links.masks?.['fixed-caries'] ?? '' });
    expect(caries.statusCode).toBe(200);
    expect(caries.headers['content-type']).toBe('image/png');
    const [m, c] = await Promise.all([grey(mask.rawPayload), grey(caries.rawPayload)]);
    expect([c.info.width, c.info.height]).toEqual([W, H]);
    expect(new Set(m.data)).toEqual(new Set([0, 1, 2]));
    expect(new Set(c.data)).toEqual(new Set([0, 255]));
    // Four 6×6 squares.
    expect(c.data.filter((v) => v === 255).length).toBe(4 * 36);
    // Not a mask of this analysis, and not a safe name.
    expect((await app.inject({ url: `${created.links.self}/abscess.png` })).statusCode).toBe(404);
    expect((await app.inject({ url: `${created.links.self}/..%2Fx.png` })).statusCode).toBe(400);
  });

  it('GET /api/v1/model keeps the teeth model card and lists the set', async () => {
    const card = (await app.inject({ url: '/api/v1/model' })).json<ModelCardJson>();
    expect(card).toMatchObject({ name: 'fixed-fdi', task: 'multiclass', engine: 'fixed' });
    expect(card.models?.map((m) => [m.name, m.role, m.type])).toEqual([
      ['fixed-fdi', 'teeth', undefined],
      ['fixed-caries', 'lesion', 'caries'],
    ]);
  });

  it('GET /api/v1/health keeps `model` the teeth model and lists the set in `models`', async () => {
    const health = (await app.inject({ url: '/api/v1/health' })).json<HealthJson>();
    expect(health.model).toBe('fixed-fdi@0.0.1');
    expect(health.models).toEqual(['fixed-fdi@0.0.1', 'fixed-caries@0.0.1']);
    const doc = (await app.inject({ url: '/api/docs' })).json<{
      paths: Record<string, { get: { responses: Record<string, unknown> } }>;
    }>();
    expect(JSON.stringify(doc.paths['/api/v1/health']?.get.responses['200'])).toContain('"models"');
  });

  it('documents models, surface, score and lesion masks in OpenAPI', async () => {
    const doc = JSON.stringify((await app.inject({ url: '/api/docs' })).json());
    for (const word of ['"models"', '"surface"', '"score"', 'caries.png', '"pixelSpacingMm"']) {
      expect(doc).toContain(word);
    }
  });

  it('PUT …/masks/{model} takes the teeth model and a lesion model of the set by name', async () => {
    const self = created.links.self;
    const lesionFix = await sharp(Buffer.alloc(W * H, 0), {
      raw: { width: W, height: H, channels: 1 },
    })
      .png()
      .toBuffer();
    const put = (model: string, png: Buffer) =>
      app.inject({
        method: 'PUT',
        url: `${self}/masks/${model}`,
        ...multipart(png, 'mask.png', 'file', 'image/png'),
      });
    const res = await put('fixed-caries', lesionFix);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const after = res.json<AnalysisJson>();
    expect(after.corrections.masks).toEqual(['fixed-caries']);
    // A lesion correction is its own file; the teeth mask's correction link stays absent.
    expect(after.links.maskCorrected).toBeUndefined();
    const fixed = await app.inject({ url: `${self}/caries.corrected.png` });
    expect(fixed.statusCode).toBe(200);
    expect(fixed.headers['cache-control']).toBe('private, no-cache');
    expect((await grey(fixed.rawPayload)).data.every((v) => v === 0)).toBe(true);
    // A lesion model's mask is binary: class indices are refused.
    const twos = await sharp(Buffer.alloc(W * H, 2), { raw: { width: W, height: H, channels: 1 } })
      .png()
      .toBuffer();
    expect((await put('fixed-caries', twos)).json()).toMatchObject({
      error: { code: 'E_MASK_VALUES' },
    });
    // The teeth model's mask takes its class indices, as before sets.
    const teeth = await put('fixed-fdi', twos);
    expect(teeth.statusCode).toBe(200);
    expect(teeth.json<AnalysisJson>().corrections.masks).toEqual(['fixed-caries', 'fixed-fdi']);
    expect(teeth.json<AnalysisJson>().links.maskCorrected).toBe(`${self}/mask.corrected.png`);
    const unknown = await put('abscess-model', lesionFix);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ error: { message: string } }>().error.message).toMatch(
      /its models: fixed-fdi, fixed-caries/,
    );
  });

  it.skipIf(!HAS_PDFTOTEXT)('the PDF report names every model of the set', async () => {
    const pdf = await app.inject({ url: `${created.links.self}/report.pdf` });
    expect(pdf.statusCode).toBe(200);
    const text = execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf.rawPayload })
      .toString('utf8')
      .replace(/\s+/g, ' ');
    expect(text).toMatch(/fixed-fdi 0\.0\.1/);
    expect(text).toMatch(/fixed-caries 0\.0\.1/);
  });

  it("records a DICOM's pixel spacing for areas in mm²; none for a PNG", async () => {
    expect(created.image.pixelSpacingMm).toBeUndefined();
    const dicom = buildDicom({
      width: W,
      height: H,
      pixels: new Uint8Array(W * H).fill(90),
      extra: { ImagerPixelSpacing: [0.1, 0.1] },
    });
    const res = await post(dicom, 'pano.dcm', 'application/dicom');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    expect(res.json<AnalysisJson>().image.pixelSpacingMm).toEqual([0.1, 0.1]);
  });
});

describe('a tooth-gated lesion model in the API (inject)', () => {
  it('the stored caries.png, the findings and the models entry agree on the dropped region', async () => {
    // The fixture's lesion off the teeth lies ~34 px from the nearest tooth: margin 24 drops it.
    const gated = fixedMeta({
      name: 'gated-caries',
      task: 'binary',
      classes: ['caries'],
      size: [H, W],
      postprocess: { lesion: 'caries', minAreaPx: 5, toothGate: { marginPx: 24 } },
    });
    const app = await buildApp({
      models: [
        fixedModel(numberingMeta(), numberingProbs(), '/fixed-fdi'),
        fixedModel(gated, lesionProbs(), '/gated-caries'),
      ],
      dataDir: tempDir(),
      webDir: false,
      force: true,
    });
    try {
      const png = await sharp(Buffer.alloc(W * H, 90), {
        raw: { width: W, height: H, channels: 1 },
      })
        .png()
        .toBuffer();
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        ...multipart(png, 'set.png', 'file', 'image/png'),
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
      const a = res.json<AnalysisJson>();
      expect(a.models?.[1]?.toothGate).toEqual({ applied: true, marginPx: 24, dropped: 1 });
      expect(a.findings.filter((f) => f.type === 'caries').map((f) => f.tooth)).toEqual([
        36, 36, 36,
      ]);
      const caries = await app.inject({ url: a.links.masks?.['gated-caries'] ?? '' });
      const c = await grey(caries.rawPayload);
      expect(c.data.filter((v) => v === 255).length).toBe(3 * 36);
    } finally {
      await app.close();
    }
  });
});
