// The one flag validator: refusals name the flag, the expected and the received value
// (sharp's invalidParameterError), E_USAGE for flags; a resumed run's config.json goes
// through the same rules and is refused naming the file and the field. Also the settled
// meaning of each shared flag, old and new spellings alike.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classesFromFlag } from '../../src/cli/classes-flag.js';
import { classesLine } from '../../src/cli/data.js';
import {
  checkNumber,
  checkNumberList,
  checkSize,
  fileSource,
  outFlag,
} from '../../src/cli/flags.js';
import { bareJsonToStdout, jsonTarget } from '../../src/cli/json-output.js';
import { trainConfigFromCli, trainConfigFromFile } from '../../src/cli/train-config.js';
import { DEFAULT_BINARY_CLASS } from '../../src/data/classes.js';
import { postprocessFor, preprocessFor } from '../../src/train/session.js';
import { openDataset } from '../../src/data/index.node.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dentseg-flags-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): { code: string; message: string; file?: string } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; file?: string };
  }
  throw new Error('expected a refusal');
}

describe('refusals', () => {
  it('name the flag, the expected and the received value (E_USAGE)', () => {
    const e = thrown(() => checkNumber('--batch', '-3', { integer: true, min: 1 }));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toBe('Expected an integer ≥ 1 for --batch but received "-3"');
    expect(thrown(() => checkNumber('--lr', '', { above: 0 })).message).toBe(
      'Expected a number > 0 for --lr but received ""',
    );
    expect(thrown(() => checkNumber('--width', '2', { above: 0, max: 1 })).message).toBe(
      'Expected a number in (0, 1] for --width but received "2"',
    );
    expect(
      thrown(() =>
        checkNumberList('--decoder-filters', '8,8,8', { integer: true, min: 1 }, undefined, 5),
      ).message,
    ).toBe(
      'Expected 5 comma-separated numbers, each integer ≥ 1 for --decoder-filters but received "8,8,8"',
    );
  });

  it('from a file name it and give the type of what was received', () => {
    const src = fileSource('/runs/a/config.json', 'E_CHECKPOINT_INVALID');
    const e = thrown(() => checkNumber('batch', '8', { integer: true, min: 1 }, src));
    expect(e.code).toBe('E_CHECKPOINT_INVALID');
    expect(e.file).toBe('/runs/a/config.json');
    expect(e.message).toBe(
      '/runs/a/config.json: Expected an integer ≥ 1 for batch but received "8" of type string',
    );
    expect(checkNumber('batch', 8, { integer: true, min: 1 }, src)).toBe(8);
  });
});

describe('one meaning per flag; every old spelling still works', () => {
  it('--size takes N or H,W (train: square only)', () => {
    expect(checkSize('--size', '256', { multipleOf: 32 })).toEqual([256, 256]);
    expect(checkSize('--size', '256,512', { multipleOf: 32 })).toEqual([256, 512]);
    expect(checkSize('--size', '64', {})).toEqual([64, 64]); // data preview, new
    expect(checkSize('--size', '256,256', {})).toEqual([256, 256]); // data preview, old
    expect(checkSize('--size', '512,512', { multipleOf: 32, square: true })).toEqual([512, 512]);
    expect(thrown(() => checkSize('--size', '256,512', { square: true })).message).toContain(
      'Expected a square size N (or H,W with H = W)',
    );
    expect(thrown(() => checkSize('--size', '100', { multipleOf: 32 })).message).toContain(
      'for --size but received "100"',
    );
  });

  it('--json: bare is stdout, with a value a file; scripts read a bare --json as -', () => {
    expect(jsonTarget(undefined)).toBeUndefined();
    expect(jsonTarget(true)).toEqual({ stdout: true });
    expect(jsonTarget('-')).toEqual({ stdout: true });
    expect(jsonTarget('out/r.json')).toEqual({ file: 'out/r.json' });
    expect(bareJsonToStdout(['--json'])).toEqual(['--json=-']);
    expect(bareJsonToStdout(['--json', '--size', '64'])).toEqual(['--json=-', '--size', '64']);
    expect(bareJsonToStdout(['--json', 'r.json'])).toEqual(['--json', 'r.json']);
  });

  it('--out, with --output and --onnx still accepted; two different values refused', () => {
    expect(outFlag({ out: 'a' }, ['output'])).toBe('a');
    expect(outFlag({ output: 'a' }, ['output'])).toBe('a');
    expect(outFlag({ onnx: 'm.onnx' }, ['onnx'])).toBe('m.onnx');
    expect(outFlag({ out: 'a', output: 'a' }, ['output'])).toBe('a');
    expect(outFlag({}, ['output'])).toBeUndefined();
    const e = thrown(() => outFlag({ out: 'a', output: 'b' }, ['output']));
    expect(e.code).toBe('E_USAGE');
    expect(e.message).toBe(
      'Expected one output path for --out (--output: its older spelling) but received "a" and "b"',
    );
  });

  it('--classes takes names everywhere; a count still works in model summary and import-keras', () => {
    expect(classesFromFlag('--classes', '1')).toEqual({
      task: 'binary',
      outputs: 1,
      names: [DEFAULT_BINARY_CLASS],
    });
    expect(classesFromFlag('--classes', '3')).toMatchObject({ task: 'multiclass', outputs: 3 });
    expect(classesFromFlag('--classes', 'background,tooth')).toEqual(
      classesFromFlag('--classes', '1'),
    );
    expect(classesFromFlag('--classes', 'background,caries')).toEqual({
      task: 'binary',
      outputs: 1,
      names: ['caries'],
    });
    expect(classesFromFlag('--classes', 'background,upper,lower')).toEqual({
      task: 'multiclass',
      outputs: 3,
      names: ['background', 'upper', 'lower'],
    });
    const file = path.join(tmp, 'classes.json');
    writeFileSync(file, JSON.stringify(['background', 'a', 'b', 'c']));
    expect(classesFromFlag('--classes', file)).toMatchObject({ task: 'multiclass', outputs: 4 });
    expect(thrown(() => classesFromFlag('--classes', '0')).message).toContain(
      'for --classes but received "0"',
    );
  });

  it('a binary class has one name and one count: train, import-keras and data check agree', async () => {
    // a binary data set without --classes, as train and data check open it
    const images = path.join(tmp, 'images');
    const masks = path.join(tmp, 'masks');
    const { mkdirSync } = await import('node:fs');
    const sharp = (await import('sharp')).default;
    mkdirSync(images, { recursive: true });
    mkdirSync(masks, { recursive: true });
    const px = Buffer.alloc(32 * 32, 0);
    await sharp(px, { raw: { width: 32, height: 32, channels: 1 } })
      .png()
      .toFile(path.join(images, 'a.png'));
    await sharp(px, { raw: { width: 32, height: 32, channels: 1 } })
      .png()
      .toFile(path.join(masks, 'a.png'));
    const ds = await openDataset({ images, masks, valFraction: 0 });
    expect(ds.task).toBe('binary');
    // import-keras --classes 1 names the class as train does (it used to say "foreground")
    expect(classesFromFlag('--classes', '1').names).toEqual([ds.classes[1]]);
    // data check counts it as train does: one class, not two
    expect(classesLine(ds.task, ds.classes)).toBe(
      `task: binary, 1 class (${DEFAULT_BINARY_CLASS})`,
    );
    expect(classesLine('multiclass', ['background', 'a', 'b'])).toBe(
      'task: multiclass, 3 classes (background, a, b)',
    );
  });
});

describe("a resumed run's config.json", () => {
  const flags: Record<string, unknown> = {
    out: path.join(tmp, 'run'),
    images: path.join(tmp, 'images'),
    masks: path.join(tmp, 'masks'),
    epochs: '2',
    batch: '4',
    lr: '1e-4',
    size: '64',
    width: '0.0625',
    channels: '1',
    normalise: 'zscore',
    decoderFilters: '16,8,8,4,4',
    dropout: '0',
    classWeights: '1,2',
    augment: 'seed',
    patience: '0',
    lrPatience: '0',
    lrFactor: '0.5',
    minLr: '0',
    seed: '1',
    valFraction: '0.1',
  };

  it('train flags that need another name it', async () => {
    await expect(trainConfigFromCli({ ...flags, initPartial: true }, [])).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringContaining('(--init-partial needs --init) for --init') as unknown,
    });
    await expect(trainConfigFromCli({ ...flags, batch: '-3' }, [])).rejects.toMatchObject({
      message: 'Expected an integer ≥ 1 for --batch but received "-3"',
    });
    const square = await trainConfigFromCli({ ...flags, size: '64,64' }, []);
    expect(square.size).toBe(64);
  });

  it('--coordinates: 3 channels, no tiles, written to preprocess.coordinates and read back', async () => {
    const cfg = await trainConfigFromCli({ ...flags, channels: '3', coordinates: true }, []);
    expect(preprocessFor(cfg).coordinates).toBe(true);
    expect(preprocessFor(cfg).channels).toBe(3);
    const saved: unknown = JSON.parse(JSON.stringify(cfg));
    expect(preprocessFor(trainConfigFromFile(saved, 'config.json')).coordinates).toBe(true);
    // no flag, no key: the dentseg.json of before
    expect(preprocessFor(await trainConfigFromCli(flags, [])).coordinates).toBeUndefined();
    await expect(trainConfigFromCli({ ...flags, coordinates: true }, [])).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringContaining('3 with --coordinates (grey, x, y)') as unknown,
    });
    await expect(
      trainConfigFromCli({ ...flags, channels: '3', coordinates: true, tile: '32' }, []),
    ).rejects.toMatchObject({
      message: expect.stringContaining('absent with --tile') as unknown,
    });
  });

  it('--tooth-gate-margin: with --lesion, 0…256, written to postprocess.toothGate and read back', async () => {
    const cfg = await trainConfigFromCli({ ...flags, lesion: 'caries', toothGateMargin: '24' }, []);
    expect(postprocessFor(cfg)).toEqual({ lesion: 'caries', toothGate: { marginPx: 24 } });
    const saved: unknown = JSON.parse(JSON.stringify(cfg));
    expect(trainConfigFromFile(saved, 'config.json').toothGateMargin).toBe(24);
    // no flag, no key: the dentseg.json of before
    expect(postprocessFor(await trainConfigFromCli({ ...flags, lesion: 'caries' }, []))).toEqual({
      lesion: 'caries',
    });
    await expect(trainConfigFromCli({ ...flags, toothGateMargin: '8' }, [])).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringContaining('--tooth-gate-margin needs --lesion') as unknown,
    });
    for (const bad of ['-1', '257', '2.5'])
      await expect(
        trainConfigFromCli({ ...flags, lesion: 'caries', toothGateMargin: bad }, []),
      ).rejects.toMatchObject({
        code: 'E_USAGE',
        message: expect.stringContaining('--tooth-gate-margin') as unknown,
      });
  });

  it('reads back what train saved, unchanged', async () => {
    const cfg = await trainConfigFromCli(flags, ['train']);
    const saved: unknown = JSON.parse(JSON.stringify(cfg));
    expect(trainConfigFromFile(saved, 'config.json')).toEqual(saved);
  });

  it('--loss and its parameters: defaults filled, ranges checked, E_USAGE naming the flag', async () => {
    const loss = async (over: Record<string, unknown>): Promise<unknown> =>
      (await trainConfigFromCli({ ...flags, ...over }, [])).loss;
    // no --loss (as a caller without commander's default) and --loss dice: the seed's loss
    expect(await loss({})).toEqual({ name: 'dice' });
    expect(await loss({ loss: 'dice' })).toEqual({ name: 'dice' });
    expect(await loss({ loss: 'tversky' })).toEqual({ name: 'tversky', alpha: 0.3, beta: 0.7 });
    expect(await loss({ loss: 'tversky', tverskyAlpha: '0', tverskyBeta: '1' })).toEqual({
      name: 'tversky',
      alpha: 0,
      beta: 1,
    });
    expect(await loss({ loss: 'focal-tversky' })).toEqual({
      name: 'focal-tversky',
      alpha: 0.3,
      beta: 0.7,
      gamma: 0.75,
    });
    expect(await loss({ loss: 'focal' })).toEqual({ name: 'focal', gamma: 2 });
    expect(await loss({ loss: 'focal', focalGamma: '0' })).toEqual({ name: 'focal', gamma: 0 });
    const refused = async (over: Record<string, unknown>, message: string): Promise<void> => {
      await expect(trainConfigFromCli({ ...flags, ...over }, [])).rejects.toMatchObject({
        code: 'E_USAGE',
        message,
      });
    };
    await refused(
      { loss: 'tverski' },
      'Expected one of dice, tversky, focal-tversky, focal for --loss but received "tverski"',
    );
    await refused(
      { loss: 'tversky', tverskyAlpha: '1.5' },
      'Expected a number in [0, 1] for --tversky-alpha but received "1.5"',
    );
    await refused(
      { loss: 'focal-tversky', tverskyBeta: 'x' },
      'Expected a number in [0, 1] for --tversky-beta but received "x"',
    );
    await refused(
      { loss: 'tversky', tverskyAlpha: '0', tverskyBeta: '0' },
      'Expected a number in (0, 1] when --tversky-alpha is 0 for --tversky-beta but received "0"',
    );
    await refused(
      { loss: 'focal', focalGamma: '-1' },
      'Expected a number in [0, 5] for --focal-gamma but received "-1"',
    );
    await refused(
      { loss: 'focal-tversky', focalGamma: '0' },
      'Expected a number in (0, 5] for --focal-gamma but received "0"',
    );
    // a parameter of another loss is refused, not silently ignored
    await refused(
      { tverskyAlpha: '0.2' },
      'Expected --loss tversky or focal-tversky beside it (--tversky-alpha is not a parameter of dice) ' +
        'for --tversky-alpha but received "0.2"',
    );
    await refused(
      { loss: 'tversky', focalGamma: '1' },
      'Expected --loss focal or focal-tversky beside it (--focal-gamma is not a parameter of tversky) ' +
        'for --focal-gamma but received "1"',
    );
  });

  it('config.json keeps the loss for --resume; one from before --loss means dice', async () => {
    for (const over of [
      { loss: 'focal-tversky', tverskyAlpha: '0.4', tverskyBeta: '0.6', focalGamma: '1.5' },
      { loss: 'focal', focalGamma: '1' },
      { loss: 'dice' },
    ]) {
      const cfg = await trainConfigFromCli({ ...flags, ...over }, ['train']);
      const saved: unknown = JSON.parse(JSON.stringify(cfg));
      expect(trainConfigFromFile(saved, 'config.json')).toEqual(saved);
      expect(trainConfigFromFile(saved, 'config.json').loss).toEqual(cfg.loss);
    }
    const old = JSON.parse(JSON.stringify(await trainConfigFromCli(flags, ['train']))) as Record<
      string,
      unknown
    >;
    delete old.loss;
    expect(trainConfigFromFile(old, 'config.json').loss).toBeUndefined();
    const file = path.join(tmp, 'run', 'config.json');
    const e = (loss: unknown): { code: string; message: string; file?: string } =>
      thrown(() => trainConfigFromFile({ ...old, loss }, file));
    const alpha = e({ name: 'tversky', alpha: 2, beta: 0.5 });
    expect(alpha).toMatchObject({ code: 'E_CHECKPOINT_INVALID', file });
    expect(alpha.message).toContain(
      'Expected a number in [0, 1] for loss.alpha but received 2 of type number',
    );
    expect(e({ name: 'focal', gamma: '2' }).message).toContain('for loss.gamma');
    expect(e({ name: 'focal', alpha: 0.3, gamma: 2 }).message).toContain('for loss.alpha');
    expect(e({ alpha: 0.3 }).message).toContain('for loss.name but received nothing');
    expect(e('dice').message).toContain('for loss but received "dice" of type string');
  });

  it('an edited or damaged field is refused naming the file and the field', async () => {
    const saved = JSON.parse(JSON.stringify(await trainConfigFromCli(flags, ['train']))) as Record<
      string,
      unknown
    >;
    const file = path.join(tmp, 'run', 'config.json');
    const refused = (patch: Record<string, unknown>, ...words: string[]): void => {
      const e = thrown(() => trainConfigFromFile({ ...saved, ...patch }, file));
      expect(e.code).toBe('E_CHECKPOINT_INVALID');
      expect(e.file).toBe(file);
      for (const w of words) expect(e.message).toContain(w);
    };
    refused({ batch: '8' }, 'for batch but received "8" of type string');
    refused({ batch: 0 }, 'Expected an integer ≥ 1 for batch but received 0 of type number');
    refused({ size: 100 }, 'for size but received 100 of type number');
    refused({ normalise: 'zcore' }, 'for normalise', '"zcore"');
    refused({ channels: 2 }, 'Expected 1 or 3 for channels');
    refused({ decoderFilters: [16, 8] }, 'for decoderFilters');
    refused(
      { dataset: { ...(saved.dataset as object), valFraction: 'x' } },
      'for dataset.valFraction',
    );
    refused({ augment: { transforms: [{ type: 'nope' }] } }, 'augment:');
    refused({ name: undefined }, 'Expected text for name but received nothing');
    const e = thrown(() => trainConfigFromFile([1, 2], file));
    expect(e.message).toContain('Expected a JSON object for the run configuration');
  });
});
