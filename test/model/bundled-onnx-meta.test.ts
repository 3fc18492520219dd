/**
 * A bundled model's `model.onnx` is what the browser's private mode downloads, and the page
 * reads the model's `dentseg.json` from the file's metadata, not from the folder. So every
 * change to a bundled `dentseg.json` (a version, `postprocess.tta`, a tooth gate) must come
 * with a re-export (`dentseg export --model DIR --verify`), or the page runs the model
 * differently from `predict` and `serve`: this test holds the two equal.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnxModelMeta } from '../../src/infer/onnx-metadata.js';
import { parseModelMeta } from '../../src/model/index.js';
import { REPO_ROOT } from '../helpers/paths.js';

const MODELS = path.join(REPO_ROOT, 'models');
const bundled = readdirSync(MODELS).filter((d) => existsSync(path.join(MODELS, d, 'model.onnx')));

describe('bundled ONNX files carry their folder’s dentseg.json', () => {
  it('finds the bundled models', () => {
    expect(bundled).toEqual(expect.arrayContaining(['teeth-binary', 'teeth-fdi', 'caries']));
  });

  it.each(bundled)('%s: model.onnx metadata = dentseg.json', (name) => {
    const dir = path.join(MODELS, name);
    const folder = parseModelMeta(
      JSON.parse(readFileSync(path.join(dir, 'dentseg.json'), 'utf8')),
      `${name}/dentseg.json`,
    );
    const embedded = onnxModelMeta(
      new Uint8Array(readFileSync(path.join(dir, 'model.onnx'))),
      name,
    );
    expect(embedded, `re-export it: npx dentseg export --model models/${name} --verify`).toEqual(
      folder,
    );
  });
});
