/**
 * Read an augmentation config file (JSON or YAML) from disk: the Node side of
 * src/augment, kept out of its index so the stage stays free of I/O.
 */
import { readFile } from 'node:fs/promises';
import { load as loadYaml } from 'js-yaml';
import { DentsegError } from '../errors.js';
import { normaliseAugmentConfig, type AugmentConfig } from './config.js';

/**
 * Load and validate an augmentation config (`.json`, `.yaml`/`.yml`): `{transforms: [...]}`
 * or a bare list of transforms. Returns it as written (validated, frozen) so it can be
 * saved with a run unchanged. Errors: E_FILE_NOT_FOUND, E_CONFIG_INVALID naming the key.
 */
export async function loadAugmentConfig(file: string): Promise<AugmentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DentsegError('E_FILE_NOT_FOUND', 'augmentation config not found', {
      file,
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? loadYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new DentsegError(
      'E_CONFIG_INVALID',
      `cannot parse: ${(err as Error).message.split('\n')[0]}`,
      { file },
    );
  }
  try {
    normaliseAugmentConfig(parsed);
    const cfg = (Array.isArray(parsed) ? { transforms: parsed } : parsed) as AugmentConfig;
    return Object.freeze(cfg);
  } catch (err) {
    if (err instanceof DentsegError)
      throw new DentsegError(err.code, err.message, { file, hint: err.hint ?? '' });
    throw err;
  }
}
