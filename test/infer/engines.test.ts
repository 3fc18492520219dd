// The engine registry with a mock engine: priority and availability decide, a forced engine
// must have its files, and segment's post-processing maps a known output back exactly.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_MODEL_DIR,
  engineNames,
  loadModel,
  pickEngine,
  registerEngine,
  segment,
  type InferenceEngine,
} from '../../src/infer/index.js';
import type { ModelMeta } from '../../src/model/index.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from './helpers.js';

const dir = tempDir();
const folder = path.join(dir, 'model');
let meta: ModelMeta;
let disposed = 0;

/** Probability 0.9 on the left half of the network input, 0.1 on the right. */
const halfEngine: InferenceEngine = {
  name: 'onnx',
  async run(_input, batch, h, w) {
    const out = new Float32Array(batch * h * w);
    for (let b = 0; b < batch; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[(b * h + y) * w + x] = x < w / 2 ? 0.9 : 0.1;
    return out;
  },
  dispose: () => void disposed++,
};

beforeAll(async () => {
  meta = await writeTinyModel(folder, { size: 64 });
  registerEngine({
    name: 'onnx',
    priority: 10,
    available: (d) => existsSync(path.join(d, 'mock.onnx')),
    load: () => Promise.resolve({ engine: halfEngine, meta }),
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('engine registry', () => {
  it('picks the highest-priority engine whose files the folder has', async () => {
    // onnx-int8 ranks below tfjs: it runs only when asked for (or nothing else can)
    expect(engineNames()).toEqual(['onnx', 'tfjs', 'onnx-int8']);
    expect(pickEngine(folder).name).toBe('tfjs');
    expect(() => pickEngine(folder, 'onnx')).toThrow(/no files for engine onnx/);
    writeFileSync(path.join(folder, 'mock.onnx'), '');
    expect(pickEngine(folder).name).toBe('onnx');
    const forced = await loadModel(folder, { engine: 'tfjs' });
    expect(forced.engine.name).toBe('tfjs');
    forced.dispose();
    expect(() => pickEngine(path.join(dir, 'empty'))).toThrow(/not a model folder/);
  });

  it("segment maps the engine's output back to the original size", async () => {
    const m = await loadModel(folder);
    expect(m.engine.name).toBe('onnx');
    const img = { width: 200, height: 100, data: new Uint8Array(200 * 100), bitDepth: 8 as const };
    const r = await segment(m, img, { minAreaPx: 1 });
    expect(r.mask[50 * 200 + 10]).toBe(1);
    expect(r.mask[50 * 200 + 190]).toBe(0);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.bbox).toEqual([0, 0, 100, 100]);
    expect(r.findings[0]!.areaPct).toBe(50);
    // TTA: the mirror makes every pixel 0.5, which the 0.5 threshold keeps.
    const tta = await segment(m, img, { tta: true });
    expect(tta.probabilities.every((p) => Math.abs(p - 0.5) < 1e-6)).toBe(true);
    m.dispose();
    expect(disposed).toBe(1);
  });

  it('without a folder, loads the bundled default or says it is missing', async () => {
    if (existsSync(DEFAULT_MODEL_DIR)) {
      const m = await loadModel();
      expect(m.meta.task).toBeDefined();
      m.dispose();
    } else {
      await expect(loadModel()).rejects.toMatchObject({
        code: 'E_MODEL_INVALID',
        message: expect.stringContaining('models/teeth-binary/'),
      });
    }
    mkdirSync(path.join(dir, 'empty'), { recursive: true });
    await expect(loadModel(path.join(dir, 'nope'))).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
  });
});

describe('engines as plug-ins', () => {
  it('the registry knows no engine until an entry registers one', async () => {
    vi.resetModules();
    const fresh = await import('../../src/infer/engines.js');
    expect(fresh.engineNames()).toEqual([]);
    // Node's entry registers its two.
    await import('../../src/infer/engines.node.js');
    expect(fresh.engineNames()).toEqual(['onnx', 'tfjs', 'onnx-int8']);
    vi.resetModules();
  });

  it("the ONNX exporter does not import inference's engines", () => {
    const onnxDir = path.join(REPO_ROOT, 'src/onnx');
    for (const f of readdirSync(onnxDir)) {
      const text = readFileSync(path.join(onnxDir, f), 'utf8');
      expect(text, f).not.toMatch(/infer\/(engines|tfjs-engine)(\.node)?\.js/);
    }
  });
});
