/**
 * Node's inference engines, registered when Node's model loader (./load.ts) is imported:
 * TensorFlow.js for every model folder (`model.json`), and ONNX Runtime for Node, preferred
 * when the folder holds an up-to-date `model.onnx` (written by `dentseg export`).
 * onnxruntime-node and the tfjs model folder reader load lazily.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { registerEngine } from './engines.js';
import {
  INT8_ONNX_FILE,
  loadOnnxFolder,
  onnxFolderAvailable,
  onnxUnavailableReason,
} from './onnx-engine.node.js';
import { tfjsEngine } from './tfjs-engine.js';

registerEngine({
  name: 'tfjs',
  priority: 0,
  available: (dir) => existsSync(path.join(dir, 'model.json')),
  async load(dir) {
    const { loadModelFolder } = await import('../model/folder.node.js');
    const { model, meta } = await loadModelFolder(dir);
    return { engine: tfjsEngine(model), meta };
  },
});

registerEngine({
  name: 'onnx',
  priority: 10,
  available: (dir) => onnxFolderAvailable(dir),
  unavailableReason: (dir) => onnxUnavailableReason(dir),
  load: (dir) => loadOnnxFolder(dir),
});
// The int8 twin (`dentseg export --int8`) runs only when asked for: it trades a little
// accuracy for speed, a choice the user makes: below tfjs, so it is picked unasked only
// for a folder that holds nothing else.
registerEngine({
  name: 'onnx-int8',
  priority: -10,
  available: (dir) => onnxFolderAvailable(dir, INT8_ONNX_FILE),
  unavailableReason: (dir) => onnxUnavailableReason(dir, INT8_ONNX_FILE),
  load: (dir) => loadOnnxFolder(dir, { name: 'onnx-int8' }, INT8_ONNX_FILE),
});
