/**
 * The CPU features that decide convolution speed (AVX-512, VNNI for int8 dot products,
 * BF16, AMX), read from /proc/cpuinfo, so every benchmark can record them beside its numbers.
 */
import { readFileSync } from 'node:fs';

/** Flags of the first CPU, or 'unknown' where /proc/cpuinfo cannot be read. */
export function cpuFlags(): Record<string, boolean> | 'unknown' {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return 'unknown';
  }
  const line = /^flags\s*:(.*)$/m.exec(text)?.[1] ?? '';
  const have = new Set(line.trim().split(/\s+/));
  return {
    avx2: have.has('avx2'),
    avx512: have.has('avx512f'),
    avx512Vnni: have.has('avx512_vnni'),
    avxVnni: have.has('avx_vnni'),
    avx512Bf16: have.has('avx512_bf16'),
    amx: have.has('amx_tile'),
  };
}
