/**
 * The ONNX engine inside dentseg: the registry prefers an up-to-date `model.onnx`,
 * `segment` gives the same mask through either engine, a stale or missing file falls back
 * or fails clearly, and `dentseg export` writes and verifies the file.
 */
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initEngine } from '../../src/engine/index.js';
import { isDentsegError } from '../../src/errors.js';
import { loadModel, segment } from '../../src/infer/index.js';
import { saveModelFolder } from '../../src/model/folder.node.js';
import { onnxEngine } from '../../src/infer/index.js';
import { exportOnnx, verifyOnnx } from '../../src/onnx/index.js';
import { HAS_SHARED_DATA, runCliSync, SAMPLES } from '../helpers/paths.js';
import { tempDirFor } from './helpers.js';
import { tinyModelFolder, type TinyModel } from './tiny.js';

describe('ONNX engine in the registry, segment and the CLI', () => {
  let tiny: TinyModel;
  beforeAll(async () => {
    await initEngine();
    tiny = await tinyModelFolder([64, 64], 1);
  });
  afterAll(() => {
    tiny.model.dispose();
    rmSync(tiny.dir, { recursive: true, force: true });
  });

  it('uses tfjs without model.onnx, refuses --engine onnx there', async () => {
    const m = await loadModel(tiny.dir);
    expect(m.engine.name).toBe('tfjs');
    m.dispose();
    const err = await loadModel(tiny.dir, { engine: 'onnx' }).catch((e: unknown) => e);
    expect(isDentsegError(err) && err.code).toBe('E_MODEL_INVALID');
    expect(err).toMatchObject({
      message: expect.stringContaining('the model folder has no model.onnx'),
      hint: expect.stringContaining(`dentseg export --model ${tiny.dir}`),
    });
  });

  it.skipIf(!HAS_SHARED_DATA)('prefers model.onnx, with the same mask as tfjs', async () => {
    await exportOnnx(tiny.dir);
    const onnx = await loadModel(tiny.dir);
    const tfjs = await loadModel(tiny.dir, { engine: 'tfjs' });
    try {
      expect(onnx.engine.name).toBe('onnx');
      expect(onnx.meta).toEqual(tiny.meta);
      const file = path.join(SAMPLES, 'images', 'abdi-1.png');
      const a = await segment(onnx, file, { threshold: 0.5 });
      const b = await segment(tfjs, file, { threshold: 0.5 });
      expect(a.width).toBe(b.width);
      let differing = 0;
      for (let i = 0; i < a.mask.length; i++) if (a.mask[i] !== b.mask[i]) differing++;
      // Probabilities agree to ~1e-6; only pixels within that of the threshold may flip.
      expect(differing / a.mask.length).toBeLessThan(1e-4);
    } finally {
      onnx.dispose();
      tfjs.dispose();
    }
  });

  it('falls back to tfjs when the weights changed after the export', async () => {
    await exportOnnx(tiny.dir);
    const weightsFile = path.join(tiny.dir, 'weights.bin');
    const original = readFileSync(weightsFile);
    const changed = Buffer.from(original);
    changed[0] = (changed[0] ?? 0) ^ 0xff;
    writeFileSync(weightsFile, changed);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const m = await loadModel(tiny.dir, { log: true });
      expect(m.engine.name).toBe('tfjs');
      m.dispose();
      // What runs is said, and why model.onnx was passed over, with the command that fixes it.
      const lines = logged.mock.calls.map((c) => String(c[0]));
      expect(lines[0]).toMatch(/^dentseg engine: tfjs \(\w+ backend, \d+ threads?/);
      expect(lines[1]).toMatch(
        /^dentseg: model\.onnx does not match weights\.bin: it was exported from other weights.*the tfjs engine runs it \(run `dentseg export --model /,
      );
      const err = await loadModel(tiny.dir, { engine: 'onnx' }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'E_MODEL_INVALID',
        message: expect.stringContaining('model.onnx does not match weights.bin'),
        hint: expect.stringMatching(/re-export it from weights\.bin, or use another engine/),
      });
      expect(String((err as Error).message)).not.toMatch(/has no files for engine/);
    } finally {
      logged.mockRestore();
      writeFileSync(weightsFile, original);
    }
  });

  it('keeps ONNX when only file times changed (as after git clone)', async () => {
    await exportOnnx(tiny.dir);
    const old = new Date(Date.now() - 3600_000);
    utimesSync(path.join(tiny.dir, 'model.onnx'), old, old);
    const m = await loadModel(tiny.dir);
    expect(m.engine.name).toBe('onnx');
    m.dispose();
  });

  it('validates the input length and the file', async () => {
    const engine = await onnxEngine(path.join(tiny.dir, 'model.onnx'), { threads: 1 });
    await expect(engine.run(new Float32Array(10), 1, 64, 64, 3)).rejects.toThrow(/expected/);
    engine.dispose();
    const bad = await onnxEngine(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(isDentsegError(bad) && bad.code).toBe('E_MODEL_INVALID');
    await expect(onnxEngine(path.join(tiny.dir, 'model.onnx'), { threads: 0 })).rejects.toThrow(
      /threads/,
    );
  });

  it('exports a float16 model folder (weights dequantised to float32)', async () => {
    const half = tempDirFor('dentseg-onnx-f16-');
    try {
      await saveModelFolder(half, tiny.model, tiny.meta, { float16: true });
      await exportOnnx(half);
      const v = await verifyOnnx(half);
      expect(v.ok).toBe(true);
    } finally {
      rmSync(half, { recursive: true, force: true });
    }
  });

  it('dentseg export --model DIR --onnx FILE --verify', () => {
    const out = path.join(tiny.dir, 'cli.onnx');
    const r = runCliSync(['export', '--model', tiny.dir, '--onnx', out, '--verify']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/opset 17/);
    expect(r.stdout).toMatch(/verify: .*\(ok/);
    expect(existsSync(out)).toBe(true);
    const missing = runCliSync(['export', '--model', path.join(tiny.dir, 'nope')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/E_MODEL_INVALID|E_FILE_NOT_FOUND/);
  });
});
