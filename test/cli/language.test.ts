// One CLI language, through the real commands: each settled meaning works with its new
// spelling and with the one that worked before (a contract), and a resumed run with a
// damaged config.json is refused naming the file and the field.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../helpers/paths.js';
import { tempDir, writeTinyModel } from '../infer/helpers.js';

const dir = tempDir('dentseg-cli-language-');
const model = path.join(dir, 'model');
const images = path.join(dir, 'images');
const masks = path.join(dir, 'masks');

beforeAll(async () => {
  await writeTinyModel(model);
  mkdirSync(images);
  mkdirSync(masks);
  // two small synthetic X-rays with a bright "tooth" and its 0/255 mask
  for (const [i, name] of ['a', 'b'].entries()) {
    const img = Buffer.alloc(96 * 64, 40);
    const mask = Buffer.alloc(96 * 64, 0);
    for (let y = 16; y < 48; y++)
      for (let x = 20 + i * 10; x < 50 + i * 10; x++) {
        img[y * 96 + x] = 200;
        mask[y * 96 + x] = 255;
      }
    const raw = { raw: { width: 96, height: 64, channels: 1 as const } };
    await sharp(img, raw)
      .png()
      .toFile(path.join(images, `${name}.png`));
    await sharp(mask, raw)
      .png()
      .toFile(path.join(masks, `${name}.png`));
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = ['--images', images, '--masks', masks];

function ok(r: ReturnType<typeof runCliSync>): ReturnType<typeof runCliSync> {
  expect(r.status, r.stderr).toBe(0);
  return r;
}

describe('--json [FILE]', () => {
  it('data check: bare prints JSON to stdout (as before); with a FILE writes it', () => {
    const bare = ok(runCliSync(['data', 'check', ...data, '--json']));
    expect(JSON.parse(bare.stdout)).toMatchObject({ task: 'binary', ok: 2 });
    const file = path.join(dir, 'check.json');
    const withFile = ok(runCliSync(['data', 'check', ...data, '--json', file]));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ task: 'binary', ok: 2 });
    // the summary, counting the classes the way train does
    expect(withFile.stdout).toContain('task: binary, 1 class (tooth)');
  }, 120_000);

  it('evaluate: with a FILE (as before); bare prints the report to stdout, the summary to stderr', () => {
    const file = path.join(dir, 'eval.json');
    ok(runCliSync(['evaluate', '--model', model, ...data, '--json', file]));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ images: 2 });
    const bare = ok(runCliSync(['evaluate', '--model', model, ...data, '--json']));
    expect(JSON.parse(bare.stdout)).toMatchObject({ images: 2 });
    expect(bare.stderr).toContain('pooled Dice');
  }, 240_000);
});

describe('--out everywhere', () => {
  it('predict takes --out, and --output as before', () => {
    for (const flag of ['--out', '--output']) {
      const out = path.join(dir, `pred${flag}`);
      ok(runCliSync(['predict', '--model', model, '--input', images, flag, out]));
      expect(readdirSync(out)).toContain('a.mask.png');
    }
  }, 240_000);

  it('export takes --out (--onnx, as before, is covered in errors.test.ts)', () => {
    const out = path.join(dir, 'onnx', 'tiny.onnx');
    ok(runCliSync(['export', '--model', model, '--out', out]));
    expect(existsSync(out)).toBe(true);
  }, 240_000);
});

describe('data preview', () => {
  it('--augment seed is the seed pipeline, not a file; --size takes N as well as H,W', () => {
    const out = path.join(dir, 'preview');
    const r = ok(
      runCliSync([
        'data',
        'preview',
        ...data,
        '--out',
        out,
        '-n',
        '1',
        '--augment',
        'seed',
        '--size',
        '64',
      ]),
    );
    expect(r.stderr).not.toContain('E_FILE_NOT_FOUND');
    const png = path.join(out, readdirSync(out)[0]!);
    return sharp(png)
      .metadata()
      .then((m) => {
        expect([m.width, m.height]).toEqual([128, 64]); // image and mask side by side
        const old = path.join(dir, 'preview-old');
        ok(runCliSync(['data', 'preview', ...data, '--out', old, '-n', '1', '--size', '64,64']));
        expect(readdirSync(old)).toHaveLength(1);
      });
  }, 240_000);
});

describe('model summary', () => {
  it('--classes takes names and, as before, a count; --json FILE writes, bare prints', () => {
    const base = ['model', 'summary', '--width', '0.0625', '--size', '64'];
    const byCount = ok(runCliSync([...base, '--classes', '3', '--json']));
    const file = path.join(dir, 'summary.json');
    ok(runCliSync([...base, '--classes', 'background,upper,lower', '--json', file]));
    const a = JSON.parse(byCount.stdout) as { params: number };
    const b = JSON.parse(readFileSync(file, 'utf8')) as { params: number };
    expect(b.params).toBe(a.params);
  }, 240_000);
});

describe('train --resume', () => {
  it('refuses a damaged config.json naming the file and the field (no cast)', () => {
    const run = path.join(dir, 'run');
    mkdirSync(run);
    const file = path.join(run, 'config.json');
    // as train wrote it up to `batch`, which was edited into text
    const config = { size: 64, channels: 1, dataset: {}, out: run, epochs: 2, batch: '8' };
    writeFileSync(file, JSON.stringify(config));
    const r = runCliSync(['train', '--resume', run], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`dentseg: error E_CHECKPOINT_INVALID: ${file}: Expected`);
    expect(r.stderr).toContain('Expected an integer ≥ 1 for batch but received "8" of type string');
  }, 120_000);
});

describe('dentseg --help', () => {
  it('lists the exit statuses and points to docs/errors.md, which the README links', () => {
    const r = ok(runCliSync(['--help']));
    for (const s of [
      '0 done',
      '1 failed',
      '2 partly failed',
      '64 usage',
      '130/143',
      'docs/errors.md',
    ])
      expect(r.stdout).toContain(s);
    const readme = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toMatch(/\[exit statuses\]\(docs\/errors\.md#exit-statuses\)/i);
  }, 60_000);
});
