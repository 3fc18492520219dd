/**
 * Backend registry: candidates in priority order, the first that initialises wins unless
 * the user forces one (`--backend` / `DENTSEG_BACKEND`). Every failure is remembered so
 * that "none worked" reports all the reasons together.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tfCore from '@tensorflow/tfjs-core';
import { DentsegError } from '../errors.js';

/** Backends in priority order: native first, portable last. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface EngineOptions {
  /** Force a backend; otherwise `DENTSEG_BACKEND`, otherwise the first that loads. */
  readonly backend?: BackendName | undefined;
  /** Threads for backends that take a count (wasm). Default: all cores. */
  readonly threads?: number | undefined;
  /** Print the chosen backend to stderr (the CLI does; tests and the library do not). */
  readonly log?: boolean | undefined;
}

export interface EngineInfo {
  readonly backend: BackendName;
  readonly threads: number;
  /** Why higher-priority backends were skipped. */
  readonly skipped: readonly { backend: BackendName; reason: string }[];
}

const require = createRequire(import.meta.url);
let current: EngineInfo | undefined;
let pending: Promise<EngineInfo> | undefined;

async function initTensorflow(): Promise<number> {
  // Optional dependency: present only where the user could install it (needs internet).
  await import('@tensorflow/tfjs-node' as string);
  if (!(await tfCore.setBackend('tensorflow'))) throw new Error('setBackend failed');
  return os.cpus().length;
}

async function initWasm(threads: number): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist =
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') +
    path.sep;
  wasm.setWasmPaths(dist);
  void threads;
  if (!(await tfCore.setBackend('wasm'))) throw new Error('setBackend failed');
  const { registerWasmKernels } = await import('./wasm/index.js');
  registerWasmKernels();
  return wasm.getThreadsCount();
}

async function initCpu(): Promise<number> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tfCore.setBackend('cpu'))) throw new Error('setBackend failed');
  return 1;
}

function parseBackend(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new DentsegError(
    'E_USAGE',
    `${source} must be one of ${BACKEND_NAMES.join(', ')}; received "${value}"`,
  );
}

async function tryInit(name: BackendName, threads: number): Promise<number> {
  switch (name) {
    case 'tensorflow':
      return initTensorflow();
    case 'wasm':
      return initWasm(threads);
    case 'cpu':
      return initCpu();
  }
}

/**
 * Initialise the engine once per process; later calls return the same info. A forced
 * backend that fails is an error (never a silent fallback).
 */
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  if (current) return Promise.resolve(current);
  pending ??= (async () => {
    const envBackend = process.env.DENTSEG_BACKEND;
    const forced =
      options.backend ?? (envBackend ? parseBackend(envBackend, 'DENTSEG_BACKEND') : undefined);
    const threads = options.threads ?? Math.max(1, os.cpus().length);
    const candidates = forced ? [forced] : BACKEND_NAMES;
    const skipped: { backend: BackendName; reason: string }[] = [];
    for (const name of candidates) {
      try {
        const got = await tryInit(name, threads);
        current = Object.freeze({ backend: name, threads: got, skipped });
        if (options.log) console.error(`dentseg engine: backend=${name} threads=${got}`);
        return current;
      } catch (err) {
        skipped.push({ backend: name, reason: err instanceof Error ? err.message : String(err) });
      }
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
