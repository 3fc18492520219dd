/**
 * The one reader of an image file from disk, so that every command names a missing file,
 * a folder or an unreadable file with the same code and words.
 */
import { readFile } from 'node:fs/promises';
import { DentsegError } from '../errors.js';

/**
 * The bytes of the file at `file`; `label` names it in errors (never made absolute).
 * Errors: E_FILE_NOT_FOUND (no such file, or a path through a file), E_USAGE (a folder
 * where an image was expected), E_IMAGE_DECODE (any other read failure, with its code).
 */
export async function readImageFile(file: string, label: string = file): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new DentsegError('E_FILE_NOT_FOUND', 'no such file', { file: label, cause: err });
    if (code === 'EISDIR')
      throw new DentsegError('E_USAGE', 'is a folder, not an image', { file: label, cause: err });
    throw new DentsegError('E_IMAGE_DECODE', `cannot read the file (${code ?? String(err)})`, {
      file: label,
      cause: err,
    });
  }
}
