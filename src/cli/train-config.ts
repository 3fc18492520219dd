/**
 * `dentseg train`'s flags, and a resumed run's `config.json`, into a validated
 * `TrainConfig`: both go through the one flag validator with the same rules, so an edited
 * or damaged config.json is refused naming the file and the field, never cast.
 */
import path from 'node:path';
import { DEFAULT_AUGMENT, normaliseAugmentConfig, type AugmentConfig } from '../augment/config.js';
import { loadAugmentConfig } from '../augment/file.node.js';
import type { DatasetOptions } from '../data/dataset.js';
import { NORMALISE_MODES, type NormaliseMode } from '../data/preprocess.js';
import { DentsegError, isDentsegError } from '../errors.js';
import { TILE_WIDTH_MAX, TILE_WIDTH_MIN } from '../data/tiling.js';
import { MAX_TOOTH_GATE_MARGIN } from '../model/meta.js';
import { LOSS_DEFAULTS, LOSS_NAMES, type LossSpec } from '../train/loss-spec.js';
import { SEED_AUGMENT } from '../train/seed-augment.js';
import type { TrainConfig } from '../train/session.js';
import { VERSION } from '../version.js';
import { datasetOptionsFromCli } from './dataset-options.js';
import {
  checkChoice,
  checkNumber,
  checkNumberList,
  checkSize,
  CLI_SOURCE,
  fileSource,
  invalidValue,
  type NumberRule,
  type ValueSource,
} from './flags.js';

const INT0: NumberRule = { integer: true, min: 0 };
const INT1: NumberRule = { integer: true, min: 1 };

/** The number fields of a `TrainConfig`, one rule each (flags and config.json alike). */
const RULES = {
  epochs: INT1,
  batch: INT1,
  lr: { above: 0 },
  width: { above: 0, max: 1 },
  dropout: { min: 0, below: 1 },
  patience: INT0,
  lrPatience: INT0,
  lrFactor: { above: 0, below: 1 },
  minLr: { min: 0 },
  limit: INT1,
  valLimit: INT1,
  workers: INT0,
  tilesPerImage: INT1,
  minAreaPx: INT1,
  toothGateMargin: { integer: true, min: 0, max: MAX_TOOTH_GATE_MARGIN },
  lesionTileShare: { min: 0, max: 1 },
  lesionSizeWeight: { above: 0 },
  tileWidth: { integer: true, min: TILE_WIDTH_MIN, max: TILE_WIDTH_MAX },
  seed: { integer: true },
} as const satisfies Record<string, NumberRule>;

const SIZE = { multipleOf: 32, square: true } as const;
const DECODER_FILTERS: NumberRule = { integer: true, min: 1 };
const CLASS_WEIGHTS: NumberRule = { min: 0 };
const LESION = /^[a-z][a-z0-9_-]*$/i;

/**
 * Loss parameters: Tversky weights in [0, 1]; a focal exponent up to 5, the largest Lin et
 * al. tried (beyond it all but the worst pixels fall silent); focal Tversky's above 0,
 * since (1 − TI)^0 is a constant that trains nothing.
 */
const LOSS_RULES = {
  alpha: { min: 0, max: 1 },
  beta: { min: 0, max: 1 },
  focalGamma: { min: 0, max: 5 },
  focalTverskyGamma: { above: 0, max: 5 },
} as const satisfies Record<string, NumberRule>;

/** A loss's name and parameters as received (flags or config.json), unchecked. */
interface RawLoss {
  readonly name: unknown;
  readonly alpha: unknown;
  readonly beta: unknown;
  readonly gamma: unknown;
}

/**
 * The one check of a loss, from flags or config.json: the name, each parameter in range,
 * α + β > 0 (else the Tversky index ignores every error), and no parameter the loss does
 * not use (a `--tversky-alpha` without `--loss tversky` would otherwise train, silently,
 * with the default loss). `names` are what the user calls each value (flags or keys).
 */
function checkLoss(
  v: RawLoss,
  names: { readonly [K in keyof RawLoss]: string },
  source: ValueSource,
): LossSpec {
  const name = v.name === undefined ? 'dice' : checkChoice(names.name, v.name, LOSS_NAMES, source);
  const tversky = name === 'tversky' || name === 'focal-tversky';
  const uses = {
    alpha: tversky,
    beta: tversky,
    gamma: name === 'focal' || name === 'focal-tversky',
  };
  for (const key of ['alpha', 'beta', 'gamma'] as const) {
    if (v[key] !== undefined && !uses[key])
      throw invalidValue(
        names[key],
        `${names.name} ${key === 'gamma' ? 'focal or focal-tversky' : 'tversky or focal-tversky'} beside it ` +
          `(${names[key]} is not a parameter of ${name})`,
        v[key],
        source,
      );
  }
  const param = (key: 'alpha' | 'beta', fallback: number): number =>
    v[key] === undefined ? fallback : checkNumber(names[key], v[key], LOSS_RULES[key], source);
  const gamma = (rule: NumberRule, fallback: number): number =>
    v.gamma === undefined ? fallback : checkNumber(names.gamma, v.gamma, rule, source);
  if (name === 'dice') return { name };
  if (name === 'focal')
    return { name, gamma: gamma(LOSS_RULES.focalGamma, LOSS_DEFAULTS.focalGamma) };
  const alpha = param('alpha', LOSS_DEFAULTS.alpha);
  const beta = param('beta', LOSS_DEFAULTS.beta);
  if (alpha + beta <= 0)
    throw invalidValue(names.beta, `a number in (0, 1] when ${names.alpha} is 0`, v.beta, source);
  if (name === 'tversky') return { name, alpha, beta };
  return {
    name,
    alpha,
    beta,
    gamma: gamma(LOSS_RULES.focalTverskyGamma, LOSS_DEFAULTS.focalTverskyGamma),
  };
}

/** Flags → a validated `TrainConfig` (relative paths resolved against the cwd). */
export async function trainConfigFromCli(
  o: Record<string, unknown>,
  argv: readonly string[],
): Promise<TrainConfig> {
  if (typeof o.out !== 'string') throw invalidValue('--out', 'a run folder, e.g. runs/NAME', o.out);
  const ds = datasetOptionsFromCli(o);
  const abs = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(p);
  const num = (key: keyof typeof RULES, flag: string = key): number =>
    checkNumber(CLI_SOURCE.name(flag), o[flag], RULES[key]);
  const opt = (key: keyof typeof RULES, flag: string = key): number | undefined =>
    o[flag] === undefined ? undefined : num(key, flag);
  if (o.initPartial === true && typeof o.init !== 'string')
    throw invalidValue('--init', 'a model folder (--init-partial needs --init)', o.init);
  const tile = o.tile === undefined ? undefined : checkSize('--tile', o.tile, SIZE)[0];
  for (const flag of ['tileOverlap', 'lesionTileShare', 'tilesPerImage', 'tileWidth'] as const) {
    if (o[flag] !== undefined && tile === undefined)
      throw invalidValue(
        CLI_SOURCE.name(flag),
        `--tile PX beside it (${CLI_SOURCE.name(flag)} needs --tile)`,
        o[flag],
      );
  }
  // A tiled model's network input is one tile.
  const size = tile ?? checkSize('--size', o.size, SIZE)[0];
  const tileOverlap =
    o.tileOverlap === undefined || tile === undefined
      ? undefined
      : checkNumber('--tile-overlap', o.tileOverlap, { integer: true, min: 0, below: tile });
  if (typeof o.lesion === 'string' && !LESION.test(o.lesion))
    throw invalidValue('--lesion', 'a finding type name such as caries', o.lesion);
  // Only a lesion model's regions are gated by the teeth (a teeth model's are the teeth).
  if (o.toothGateMargin !== undefined && typeof o.lesion !== 'string')
    throw invalidValue(
      '--tooth-gate-margin',
      '--lesion TYPE beside it (--tooth-gate-margin needs --lesion)',
      o.toothGateMargin,
    );
  const channels = checkNumber('--channels', o.channels, { expected: '1 or 3' });
  if (channels !== 1 && channels !== 3) throw invalidValue('--channels', '1 or 3', o.channels);
  const coordinates = o.coordinates === true;
  if (coordinates && channels !== 3)
    throw invalidValue('--channels', '3 with --coordinates (grey, x, y)', o.channels);
  if (coordinates && tile !== undefined)
    throw invalidValue('--coordinates', 'absent with --tile (a tile has no place)', true);
  const normalise = checkChoice('--normalise', o.normalise, NORMALISE_MODES);
  const augment =
    o.augment === false
      ? null
      : o.augment === 'seed'
        ? SEED_AUGMENT
        : typeof o.augment === 'string'
          ? await loadAugmentConfig(o.augment)
          : DEFAULT_AUGMENT;
  if (o.encoderBatchNorm === true && typeof o.encoderWeights === 'string')
    throw invalidValue(
      '--encoder-batch-norm',
      'no --encoder-weights with it (Keras VGG16 weights have no batch norm)',
      true,
    );
  return {
    dataset: {
      ...ds,
      coco: abs(ds.coco),
      images: abs(ds.images),
      masks: abs(ds.masks),
      split: abs(ds.split),
      val: abs(ds.val),
    },
    out: path.resolve(o.out),
    epochs: num('epochs'),
    batch: num('batch'),
    lr: num('lr'),
    seed: ds.seed ?? 42,
    size,
    width: num('width'),
    channels,
    normalise,
    decoderFilters:
      o.decoderFilters === undefined
        ? undefined
        : checkNumberList('--decoder-filters', o.decoderFilters, DECODER_FILTERS, CLI_SOURCE, 5),
    batchNorm: o.batchNorm !== false,
    encoderBatchNorm: o.encoderBatchNorm === true,
    dropout: num('dropout'),
    classWeights:
      o.classWeights === undefined
        ? undefined
        : checkNumberList('--class-weights', o.classWeights, CLASS_WEIGHTS),
    loss: checkLoss(
      { name: o.loss, alpha: o.tverskyAlpha, beta: o.tverskyBeta, gamma: o.focalGamma },
      {
        name: '--loss',
        alpha: '--tversky-alpha',
        beta: '--tversky-beta',
        gamma: '--focal-gamma',
      },
      CLI_SOURCE,
    ),
    lesionSizeWeight: opt('lesionSizeWeight'),
    augment,
    patience: num('patience'),
    lrPatience: num('lrPatience'),
    lrFactor: num('lrFactor'),
    minLr: num('minLr'),
    limit: opt('limit'),
    valLimit: opt('valLimit'),
    encoderWeights:
      typeof o.encoderWeights === 'string' ? path.resolve(o.encoderWeights) : undefined,
    init: typeof o.init === 'string' ? path.resolve(o.init) : undefined,
    initPartial: o.initPartial === true ? true : undefined,
    coordinates: coordinates ? true : undefined,
    workers: opt('workers'),
    float16: o.float16 === true ? true : undefined,
    tile,
    tileWidth: tile === undefined ? undefined : opt('tileWidth'),
    tileOverlap,
    lesionTileShare: opt('lesionTileShare'),
    tilesPerImage: opt('tilesPerImage'),
    lesion: typeof o.lesion === 'string' ? o.lesion : undefined,
    minAreaPx: opt('minAreaPx', 'minArea'),
    toothGateMargin: opt('toothGateMargin'),
    name: String(o.name ?? path.basename(o.out)),
    version: String(o.modelVersion ?? VERSION),
    command: ['dentseg', ...argv].join(' '),
  };
}

/** Checks of one JSON object's fields, each refusal naming `prefix + key` and the file. */
function fields(obj: Record<string, unknown>, source: ValueSource, prefix = '') {
  const name = (k: string): string => source.name(prefix + k);
  const optional = <T>(k: string, read: () => T): T | undefined =>
    obj[k] === undefined || obj[k] === null ? undefined : read();
  return {
    num: (k: string, rule: NumberRule): number => checkNumber(name(k), obj[k], rule, source),
    optNum: (k: string, rule: NumberRule): number | undefined =>
      optional(k, () => checkNumber(name(k), obj[k], rule, source)),
    str: (k: string): string => {
      if (typeof obj[k] === 'string') return obj[k];
      throw invalidValue(name(k), 'text', obj[k], source);
    },
    optStr: (k: string): string | undefined =>
      optional(k, () => {
        if (typeof obj[k] === 'string') return obj[k];
        throw invalidValue(name(k), 'text', obj[k], source);
      }),
    bool: (k: string): boolean => {
      if (typeof obj[k] === 'boolean') return obj[k];
      throw invalidValue(name(k), 'true or false', obj[k], source);
    },
    optBool: (k: string): boolean | undefined =>
      optional(k, () => {
        if (typeof obj[k] === 'boolean') return obj[k];
        throw invalidValue(name(k), 'true or false', obj[k], source);
      }),
    list: (k: string, rule: NumberRule, count?: number): number[] | undefined =>
      optional(k, () => checkNumberList(name(k), obj[k], rule, source, count)),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function datasetFromFile(v: unknown, source: ValueSource): DatasetOptions {
  if (!isObject(v)) throw invalidValue('dataset', 'an object of data-set options', v, source);
  const f = fields(v, source, 'dataset.');
  const classes = v.classes;
  if (
    classes !== undefined &&
    typeof classes !== 'string' &&
    !(Array.isArray(classes) && classes.every((c) => typeof c === 'string'))
  )
    throw invalidValue('dataset.classes', 'a file name or a list of names', classes, source);
  return {
    coco: f.optStr('coco'),
    images: f.optStr('images'),
    masks: f.optStr('masks'),
    maskPattern: f.optStr('maskPattern'),
    split: f.optStr('split'),
    val: f.optStr('val'),
    valFraction: f.optNum('valFraction', { min: 0, below: 1 }),
    seed: f.optNum('seed', RULES.seed),
    classes: classes as string | string[] | undefined,
    multiclass: f.optBool('multiclass'),
  };
}

function augmentFromFile(v: unknown, source: ValueSource): AugmentConfig | null {
  if (v === null) return null;
  try {
    normaliseAugmentConfig(v);
  } catch (err) {
    if (!isDentsegError(err)) throw err;
    throw new DentsegError(source.code, `augment: ${err.message}`, {
      ...(source.file !== undefined ? { file: source.file } : {}),
      ...(source.hint !== undefined ? { hint: source.hint } : {}),
      cause: err,
    });
  }
  return Object.freeze(v as AugmentConfig);
}

/** config.json's `loss` ({ name, alpha?, beta?, gamma? }); absent (older runs) = dice. */
function lossFromFile(v: unknown, source: ValueSource): LossSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidValue('loss', 'an object such as { "name": "dice" }', v, source);
  if (v.name === undefined)
    throw invalidValue('loss.name', `one of ${LOSS_NAMES.join(', ')}`, v.name, source);
  return checkLoss(
    { name: v.name, alpha: v.alpha, beta: v.beta, gamma: v.gamma },
    { name: 'loss.name', alpha: 'loss.alpha', beta: 'loss.beta', gamma: 'loss.gamma' },
    source,
  );
}

/**
 * A run's saved `config.json` (parsed, `value`) as a `TrainConfig`; `file` is named in
 * every refusal (E_CHECKPOINT_INVALID) together with the field.
 */
export function trainConfigFromFile(value: unknown, file: string): TrainConfig {
  const source = fileSource(
    file,
    'E_CHECKPOINT_INVALID',
    'the run configuration was edited or damaged: restore it, or start a new run',
  );
  if (!isObject(value)) throw invalidValue('the run configuration', 'a JSON object', value, source);
  const f = fields(value, source);
  const size = checkSize('size', value.size, SIZE, source)[0];
  const tile =
    value.tile === undefined ? undefined : checkSize('tile', value.tile, SIZE, source)[0];
  const channels = f.num('channels', { integer: true, min: 1, max: 3, expected: '1 or 3' });
  if (channels !== 1 && channels !== 3) throw invalidValue('channels', '1 or 3', channels, source);
  return {
    dataset: datasetFromFile(value.dataset, source),
    out: f.str('out'),
    epochs: f.num('epochs', RULES.epochs),
    batch: f.num('batch', RULES.batch),
    lr: f.num('lr', RULES.lr),
    seed: f.num('seed', RULES.seed),
    size,
    width: f.num('width', RULES.width),
    channels,
    normalise: checkChoice('normalise', value.normalise, NORMALISE_MODES, source) as NormaliseMode,
    decoderFilters: f.list('decoderFilters', DECODER_FILTERS, 5),
    batchNorm: f.bool('batchNorm'),
    encoderBatchNorm: f.optBool('encoderBatchNorm'),
    dropout: f.num('dropout', RULES.dropout),
    classWeights: f.list('classWeights', CLASS_WEIGHTS),
    loss: lossFromFile(value.loss, source),
    lesionSizeWeight: f.optNum('lesionSizeWeight', RULES.lesionSizeWeight),
    augment: augmentFromFile(value.augment, source),
    patience: f.num('patience', RULES.patience),
    lrPatience: f.num('lrPatience', RULES.lrPatience),
    lrFactor: f.num('lrFactor', RULES.lrFactor),
    minLr: f.num('minLr', RULES.minLr),
    limit: f.optNum('limit', RULES.limit),
    valLimit: f.optNum('valLimit', RULES.valLimit),
    workers: f.optNum('workers', RULES.workers),
    encoderWeights: f.optStr('encoderWeights'),
    init: f.optStr('init'),
    initPartial: f.optBool('initPartial'),
    coordinates: f.optBool('coordinates'),
    float16: f.optBool('float16'),
    tile,
    tileWidth: tile === undefined ? undefined : f.optNum('tileWidth', RULES.tileWidth),
    tileOverlap:
      tile === undefined
        ? undefined
        : f.optNum('tileOverlap', { integer: true, min: 0, below: tile }),
    lesionTileShare: f.optNum('lesionTileShare', RULES.lesionTileShare),
    tilesPerImage: f.optNum('tilesPerImage', RULES.tilesPerImage),
    lesion: f.optStr('lesion'),
    minAreaPx: f.optNum('minAreaPx', RULES.minAreaPx),
    toothGateMargin: f.optNum('toothGateMargin', RULES.toothGateMargin),
    name: f.str('name'),
    version: f.str('version'),
    command: f.optStr('command'),
  };
}
