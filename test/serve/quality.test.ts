// The input check in the API: every analysis record carries `quality`; an upload that is
// not a panoramic X-ray has its findings withheld unless the server runs with force; the
// OpenAPI document describes the field; `dentseg serve --enhance` reaches the pipeline.
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withEnhance } from '../../src/cli/imaging-options.js';
import { initEngine } from '../../src/engine/index.js';
import { loadModel, segment, type LoadedModel } from '../../src/infer/index.js';
import { buildApp } from '../../src/serve/index.js';
import type { AnalysisJson as Record_ } from '../../src/serve/wire.js';
import { spawnServe } from '../helpers/paths.js';
import { multipart, tempDir, writeTinyModel } from './helpers.js';

/** A flat grey PNG: blank, certainly not a panoramic X-ray. */
function blankPng(): Promise<Buffer> {
  return sharp(Buffer.alloc(200 * 100, 128), { raw: { width: 200, height: 100, channels: 1 } })
    .png()
    .toBuffer();
}

/** A low-contrast ramp (CLAHE changes it visibly). */
function rampPng(): Promise<Buffer> {
  const w = 128;
  const h = 64;
  const data = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[y * w + x] = 110 + ((x * 3 + y * 5) % 30);
  return sharp(data, { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toBuffer();
}

let modelDir: string;
let model: LoadedModel;

beforeAll(async () => {
  await initEngine();
  modelDir = tempDir('dentseg-quality-model-');
  await writeTinyModel(modelDir);
  model = await loadModel(modelDir);
});
afterAll(() => model.dispose());

async function upload(app: FastifyInstance, png: Buffer): Promise<Record_> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/analyses',
    ...multipart(png, 'blank.png', 'file', 'image/png'),
  });
  expect(res.statusCode).toBe(201);
  return res.json<Record_>();
}

describe('input check in the API (inject)', () => {
  it('records quality and withholds findings of a blank upload; force keeps them', async () => {
    const png = await blankPng();
    // Threshold 0: the tiny model marks every pixel, so there is always a finding to keep.
    const strict = await buildApp({ model, dataDir: tempDir(), webDir: false, threshold: 0 });
    const forced = await buildApp({
      model,
      dataDir: tempDir(),
      webDir: false,
      threshold: 0,
      force: true,
    });
    try {
      const a = await upload(strict, png);
      expect(a.quality).toMatchObject({ panoramic: false, issues: ['blank'], withheld: true });
      expect(a.findings).toEqual([]);
      // Stored as returned.
      const again = await strict.inject({
        url: (a as unknown as { links: { self: string } }).links.self,
      });
      expect(again.json<Record_>().quality).toEqual(a.quality);
      const b = await upload(forced, png);
      expect(b.quality).toMatchObject({ panoramic: false, withheld: false });
      expect(b.findings.length).toBeGreaterThan(0);
    } finally {
      await strict.close();
      await forced.close();
    }
  });

  it('documents quality in the OpenAPI document', async () => {
    const app = await buildApp({ model, dataDir: tempDir(), webDir: false });
    try {
      await app.ready();
      const doc = JSON.stringify(app.swagger());
      expect(doc).toContain('"quality"');
      expect(doc).toContain('not a panoramic X-ray');
    } finally {
      await app.close();
    }
  });
});

describe('dentseg serve --enhance', () => {
  it('refuses a bad mode with E_USAGE', async () => {
    const { runCliSync } = await import('../helpers/paths.js');
    const res = runCliSync(['serve', '--enhance', 'sparkle', '--port', '0'], { timeoutMs: 60_000 });
    expect(res.status).toBe(64);
    expect(res.stderr).toMatch(/--enhance: "sparkle"/);
  });

  it('applies the mode to every upload', async () => {
    const png = await rampPng();
    const { child, url, stderr } = await spawnServe([
      '--model',
      modelDir,
      '--port',
      '0',
      '--data-dir',
      tempDir(),
      '--enhance',
      'clahe:4',
    ]);
    try {
      expect(stderr).toMatch(/enhance=clahe:4/);
      const { payload, headers } = multipart(png, 'ramp.png', 'file', 'image/png');
      const res = await fetch(`${url}/api/v1/analyses`, {
        method: 'POST',
        headers,
        body: new Uint8Array(payload),
      });
      expect(res.status).toBe(201);
      const record = (await res.json()) as Record_;
      const prob = await fetch(`${url}${record.links.probability}`);
      const served = await sharp(Buffer.from(await prob.arrayBuffer()))
        .extractChannel(0)
        .raw()
        .toBuffer();
      // The same upload through the pipeline here, with and without the enhancement.
      const withIt = await segment(withEnhance(model, 'clahe:4'), png);
      const without = await segment(model, png);
      const asBytes = (p: Float32Array): Buffer =>
        Buffer.from(Uint8Array.from(p, (v) => Math.max(0, Math.min(255, Math.round(v * 255)))));
      expect(served.equals(asBytes(withIt.probabilities))).toBe(true);
      expect(served.equals(asBytes(without.probabilities))).toBe(false);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
