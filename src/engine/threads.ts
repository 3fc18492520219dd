/**
 * Thread count policy shared by every engine (tfjs backends and ONNX Runtime). Kept apart
 * from backends.ts, which loads tfjs-core, so that the ONNX path can read it without
 * paying for TensorFlow.js at start-up.
 */
import os from 'node:os';
import { DentsegError } from '../errors.js';

/** Threads when none are asked for: `DENTSEG_THREADS` (validated, capped at the cores) or all cores. */
export function defaultThreads(): number {
  const cores = Math.max(1, os.availableParallelism());
  const env = process.env.DENTSEG_THREADS;
  if (env === undefined || env === '') return cores;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) {
    throw new DentsegError(
      'E_USAGE',
      `DENTSEG_THREADS must be a positive integer; received "${env}"`,
    );
  }
  return Math.min(n, cores);
}
