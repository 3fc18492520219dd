/**
 * loadAugmentConfig: JSON and YAML files, a bare list, and errors that name the file
 * and the key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAugmentConfig } from '../../src/augment/file.node.js';

describe('loadAugmentConfig', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-aug-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and JSON, keeping the file as written', async () => {
    const yml = path.join(dir, 'a.yaml');
    writeFileSync(
      yml,
      'transforms:\n  - { type: HorizontalFlip, p: 0.5 }\n  - { type: Affine, rotate: 10 }\n',
    );
    expect(await loadAugmentConfig(yml)).toEqual({
      transforms: [
        { type: 'HorizontalFlip', p: 0.5 },
        { type: 'Affine', rotate: 10 },
      ],
    });
    const json = path.join(dir, 'b.json');
    writeFileSync(json, JSON.stringify([{ type: 'RandomGamma', p: 1 }]));
    expect((await loadAugmentConfig(json)).transforms).toHaveLength(1);
  });

  it('names the file and the key', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ transforms: [{ type: 'Affine', rotat: 10 }] }));
    await expect(loadAugmentConfig(bad)).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      file: bad,
    });
    await expect(loadAugmentConfig(bad)).rejects.toThrow(/transforms\[0\]\.rotat/);
    const deg = path.join(dir, 'degrade.yaml');
    writeFileSync(
      deg,
      'transforms:\n  - { type: Degrade, p: 0.3, specs: [noise:0.02-0.1, blur:9-1] }\n',
    );
    await expect(loadAugmentConfig(deg)).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      file: deg,
    });
    await expect(loadAugmentConfig(deg)).rejects.toThrow(/transforms\[0\]\.specs\[1\].*blur:9-1/);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{');
    await expect(loadAugmentConfig(broken)).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    await expect(loadAugmentConfig(path.join(dir, 'none.yaml'))).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
  });
});
