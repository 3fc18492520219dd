import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DentsegError, ERROR_CODES, isDentsegError } from '../src/errors.js';

describe('errors', () => {
  it('documents every error code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const missing = ERROR_CODES.filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('names the file in the message and keeps code and hint', () => {
    const err = new DentsegError('E_IMAGE_DECODE', 'truncated JPEG', {
      file: 'a.jpg',
      hint: 're-export',
    });
    expect(err.message).toBe('a.jpg: truncated JPEG');
    expect(err.code).toBe('E_IMAGE_DECODE');
    expect(isDentsegError(err)).toBe(true);
    expect(isDentsegError(new Error('x'))).toBe(false);
  });
});
