/**
 * Number flags checked once at the boundary, so a refusal names the flag the user typed,
 * what it must be and what it received (never a library option name such as `inputSize`).
 */
import { DentsegError } from '../errors.js';

/** `v` as a number that passes `check`, else E_USAGE naming `flag`. */
export function numberFlag(
  flag: string,
  v: unknown,
  check: (n: number) => boolean = () => true,
  expected = 'a number',
): number {
  const n = typeof v === 'string' && v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || !check(n))
    throw new DentsegError('E_USAGE', `${flag} must be ${expected}; received "${String(v)}"`);
  return n;
}

/** A number within [`min`, `max`] (`max` unbounded by default). */
export function rangeFlag(flag: string, v: unknown, min: number, max = Infinity): number {
  return numberFlag(flag, v, (n) => n >= min && n <= max, `a number in [${min}, ${max}]`);
}

/** An integer ≥ `min` (and ≤ `max` when given). */
export function intFlag(flag: string, v: unknown, min: number, max?: number): number {
  return numberFlag(
    flag,
    v,
    (n) => Number.isInteger(n) && n >= min && (max === undefined || n <= max),
    max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
  );
}

/** A square input size in pixels: a multiple of 32, at least 32. */
export function sizeFlag(flag: string, v: unknown): number {
  return numberFlag(
    flag,
    v,
    (n) => Number.isInteger(n) && n >= 32 && n % 32 === 0,
    'a multiple of 32 (≥ 32; the U-Net halves it five times)',
  );
}

/** Input channels: 1 (grey) or 3. */
export function channelsFlag(flag: string, v: unknown): 1 | 3 {
  return numberFlag(flag, v, (n) => n === 1 || n === 3, '1 or 3') as 1 | 3;
}

/** Output classes of a U-Net: 1 (binary) to 255. */
export function classesFlag(flag: string, v: unknown): number {
  return intFlag(flag, v, 1, 255);
}
