/**
 * Which model a benchmark times: `--model DIR`, else the bundled default, else a
 * random-init width-0.25 U-Net at 256² (the bundled model's shape, so the same cost).
 * Shared by bench:predict and bench:serve so both time the same thing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PREPROCESS } from '../src/data/index.js';
import { DEFAULT_MODEL_DIR } from '../src/infer/index.js';
import {
  architectureOf,
  buildUnet,
  normalizeUnetOptions,
  type ModelMeta,
} from '../src/model/index.js';
import { saveModelFolder } from '../src/model/folder.node.js';

/** The model folder to time and a line saying which one it is. `tmp` holds a random model. */
export async function modelUnderTest(
  explicit: string | undefined,
  tmp: string,
): Promise<{ dir: string; description: string }> {
  if (explicit) return { dir: explicit, description: `--model ${explicit}` };
  if (existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'))) {
    return { dir: DEFAULT_MODEL_DIR, description: 'bundled models/teeth-binary/' };
  }
  const unet = normalizeUnetOptions({
    inputSize: [256, 256],
    channels: 3,
    classes: 1,
    width: 0.25,
  });
  const net = buildUnet(unet);
  const meta: ModelMeta = {
    format: 1,
    name: 'random-w025-256',
    version: '0.0.0',
    task: 'binary',
    classes: ['teeth'],
    input: { size: [256, 256], channels: 3 },
    preprocess: { ...DEFAULT_PREPROCESS, size: [256, 256] },
    architecture: architectureOf(unet),
  };
  const dir = path.join(tmp, 'model');
  await saveModelFolder(dir, net, meta);
  net.dispose();
  return {
    dir,
    description: 'random-init VGG16 U-Net, width 0.25, 256² (the bundled model was absent)',
  };
}
