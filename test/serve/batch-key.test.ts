/**
 * `dentseg batch --model DIR …`: the work is keyed by the model set — one folder keys as it
 * always did (queued work stays recognised), a set by every folder in order — and the
 * repeatable flag is validated once (cli/flags.ts).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelDirsFlag } from '../../src/cli/flags.js';
import { modelSetKey } from '../../src/serve/batch.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';

const dir = tempDir('dentseg-batch-key-');
const a = path.join(dir, 'a');
const b = path.join(dir, 'b');

beforeAll(async () => {
  await writeTinyModel(a);
  await writeTinyModel(b, {
    name: 'tiny-caries',
    target: 'caries',
    postprocess: { lesion: 'caries' },
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the model set keys batch work', () => {
  it('one folder keys as before; a set by its folders in order', async () => {
    const one = await modelSetKey(a);
    expect(await modelSetKey([a])).toBe(one);
    const set = await modelSetKey([a, b]);
    expect(set).not.toBe(one);
    expect(set).not.toBe(await modelSetKey(b));
    expect(await modelSetKey([b, a])).not.toBe(set);
  });

  it('--model repeatable: absent = the bundled set, each folder once', () => {
    expect(modelDirsFlag(undefined)).toBeUndefined();
    expect(modelDirsFlag(['m/a', 'm/b'])).toEqual(['m/a', 'm/b']);
    expect(() => modelDirsFlag(['m/a', './m/a/'])).toThrow(
      /Expected each model folder once for --model but received "m\/a" and "\.\/m\/a\/"/,
    );
    expect(() => modelDirsFlag(['  '])).toThrow(/Expected a model folder for --model/);
  });
});
