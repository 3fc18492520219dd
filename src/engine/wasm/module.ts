/**
 * Builds tfjs-backend-wasm's `BackendWasm` ourselves instead of through its `init()`, for
 * three things the stock path cannot do in Node:
 *  - threads: tfjs turns wasm threads off in Node (it hands pthread workers a blob: URL,
 *    which Node's Worker cannot load) and its C++ side caps the pool at logical cores / 2.
 *    We give emscripten the worker script as a file, and let the glue see at least
 *    2 × threads cores (only the glue: it is compiled with its own `require`).
 *  - print hooks: XNNPACK failures are only printed; `xnn-status.ts` turns them into errors.
 *  - a checked malloc: a failed allocation must not hand back pointer 0.
 * If the threaded build cannot start, the single-threaded SIMD build is used and the reason
 * is reported, never hidden.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { DentsegError } from '../../errors.js';

const require = createRequire(import.meta.url);

/** The emscripten module as tfjs' BackendWasm expects it (only what we touch is typed). */
export interface WasmModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  _malloc(bytes: number): number;
  asm?: { malloc?: (bytes: number) => number };
  PThread?: { runningWorkers: unknown[]; unusedWorkers: unknown[] };
  tfjs?: Record<string, unknown>;
}

type Factory = (config: Record<string, unknown>) => Promise<WasmModule>;

export interface WasmBuild {
  readonly backend: BackendWasm;
  readonly module: WasmModule;
  /** Threads in XNNPACK's pool, as the C++ side reports them. */
  readonly threads: number;
  /** Why fewer threads than asked for were obtained (undefined when all were). */
  readonly note: string | undefined;
}

/** XNNPACK's pthread pool is created with at most 8 workers (tfjs' build). */
export const MAX_WASM_THREADS = 8;
const INIT_TIMEOUT_MS = 30_000;
/** Largest wasm32 heap emscripten can grow to (bytes). */
const WASM_HEAP_MAX = 4294901760;

function packageDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/**
 * Compile an emscripten glue script (CommonJS) with a `require` whose `os.cpus()` reports
 * `cores` entries; everything else is Node's own module.
 */
function loadGlue(file: string, cores: number): Factory {
  const source = fs.readFileSync(file, 'utf8');
  const fakeOs = {
    ...os,
    cpus: () => {
      const real = os.cpus();
      return Array.from({ length: cores }, (_, i) => real[i % Math.max(real.length, 1)]);
    },
  };
  const glueRequire = (id: string): unknown => (id === 'os' ? fakeOs : require(id));
  const mod = { exports: {} as unknown };
  const wrapper = vm.runInThisContext(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file },
  ) as (e: unknown, r: unknown, m: unknown, f: string, d: string) => void;
  wrapper(mod.exports, glueRequire, mod, file, path.dirname(file));
  if (typeof mod.exports !== 'function') throw new Error(`${file} did not export a factory`);
  return mod.exports as Factory;
}

/**
 * The pthread worker script as a file (Node's Worker takes paths, not blob: URLs). Written
 * once per content hash into the temp folder; syntax-checked first, because a worker that
 * fails to parse takes the whole process down from inside emscripten.
 */
function workerScriptFile(dir: string): string {
  const { wasmWorkerContents } = require(
    path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };
  // The contents come from a template literal: escaped newlines inside its string
  // literals arrive as real newlines and must be escaped again.
  const contents = wasmWorkerContents.replace(/\n/g, '\\n');
  new vm.Script(contents, { filename: 'tfjs-wasm-worker.cjs' });
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 12);
  const file = path.join(os.tmpdir(), `dentseg-tfjs-wasm-worker-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  }
  return file;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface PrintHooks {
  print(line: string): void;
  printErr(line: string): void;
}

async function instantiate(
  threaded: boolean,
  threads: number,
  hooks: PrintHooks,
  options: CreateOptions = {},
): Promise<WasmModule> {
  const glueFile = threaded ? options.threadedGlue : undefined;
  const dir = packageDir();
  const glue =
    glueFile ??
    path.join(
      dir,
      'wasm-out',
      threaded ? 'tfjs-backend-wasm-threaded-simd.js' : 'tfjs-backend-wasm.js',
    );
  const wasmFile = path.join(
    dir,
    'dist',
    threaded ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm',
  );
  const worker = threaded ? workerScriptFile(dir) : undefined;
  const cores = Math.max(os.cpus().length, 2 * threads);
  const factory = loadGlue(glue, cores);
  let aborted: string | undefined;
  const config: Record<string, unknown> = {
    locateFile: (file: string, prefix: string) =>
      file.endsWith('.worker.js') && worker
        ? worker
        : file.endsWith('.wasm')
          ? wasmFile
          : prefix + file,
    print: hooks.print,
    printErr: hooks.printErr,
    onAbort: (what: unknown) => {
      aborted = String(what);
    },
  };
  if (threaded) {
    config.mainScriptUrlOrBlob = glue;
    if (options.maxHeapMB !== undefined) {
      // Only the threaded build takes its memory from outside (shared, so it can be given).
      const pages = Math.ceil((options.maxHeapMB * 2 ** 20) / 65536);
      config.wasmMemory = new WebAssembly.Memory({
        initial: Math.min(256, pages),
        maximum: pages,
        shared: true,
      });
    }
  }
  try {
    return await withTimeout(factory(config), INIT_TIMEOUT_MS, path.basename(glue));
  } catch (err) {
    throw new Error(aborted ?? (err instanceof Error ? err.message : String(err)), {
      cause: err,
    });
  }
}

/** Wire the module the way tfjs' own init() does, then build the backend. */
async function toBackend(module: WasmModule, threads: number): Promise<BackendWasm> {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  // The raw export: emscripten's `_malloc` stub replaces itself with it on first call,
  // which would also replace a wrapper installed on top of the stub.
  const malloc = module.asm?.malloc ?? module._malloc.bind(module);
  module._malloc = (bytes: number): number => {
    // wasm32: sizes wrap at 4 GiB, and a failed malloc returns 0 (a valid address).
    const ptr = bytes > WASM_HEAP_MAX ? 0 : malloc(bytes);
    if (ptr === 0 && bytes > 0) {
      throw new DentsegError(
        'E_ENGINE_OOM',
        `the wasm heap cannot hold another ${(bytes / 2 ** 20).toFixed(1)} MiB tensor (limit: 4 GiB, or wasmHeapMB)`,
        { hint: 'use a smaller batch, input size or model width, or a native backend' },
      );
    }
    return ptr;
  };
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(threads);
  return new wasm.BackendWasm(module as never);
}

export interface CreateOptions {
  /** Another emscripten glue for the threaded build (tests use it to make it fail). */
  readonly threadedGlue?: string | undefined;
  /** Cap the wasm heap below its 4 GiB (MiB; threaded build only, ≥ 16). */
  readonly maxHeapMB?: number | undefined;
}

/**
 * A wasm backend with up to `threads` threads (capped at the cores Node sees and at 8).
 * Never throws for threads alone: the single-threaded build is the fallback.
 */
export async function createWasmBackend(
  threads: number,
  hooks: PrintHooks,
  options: CreateOptions = {},
): Promise<WasmBuild> {
  const wanted = Math.max(1, Math.min(Math.floor(threads), MAX_WASM_THREADS));
  let note: string | undefined;
  if (wanted > 1) {
    try {
      const module = await instantiate(true, wanted, hooks, options);
      const backend = await toBackend(module, wanted);
      // emscripten refs a Node worker while its pthread runs; XNNPACK's pool threads run
      // for the life of the process, so they would keep the event loop alive forever.
      for (const worker of module.PThread?.runningWorkers ?? []) {
        (worker as { unref?: () => void }).unref?.();
      }
      const got = (module.tfjs?.getThreadsCount as () => number)();
      if (got < wanted) note = `asked for ${wanted} threads, XNNPACK's pool has ${got}`;
      return { backend, module, threads: got, note };
    } catch (err) {
      note = `threaded wasm could not start (${err instanceof Error ? err.message : String(err)}); using 1 thread`;
    }
  }
  const module = await instantiate(false, 1, hooks);
  const backend = await toBackend(module, 1);
  return { backend, module, threads: 1, note };
}
