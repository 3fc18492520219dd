/**
 * Backend registry: candidates in priority order, the first that initialises wins unless
 * the user forces one (`--backend` / `DENTSEG_BACKEND`). Every failure is remembered so
 * that "none worked" reports all the reasons together.
 */
import os from 'node:os';
import * as tfCore from '@tensorflow/tfjs-core';
import { DentsegError } from '../errors.js';
import { registerLeanGradients } from './gradients.js';
import { defaultThreads } from './threads.js';

import {
  BACKEND_INSTALL,
  BACKEND_NAMES,
  backendProblem,
  type BackendName,
} from './backend-names.js';

export { BACKEND_NAMES, type BackendName };

export interface EngineOptions {
  /** Force a backend; otherwise `DENTSEG_BACKEND`, otherwise the first that loads. */
  readonly backend?: BackendName | undefined;
  /**
   * Threads for backends that take a count (wasm: 1–8). Default: `DENTSEG_THREADS`, else
   * all cores Node sees. Capped at that core count.
   */
  readonly threads?: number | undefined;
  /**
   * Cap the wasm heap (MiB, 16–4096; default 4096, the wasm32 limit). Applies to the
   * threaded wasm build; a kernel that needs more fails with E_ENGINE_OOM.
   */
  readonly wasmHeapMB?: number | undefined;
  /** Print the chosen backend to stderr (the CLI does; tests and the library do not). */
  readonly log?: boolean | undefined;
}

export interface EngineInfo {
  readonly backend: BackendName;
  /** Threads the backend really computes with (wasm: XNNPACK's pool, as it reports it). */
  readonly threads: number;
  /** Why the backend runs with fewer threads than asked for, when it does. */
  readonly note?: string | undefined;
  /** Why higher-priority backends were skipped. */
  readonly skipped: readonly { backend: BackendName; reason: string }[];
}

interface Started {
  readonly threads: number;
  readonly note?: string | undefined;
}

/** How each backend starts; one row per name in BACKEND_NAMES. */
const INITIALISERS: Record<
  BackendName,
  (threads: number, options: EngineOptions) => Promise<Started>
> = {
  torch: initTorch,
  tensorflow: initTensorflow,
  wasm: initWasm,
  cpu: initCpu,
};

let current: EngineInfo | undefined;
let pending: Promise<EngineInfo> | undefined;

async function initTorch(threads: number): Promise<Started> {
  // Optional: the libtorch addon exists where `npm ci` found libtorch (see src/engine/torch).
  const { registerTorchBackend } = await import('./torch/index.js');
  const got = registerTorchBackend({ threads });
  if (!(await tfCore.setBackend('torch'))) throw new Error('setBackend failed');
  return { threads: got };
}

async function initTensorflow(): Promise<Started> {
  // Optional dependency: present only where the user could install it (needs internet).
  await import('@tensorflow/tfjs-node' as string);
  if (!(await tfCore.setBackend('tensorflow'))) throw new Error('setBackend failed');
  return { threads: os.cpus().length };
}

async function initWasm(threads: number, options: EngineOptions): Promise<Started> {
  // Importing the package registers tfjs' wasm kernels (and its own backend factory, which
  // dentseg replaces: see wasm/module.ts for why).
  await import('@tensorflow/tfjs-backend-wasm');
  const { startWasm } = await import('./wasm/index.js');
  return startWasm(threads, { maxHeapMB: options.wasmHeapMB });
}

async function initCpu(): Promise<Started> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tfCore.setBackend('cpu'))) throw new Error('setBackend failed');
  return { threads: 1 };
}

function parseBackend(value: string, source: string): BackendName {
  const problem = backendProblem(value);
  if (problem === undefined) return value as BackendName;
  throw new DentsegError('E_USAGE', `${source} "${value}" is not a backend: ${problem}`);
}

/**
 * Initialise the engine once per process; later calls return the same info. A forced
 * backend that fails is an error (never a silent fallback).
 */
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  if (
    options.threads !== undefined &&
    !(Number.isInteger(options.threads) && options.threads >= 1)
  ) {
    return Promise.reject(
      new DentsegError(
        'E_USAGE',
        `threads must be a positive integer; received ${options.threads}`,
      ),
    );
  }
  const heap = options.wasmHeapMB;
  if (heap !== undefined && !(Number.isInteger(heap) && heap >= 16 && heap <= 4096)) {
    return Promise.reject(
      new DentsegError(
        'E_USAGE',
        `wasmHeapMB must be an integer from 16 to 4096; received ${heap}`,
      ),
    );
  }
  if (current) return Promise.resolve(current);
  pending ??= (async () => {
    registerLeanGradients();
    const envBackend = process.env.DENTSEG_BACKEND;
    const forced =
      options.backend !== undefined
        ? parseBackend(options.backend, 'backend')
        : envBackend
          ? parseBackend(envBackend, 'DENTSEG_BACKEND')
          : undefined;
    const threads =
      options.threads !== undefined
        ? Math.min(options.threads, Math.max(1, os.availableParallelism()))
        : defaultThreads();
    const candidates = forced ? [forced] : BACKEND_NAMES;
    const skipped: { backend: BackendName; reason: string }[] = [];
    for (const name of candidates) {
      try {
        const started = await INITIALISERS[name](threads, options);
        current = Object.freeze({ backend: name, ...started, skipped });
        if (options.log) {
          const note = started.note ? ` (${started.note})` : '';
          console.error(`dentseg engine: backend=${name} threads=${started.threads}${note}`);
        }
        return current;
      } catch (err) {
        skipped.push({ backend: name, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    if (forced) {
      const others = BACKEND_NAMES.filter((b) => b !== forced).join(', ');
      throw new DentsegError(
        'E_BACKEND_UNAVAILABLE',
        `backend ${forced} (asked for with ${options.backend !== undefined ? '--backend' : 'DENTSEG_BACKEND'}) could not be started: ${skipped[0]?.reason ?? 'unknown reason'}`,
        { hint: `${BACKEND_INSTALL[forced]}; or pick another: ${others}` },
      );
    }
    throw new DentsegError(
      'E_BACKEND_UNAVAILABLE',
      `no compute backend could be initialised: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
      { hint: 'npm ci installs the wasm and cpu backends; reinstall the dependencies' },
    );
  })();
  pending.catch(() => (pending = undefined));
  return pending;
}

/** The engine chosen by `initEngine`, or undefined before it ran. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}
