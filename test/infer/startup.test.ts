// What `dentseg` loads at start-up (issue 7: predict on a full-size X-ray in ≤ 1.5 s on
// 2 cores). Every command's file is read for any call, so a heavy import at the top of one
// of them slows all of them: TensorFlow.js alone costs ~0.4 s, fastify, h5wasm and the
// training code more. These tests trace the modules the ESM loader resolves.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_SHARED_DATA, REPO_ROOT, SAMPLES, runCliSync, spawnServe } from '../helpers/paths.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HAS_ONNX_MODEL = existsSync(path.join(REPO_ROOT, 'models/teeth-binary/model.onnx'));

const tracer = path.join(REPO_ROOT, 'test/helpers/trace-imports.mjs');
const traceEnv = (trace: string): NodeJS.ProcessEnv => ({
  DENTSEG_TRACE_IMPORTS: trace,
  NODE_OPTIONS: `--import ${tracer}`,
});
const readTrace = (trace: string): string[] =>
  existsSync(trace)
    ? readFileSync(trace, 'utf8')
        .split('\n')
        .filter((u) => u !== '')
    : [];

/** Run the CLI with the import tracer: exit status, stderr and the resolved module URLs. */
function tracedRun(
  name: string,
  args: readonly string[],
): { status: number | null; stderr: string; loaded: string[] } {
  const trace = path.join(dir, `${name}.txt`);
  const res = runCliSync(args, { env: traceEnv(trace), timeoutMs: 120_000 });
  expect(res.stderr).not.toMatch(/Error|error:/);
  return { status: res.status, stderr: res.stderr, loaded: readTrace(trace) };
}

/**
 * Start `dentseg serve` with the import tracer, fetch its health route, stop it with
 * SIGTERM: the health answer, stderr and the module URLs it resolved.
 */
async function tracedServe(
  args: readonly string[],
): Promise<{ health: Record<string, unknown>; stderr: string; loaded: string[] }> {
  const trace = path.join(dir, 'serve.txt');
  const started = await spawnServe(args, 90_000, traceEnv(trace));
  const { child, url } = started;
  let { stderr } = started;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    const health = (await (await fetch(`${url}/api/v1/health`)).json()) as Record<string, unknown>;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    return { health, stderr, loaded: readTrace(trace) };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
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
      const { status, stderr, loaded } = tracedRun('predict', [
        'predict',
        '--input',
        path.join(SAMPLES, 'images', 'abdi-1.png'),
        '--output',
        path.join(dir, 'out'),
      ]);
      expect(status).toBe(0);
      expect(stderr).toMatch(/^dentseg engine: onnx \(onnxruntime-node, \d+ threads?\)$/m);
      expect(existsSync(path.join(dir, 'out', 'abdi-1.mask.png'))).toBe(true);
      expect(loaded.some((u) => u.includes('onnxruntime-node'))).toBe(true);
      // The bundled set numbers teeth, so its chart is drawn: the canvas is loaded for it.
      const charts = existsSync(path.join(dir, 'out', 'abdi-1.chart.png'));
      expect(
        loaded.filter((u) => HEAVY.test(u) && !(charts && u.includes('@napi-rs/canvas'))),
      ).toEqual([]);
      // Running a model needs ONNX Runtime, not the exporter's protobuf writer.
      expect(loaded.filter((u) => u.includes('protobufjs'))).toEqual([]);
    },
  );

  it.skipIf(!HAS_ONNX_MODEL)(
    'serve with the bundled ONNX model starts no TensorFlow.js backend and says what runs',
    async () => {
      const { health, stderr, loaded } = await tracedServe([
        '--port',
        '0',
        '--data-dir',
        path.join(dir, 'serve-data'),
      ]);
      expect(health).toMatchObject({ engine: 'onnx', backend: 'onnxruntime-node' });
      expect(stderr).toMatch(/^dentseg engine: onnx \(onnxruntime-node, \d+ threads?\)$/m);
      expect(stderr).not.toMatch(/backend=/);
      expect(loaded.some((u) => u.includes('onnxruntime-node'))).toBe(true);
      expect(loaded.filter((u) => /@tensorflow\/|\/src\/engine\/backends/.test(u))).toEqual([]);
    },
  );

  it.skipIf(!HAS_SHARED_DATA || !HAS_ONNX_MODEL)(
    'predict --backend with an ONNX model starts no backend and says it is unused',
    () => {
      const { status, stderr, loaded } = tracedRun('predict-backend', [
        '--backend',
        'wasm',
        'predict',
        '--input',
        path.join(SAMPLES, 'images', 'abdi-1.png'),
        '--output',
        path.join(dir, 'out-backend'),
      ]);
      expect(status).toBe(0);
      expect(stderr).toMatch(/^dentseg engine: onnx \(onnxruntime-node, \d+ threads?\)$/m);
      expect(stderr).toMatch(/--backend wasm is not used.*--engine tfjs/);
      expect(loaded.filter((u) => u.includes('@tensorflow/'))).toEqual([]);
    },
  );
});
