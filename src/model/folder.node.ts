/**
 * Model folders on disk (docs/model-folder.md): `model.json` + `weights.bin` +
 * `dentseg.json`, read and written with file-based tfjs IO handlers (no tfjs-node).
 * A `.node.ts` file: the model stage's Node I/O, kept out of its platform-free index so
 * the browser bundle and the pure stages never pull in `node:fs`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { DentsegError } from '../errors.js';
import {
  joinWeightData,
  modelArtifacts,
  modelFromJson,
  modelJsonFor,
  quantizeFloat16,
} from './artifacts.js';
import { parseModelMeta, type ModelMeta } from './meta.js';

/** Options of {@link saveModelFolder}. */
export interface SaveModelOptions {
  /** Store weights as float16 (half the size; tfjs decodes them to float32 on load). */
  readonly float16?: boolean;
}

/**
 * Write `model` and `meta` into `dir` (created if needed; existing files replaced):
 * `model.json`, `weights.bin`, `dentseg.json`. Writing into a temp folder and renaming it
 * is the caller's business where atomicity matters (the trainer does).
 */
export async function saveModelFolder(
  dir: string,
  model: LayersModel,
  meta: ModelMeta,
  options: SaveModelOptions = {},
): Promise<void> {
  const artifacts = await modelArtifacts(model);
  let specs = artifacts.weightSpecs ?? [];
  let data = joinWeightData(artifacts.weightData);
  if (options.float16) ({ specs, data } = quantizeFloat16(specs, data));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(data));
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJsonFor(artifacts, specs)));
  await writeFile(path.join(dir, 'dentseg.json'), JSON.stringify(meta, null, 2) + '\n');
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DentsegError('E_MODEL_INVALID', 'missing or unreadable', {
      file,
      hint: 'point --model at a folder written by `dentseg train`',
      cause: err,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DentsegError('E_MODEL_INVALID', 'not valid JSON', { file, cause: err });
  }
}

/** Read and check a model folder's `dentseg.json` alone (no weights). */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const metaFile = path.join(dir, 'dentseg.json');
  return parseModelMeta(await readJson(metaFile), metaFile);
}

/** Load a model folder written by {@link saveModelFolder} (or `dentseg train`). */
export async function loadModelFolder(
  dir: string,
): Promise<{ model: LayersModel; meta: ModelMeta }> {
  const meta = await readModelMeta(dir);
  const jsonFile = path.join(dir, 'model.json');
  const json = (await readJson(jsonFile)) as io.ModelJSON;
  if (typeof json !== 'object' || json === null || !Array.isArray(json.weightsManifest)) {
    throw new DentsegError('E_MODEL_INVALID', 'not a tfjs layers model.json (no weightsManifest)', {
      file: jsonFile,
    });
  }
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = path.join(dir, p);
      try {
        buffers.push(await readFile(file));
      } catch (err) {
        throw new DentsegError('E_MODEL_INVALID', 'weights file missing or unreadable', {
          file,
          cause: err,
        });
      }
    }
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weights = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    weights.set(b, at);
    at += b.byteLength;
  }
  let model: LayersModel;
  try {
    model = await modelFromJson(json, weights.buffer);
  } catch (err) {
    throw new DentsegError(
      'E_MODEL_INVALID',
      `model.json and weights do not load: ${err instanceof Error ? err.message : String(err)}`,
      { file: dir, cause: err },
    );
  }
  return { model, meta };
}
