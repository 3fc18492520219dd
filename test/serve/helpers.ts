/**
 * Fixtures for the server tests: the model they run (the bundled default when it exists,
 * otherwise a tiny random-weight U-Net saved in a temp folder), temp data dirs, and
 * multipart bodies for `app.inject()`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initEngine } from '../../src/engine/index.js';
import { DEFAULT_MODEL_DIR, loadModel, type LoadedModel } from '../../src/infer/index.js';
import type { ModelMeta } from '../../src/model/index.js';
import { SAMPLES } from '../helpers/paths.js';
import { writeTinyModel as writeTiny } from '../helpers/tiny-model.js';

/** The real full-size sample X-ray the tests upload. */
export const SAMPLE_XRAY = path.join(SAMPLES, 'images', 'abdi-1.png');
export const HAS_SAMPLE = existsSync(SAMPLE_XRAY);

/** True when the bundled default model has been trained and shipped. */
export const HAS_BUNDLED_MODEL = existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'));

const created: string[] = [];
process.once('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed when the test process exits. */
export function tempDir(prefix = 'dentseg-serve-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Save a tiny random U-Net (width 1/16, 64²; binary, or `classes` ≥ 2 softmax) in `dir`. */
export function writeTinyModel(dir: string, classes = 1): Promise<ModelMeta> {
  return writeTiny(dir, {
    classes,
    seed: 7,
    name: classes === 1 ? 'tiny-random' : 'tiny-random-multiclass',
  });
}

/**
 * The model for API tests: the bundled default when present (`real` true), else a tiny
 * random-weight model (its findings are meaningless, only their shape is checked).
 */
export async function testModel(): Promise<{ model: LoadedModel; real: boolean }> {
  await initEngine();
  if (HAS_BUNDLED_MODEL) return { model: await loadModel(), real: true };
  const dir = tempDir('dentseg-tiny-model-');
  await writeTinyModel(dir);
  return { model: await loadModel(dir), real: false };
}

/** A multipart/form-data body with one file field. */
export function multipart(
  content: Buffer,
  filename: string,
  field = 'file',
  type = 'application/octet-stream',
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----dentseg${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, content, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
