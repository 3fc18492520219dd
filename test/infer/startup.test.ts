// What `dentseg` loads at start-up (issue 7: predict on a full-size X-ray in ≤ 1.5 s on
// 2 cores). Every command's file is read for any call, so a heavy import at the top of one
// of them slows all of them: TensorFlow.js alone costs ~0.4 s, fastify, h5wasm and the
// training code more. These tests trace the modules the ESM loader resolves.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, SAMPLES, runCliSync } from '../helpers/paths.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HAS_ONNX_MODEL = existsSync(path.join(REPO_ROOT, 'models/teeth-binary/model.onnx'));

/** Run the CLI with the import tracer; the resolved module URLs that match `heavy`. */
function tracedRun(
  name: string,
  args: readonly string[],
): { status: number | null; loaded: string[] } {
  const trace = path.join(dir, `${name}.txt`);
  const tracer = path.join(REPO_ROOT, 'test/helpers/trace-imports.mjs');
  const res = runCliSync(args, {
    env: { DENTSEG_TRACE_IMPORTS: trace, NODE_OPTIONS: `--import ${tracer}` },
    timeoutMs: 120_000,
  });
  expect(res.stderr).not.toMatch(/Error|error:/);
  const urls = existsSync(trace) ? readFileSync(trace, 'utf8').split('\n') : [];
  return { status: res.status, loaded: urls.filter((u) => u !== '') };
}

const HEAVY = /@tensorflow\/tfjs|h5wasm|fastify|better-sqlite3|@napi-rs\/canvas|\/train\/session/;

describe('dentseg start-up', () => {
  it('--version loads no engine, server or training code', () => {
    const { status, loaded } = tracedRun('version', ['--version']);
    expect(status).toBe(0);
    expect(loaded.some((u) => u.includes('/src/cli/predict'))).toBe(true); // the tracer works
    expect(loaded.filter((u) => HEAVY.test(u) || u.includes('onnxruntime'))).toEqual([]);
  });

  it.skipIf(!HAS_SHARED_DATA || !HAS_ONNX_MODEL)(
    'predict with the bundled ONNX model never loads TensorFlow.js',
    () => {
      const { status, loaded } = tracedRun('predict', [
        'predict',
        '--input',
        path.join(SAMPLES, 'images', 'abdi-1.png'),
        '--output',
        path.join(dir, 'out'),
      ]);
      expect(status).toBe(0);
      expect(existsSync(path.join(dir, 'out', 'abdi-1.mask.png'))).toBe(true);
      expect(loaded.some((u) => u.includes('onnxruntime-node'))).toBe(true);
      expect(loaded.filter((u) => HEAVY.test(u))).toEqual([]);
      // Running a model needs ONNX Runtime, not the exporter's protobuf writer.
      expect(loaded.filter((u) => u.includes('protobufjs'))).toEqual([]);
    },
  );
});
