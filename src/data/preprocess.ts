/**
 * Pre-processing as serialisable config, then executed: the same `PreprocessConfig` is
 * saved with a model (`dentseg.json`) and replayed at inference so training and serving
 * cannot drift. Pure: runs in Node, workers and the browser.
 *
 * Order: resize (antialiased; stretch or letterbox) → denoise → CLAHE → enhance →
 * [augmentation, training only] → normalise → replicate to 1 or 3 channels.
 */
import { DentsegError } from '../errors.js';
import { enhanceUnit, formatEnhanceSpec, parseEnhanceSpec } from '../imaging/enhance.js';
import { imageQualityEstimate, QUALITY_SIDE, type QualityEstimate } from '../imaging/quality.js';
import { clahe, gaussianBlur, medianFilter } from '../imaging/filters.js';
import { resizeLinear, resizeMaskNearest } from './resample.js';
import { validateTilingConfig, type TilingConfig } from './tiling.js';
import { maxValue, type GreyImage } from '../imaging/types.js';

/** How grey values in 0…1 become network input. */
export const NORMALISE_MODES = ['unit', 'imagenet', 'caffe', 'zscore'] as const;
export type NormaliseMode = (typeof NORMALISE_MODES)[number];

/** Serialisable pre-processing description (JSON, stored with every model). */
export interface PreprocessConfig {
  /** Network input size `[height, width]` in pixels, each 16…4096. */
  readonly size: readonly [number, number];
  /** Input channels: 1 (grey) or 3 (grey replicated, for ImageNet encoders). */
  readonly channels: 1 | 3;
  /** `stretch`: fill the input, ignoring aspect; `letterbox`: keep aspect, pad with 0. */
  readonly aspect: 'stretch' | 'letterbox';
  /**
   * `unit`: 0…1; `imagenet`: (v − mean) / std with torchvision's RGB statistics;
   * `caffe`: 0…255 minus Keras VGG16's BGR means (what the Keras VGG16 weights expect);
   * `zscore`: per-image mean 0, std 1.
   */
  readonly normalise: NormaliseMode;
  /** Optional CLAHE at model size (OpenCV semantics). clipLimit > 0, tiles [rows, cols] ≥ 1. */
  readonly clahe?: { readonly clipLimit: number; readonly tiles: readonly [number, number] };
  /** Optional denoising at model size: median (radius px) or Gaussian (sigma px). */
  readonly denoise?:
    | { readonly method: 'median'; readonly radius: number }
    | { readonly method: 'gaussian'; readonly sigma: number };
  /**
   * Optional: the image stays at its native resolution (no resize), or is resized to
   * `tiling.width` keeping its aspect; denoise, CLAHE and the normalisation apply to that
   * whole image, and the network sees it tile by tile (`size` = `tiling.tile`); see
   * src/data/tiling.ts.
   */
  readonly tiling?: TilingConfig;
  /**
   * Enhancement at network size after the steps above: `none` (default), `auto` (denoise,
   * sharpen or CLAHE only where the image needs it) or a list such as `denoise,unsharp:1.5`
   * (see src/imaging/enhance.ts). Stored as its canonical spec text.
   */
  readonly enhance?: string;
  /**
   * Optional (`channels` 3, no `tiling`): channels 2 and 3 carry each pixel's place in the
   * network input, x and y from −1 (left, top) to 1, instead of the grey again
   * (CoordConv's coordinate channels, Liu et al. 2018): a tooth's number depends on where
   * along the arch it stands, which convolutions alone see only through their context.
   */
  readonly coordinates?: boolean;
}

/** Where the original image lies inside the network input. */
export interface PreprocessGeometry {
  /** Original image size in pixels. */
  readonly srcWidth: number;
  readonly srcHeight: number;
  /** Network input size in pixels. */
  readonly width: number;
  readonly height: number;
  /** The image's rectangle inside the input (whole input for `stretch`). */
  readonly contentX: number;
  readonly contentY: number;
  readonly contentWidth: number;
  readonly contentHeight: number;
}

/** 256² grey replicated to 3 channels, stretched (as ufba425 itself is), Keras-VGG16 input. */
export const DEFAULT_PREPROCESS: PreprocessConfig = Object.freeze({
  size: Object.freeze([256, 256]) as readonly [number, number],
  channels: 3,
  aspect: 'stretch',
  normalise: 'caffe',
}) as PreprocessConfig;

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Keras `preprocess_input(mode='caffe')`: BGR order, means on the 0…255 scale. */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

function bad(key: string, expected: string, got: unknown): never {
  throw new DentsegError(
    'E_CONFIG_INVALID',
    `pre-processing "${key}" must be ${expected}, got ${JSON.stringify(got)}`,
    { hint: 'see PreprocessConfig in src/data/preprocess.ts' },
  );
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/**
 * Validate an unknown value (e.g. parsed JSON, possibly partial) into a frozen config;
 * missing keys take `DEFAULT_PREPROCESS`'s values. Throws E_CONFIG_INVALID naming the key.
 */
export function validatePreprocessConfig(value: unknown): PreprocessConfig {
  if (value === undefined || value === null) return DEFAULT_PREPROCESS;
  if (typeof value !== 'object' || Array.isArray(value)) bad('(root)', 'an object', value);
  const v = value as Record<string, unknown>;
  const known = [
    'size',
    'channels',
    'aspect',
    'normalise',
    'clahe',
    'denoise',
    'tiling',
    'enhance',
    'coordinates',
  ];
  for (const k of Object.keys(v)) if (!known.includes(k)) bad(k, `one of ${known.join(', ')}`, k);
  const tiling =
    v.tiling !== undefined && v.tiling !== null ? validateTilingConfig(v.tiling) : undefined;
  const size = v.size ?? tiling?.tile ?? DEFAULT_PREPROCESS.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((s) => isInt(s, 16, 4096)))
    bad('size', '[height, width], integers 16…4096', size);
  const channels = v.channels ?? DEFAULT_PREPROCESS.channels;
  if (channels !== 1 && channels !== 3) bad('channels', '1 or 3', channels);
  const aspect = v.aspect ?? DEFAULT_PREPROCESS.aspect;
  if (aspect !== 'stretch' && aspect !== 'letterbox')
    bad('aspect', '"stretch" or "letterbox"', aspect);
  const normalise = v.normalise ?? DEFAULT_PREPROCESS.normalise;
  if (!NORMALISE_MODES.includes(normalise as NormaliseMode))
    bad('normalise', NORMALISE_MODES.map((m) => `"${m}"`).join(' | '), normalise);
  const out: {
    size: readonly [number, number];
    channels: 1 | 3;
    aspect: 'stretch' | 'letterbox';
    normalise: NormaliseMode;
    clahe?: PreprocessConfig['clahe'];
    denoise?: PreprocessConfig['denoise'];
    tiling?: TilingConfig;
    enhance?: string;
    coordinates?: boolean;
  } = {
    size: Object.freeze([size[0], size[1]]) as readonly [number, number],
    channels,
    aspect,
    normalise: normalise as NormaliseMode,
  };
  if (v.clahe !== undefined && v.clahe !== null && v.clahe !== false) {
    const c = (v.clahe === true ? {} : v.clahe) as Record<string, unknown>;
    if (typeof c !== 'object') bad('clahe', 'an object {clipLimit, tiles}', v.clahe);
    const clipLimit = c.clipLimit ?? 2;
    const tiles = c.tiles ?? [8, 8];
    if (typeof clipLimit !== 'number' || !(clipLimit > 0) || clipLimit > 1000)
      bad('clahe.clipLimit', 'a number in (0, 1000]', clipLimit);
    if (!Array.isArray(tiles) || tiles.length !== 2 || !tiles.every((t) => isInt(t, 1, 64)))
      bad('clahe.tiles', '[rows, cols], integers 1…64', tiles);
    out.clahe = Object.freeze({
      clipLimit,
      tiles: Object.freeze([tiles[0], tiles[1]]) as readonly [number, number],
    });
  }
  if (v.denoise !== undefined && v.denoise !== null && v.denoise !== false) {
    const d = v.denoise as Record<string, unknown>;
    if (typeof d !== 'object') bad('denoise', 'an object {method, radius|sigma}', d);
    if (d.method === 'median') {
      const radius = d.radius ?? 1;
      if (!isInt(radius, 1, 5)) bad('denoise.radius', 'an integer 1…5', radius);
      out.denoise = Object.freeze({ method: 'median', radius });
    } else if (d.method === 'gaussian') {
      const sigma = d.sigma ?? 1;
      if (typeof sigma !== 'number' || !(sigma > 0) || sigma > 10)
        bad('denoise.sigma', 'a number in (0, 10]', sigma);
      out.denoise = Object.freeze({ method: 'gaussian', sigma });
    } else bad('denoise.method', '"median" or "gaussian"', d.method);
  }
  if (tiling) {
    // The network input is one tile; a different `size` would train and infer apart.
    if (size[0] !== tiling.tile[0] || size[1] !== tiling.tile[1])
      bad('size', `the tile size ${JSON.stringify(tiling.tile)} when tiling is set`, size);
    out.tiling = tiling;
  }
  if (v.enhance !== undefined && v.enhance !== 'none') {
    if (typeof v.enhance !== 'string') bad('enhance', '"none", "auto" or a step list', v.enhance);
    try {
      out.enhance = formatEnhanceSpec(parseEnhanceSpec(v.enhance, 'preprocess.enhance'));
    } catch (err) {
      bad('enhance', `"none", "auto" or a step list (${(err as Error).message})`, v.enhance);
    }
  }
  if (v.coordinates !== undefined && v.coordinates !== false) {
    if (v.coordinates !== true) bad('coordinates', 'true or false', v.coordinates);
    if (channels !== 3) bad('channels', '3 when coordinates is set (grey, x, y)', channels);
    if (tiling) bad('coordinates', 'absent when tiling is set (a tile has no place)', true);
    out.coordinates = true;
  }
  return Object.freeze(out) as PreprocessConfig;
}

/**
 * The size `[height, width]` a tiled model cuts its tiles from: the image's own, or, with
 * `tiling.width`, that width and the height that keeps the aspect ratio (at least 1 px).
 */
function tiledSize(
  srcWidth: number,
  srcHeight: number,
  tiling: TilingConfig,
): readonly [number, number] {
  if (tiling.width === undefined) return [srcHeight, srcWidth];
  return [Math.max(1, Math.round((srcHeight * tiling.width) / srcWidth)), tiling.width];
}

/**
 * Where an image of `srcWidth × srcHeight` lands in the network input for `cfg`; with
 * `cfg.tiling`, the whole image at its own size, or resized to `tiling.width` (the tiles are
 * cut later).
 */
export function computeGeometry(
  srcWidth: number,
  srcHeight: number,
  cfg: PreprocessConfig,
): PreprocessGeometry {
  const [height, width] = cfg.tiling ? tiledSize(srcWidth, srcHeight, cfg.tiling) : cfg.size;
  if (cfg.aspect === 'stretch' || cfg.tiling) {
    return {
      srcWidth,
      srcHeight,
      width,
      height,
      contentX: 0,
      contentY: 0,
      contentWidth: width,
      contentHeight: height,
    };
  }
  const scale = Math.min(width / srcWidth, height / srcHeight);
  const contentWidth = Math.max(1, Math.min(width, Math.round(srcWidth * scale)));
  const contentHeight = Math.max(1, Math.min(height, Math.round(srcHeight * scale)));
  return {
    srcWidth,
    srcHeight,
    width,
    height,
    contentX: Math.floor((width - contentWidth) / 2),
    contentY: Math.floor((height - contentHeight) / 2),
    contentWidth,
    contentHeight,
  };
}

/** Paste a `cw × ch × k` block into a zeroed `w × h × k` canvas at (x0, y0). */
function place(
  block: Float32Array | Uint8Array,
  g: PreprocessGeometry,
  k: number,
): Float32Array | Uint8Array {
  if (g.contentWidth === g.width && g.contentHeight === g.height) return block;
  const out =
    block instanceof Uint8Array
      ? new Uint8Array(g.width * g.height * k)
      : new Float32Array(g.width * g.height * k);
  const rowLen = g.contentWidth * k;
  for (let y = 0; y < g.contentHeight; y++) {
    out.set(
      block.subarray(y * rowLen, (y + 1) * rowLen),
      ((g.contentY + y) * g.width + g.contentX) * k,
    );
  }
  return out;
}

/**
 * What `auto` enhancement decides on when the network sees the image as it is, stretched to
 * `QUALITY_SIDE`²: the image's one estimate (`imageQualityEstimate`, the input check's,
 * passed in as `estimate` when the check already took it), so the check's words and the
 * enhancement agree. Other sizes, and inputs already denoised or CLAHE'd by the model's own
 * steps, are measured at network size by `enhanceUnit` (undefined here).
 */
function sharedEstimate(
  img: GreyImage,
  cfg: PreprocessConfig,
  cw: number,
  ch: number,
  estimate: QualityEstimate | undefined,
): QualityEstimate | undefined {
  const same = cw === QUALITY_SIDE && ch === QUALITY_SIDE && !cfg.tiling;
  if (!same || cfg.denoise !== undefined || cfg.clahe !== undefined) return undefined;
  return estimate ?? imageQualityEstimate(img);
}

/**
 * Steps before augmentation: resize to the network size (antialiased), denoise, CLAHE,
 * enhancement. Returns one grey channel, `height * width` values in 0…1, the geometry and,
 * when the model asks for enhancement, what was applied (`enhanced`: `none`, `deblur:5`, …).
 */
export function prepareGrey(
  img: GreyImage,
  cfg: PreprocessConfig,
  estimate?: QualityEstimate,
): { grey: Float32Array; geometry: PreprocessGeometry; enhanced?: string } {
  const geometry = computeGeometry(img.width, img.height, cfg);
  const { contentWidth: cw, contentHeight: ch } = geometry;
  let grey = resizeLinear(img.data, img.width, img.height, cw, ch, 1, 1 / maxValue(img.bitDepth));
  if (cfg.denoise?.method === 'median') grey = medianFilter(grey, cw, ch, cfg.denoise.radius);
  else if (cfg.denoise?.method === 'gaussian') grey = gaussianBlur(grey, cw, ch, cfg.denoise.sigma);
  if (cfg.clahe) grey = clahe(grey, cw, ch, cfg.clahe.clipLimit, cfg.clahe.tiles);
  let enhanced: string | undefined;
  if (cfg.enhance !== undefined && cfg.enhance !== 'none') {
    const mode = parseEnhanceSpec(cfg.enhance, 'preprocess.enhance');
    const shared = mode === 'auto' ? sharedEstimate(img, cfg, cw, ch, estimate) : undefined;
    const r = enhanceUnit(Float64Array.from(grey), cw, ch, mode, shared);
    grey = Float32Array.from(r.values);
    enhanced = r.applied;
  }
  return {
    grey: place(grey, geometry, 1) as Float32Array,
    geometry,
    ...(enhanced !== undefined ? { enhanced } : {}),
  };
}

/** Mean and standard deviation of grey values, as `zscore` normalisation uses them. */
export function greyStats(grey: Float32Array): { readonly mean: number; readonly std: number } {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i]!;
    sum += v;
    sq += v * v;
  }
  const mean = sum / grey.length;
  return { mean, std: Math.sqrt(Math.max(sq / grey.length - mean * mean, 0)) || 1e-6 };
}

/**
 * The coordinate channels of `coordinates` (channels 2 and 3 of `h*w*3` values at
 * `offset`): x and y of each pixel's centre, −1 at the first pixel's outer edge, 1 at the
 * last's. Also how a mirrored input gets them back (the place does not mirror).
 */
export function writeCoordinates(dst: Float32Array, offset: number, h: number, w: number): void {
  for (let y = 0; y < h; y++) {
    const cy = ((y + 0.5) / h) * 2 - 1;
    for (let x = 0; x < w; x++) {
      const o = offset + (y * w + x) * 3;
      dst[o + 1] = ((x + 0.5) / w) * 2 - 1;
      dst[o + 2] = cy;
    }
  }
}

/**
 * Last step: normalise grey values (0…1, `height*width`) and replicate them to
 * `cfg.channels` (with `coordinates`: grey, x, y), giving NHWC data without the batch axis
 * (`height*width*channels`).
 * Write into `out` at `offset` to fill a batch without copying. `stats` replaces the
 * `zscore` statistics of `grey` itself (a training tile takes its whole image's, as the
 * sliding window does at inference).
 */
export function normaliseGrey(
  grey: Float32Array,
  cfg: PreprocessConfig,
  out?: Float32Array,
  offset = 0,
  stats?: { readonly mean: number; readonly std: number },
): Float32Array {
  const c = cfg.channels;
  const n = grey.length;
  const dst = out ?? new Float32Array(n * c);
  let scale: number[];
  let shift: number[];
  switch (cfg.normalise) {
    case 'unit':
      scale = [1, 1, 1];
      shift = [0, 0, 0];
      break;
    case 'imagenet':
      if (c === 1) {
        const m = (IMAGENET_MEAN[0] + IMAGENET_MEAN[1] + IMAGENET_MEAN[2]) / 3;
        const s = (IMAGENET_STD[0] + IMAGENET_STD[1] + IMAGENET_STD[2]) / 3;
        scale = [1 / s];
        shift = [-m / s];
      } else {
        scale = IMAGENET_STD.map((s) => 1 / s);
        shift = IMAGENET_MEAN.map((m, i) => -m / IMAGENET_STD[i]!);
      }
      break;
    case 'caffe':
      scale = [255, 255, 255];
      shift =
        c === 1
          ? [-(CAFFE_MEAN_BGR[0] + CAFFE_MEAN_BGR[1] + CAFFE_MEAN_BGR[2]) / 3]
          : CAFFE_MEAN_BGR.map((m) => -m);
      break;
    case 'zscore': {
      const { mean, std } = stats ?? greyStats(grey);
      scale = [1 / std, 1 / std, 1 / std];
      shift = [-mean / std, -mean / std, -mean / std];
      break;
    }
  }
  if (c === 1) {
    const a = scale[0]!;
    const b = shift[0]!;
    for (let i = 0; i < n; i++) dst[offset + i] = grey[i]! * a + b;
  } else if (cfg.coordinates === true) {
    const a = scale[0]!;
    const b = shift[0]!;
    const [h, w] = cfg.size;
    if (n !== h * w)
      throw new DentsegError('E_USAGE', `normaliseGrey: ${n} values, expected ${w}×${h}`);
    for (let i = 0, o = offset; i < n; i++, o += 3) dst[o] = grey[i]! * a + b;
    writeCoordinates(dst, offset, h, w);
  } else {
    const [a0, a1, a2] = scale as [number, number, number];
    const [b0, b1, b2] = shift as [number, number, number];
    for (let i = 0, o = offset; i < n; i++, o += 3) {
      const v = grey[i]!;
      dst[o] = v * a0 + b0;
      dst[o + 1] = v * a1 + b1;
      dst[o + 2] = v * a2 + b2;
    }
  }
  return dst;
}

/**
 * Full pre-processing for inference: `data` is NHWC without the batch axis
 * (`size[0]*size[1]*channels` float32), `geometry` maps results back with
 * `restoreToOriginal`, `enhanced` as in {@link prepareGrey}.
 */
export function preprocessImage(
  img: GreyImage,
  cfg: PreprocessConfig = DEFAULT_PREPROCESS,
  estimate?: QualityEstimate,
): { data: Float32Array; geometry: PreprocessGeometry; enhanced?: string } {
  const { grey, geometry, enhanced } = prepareGrey(img, cfg, estimate);
  return {
    data: normaliseGrey(grey, cfg),
    geometry,
    ...(enhanced !== undefined ? { enhanced } : {}),
  };
}

/**
 * Map a mask at the original image size into the network input (nearest neighbour,
 * 0 in letterbox padding): `height*width` class indices.
 */
export function maskToInput(mask: Uint8Array, geometry: PreprocessGeometry): Uint8Array {
  const g = geometry;
  const inner = resizeMaskNearest(mask, g.srcWidth, g.srcHeight, g.contentWidth, g.contentHeight);
  return place(inner, g, 1) as Uint8Array;
}

/**
 * Bring `k`-channel network outputs (`height*width*k`, e.g. probabilities) back to the
 * original image: crop the letterbox padding, resize bilinearly (antialiased when
 * shrinking) to `srcHeight*srcWidth*k`.
 */
export function restoreToOriginal(
  values: Float32Array,
  k: number,
  geometry: PreprocessGeometry,
): Float32Array {
  const g = geometry;
  if (values.length !== g.width * g.height * k) {
    throw new DentsegError(
      'E_USAGE',
      `restoreToOriginal: expected ${g.width}×${g.height}×${k} = ${g.width * g.height * k} values, got ${values.length}`,
    );
  }
  let content = values;
  if (g.contentWidth !== g.width || g.contentHeight !== g.height) {
    content = new Float32Array(g.contentWidth * g.contentHeight * k);
    const rowLen = g.contentWidth * k;
    for (let y = 0; y < g.contentHeight; y++) {
      const s = ((g.contentY + y) * g.width + g.contentX) * k;
      content.set(values.subarray(s, s + rowLen), y * rowLen);
    }
  }
  return resizeLinear(content, g.contentWidth, g.contentHeight, g.srcWidth, g.srcHeight, k);
}

/**
 * Bring a class-index map at the network's size (`height*width`, e.g. the arg-max taken
 * there, which is far cheaper than restoring K probability channels) back to the original
 * image: crop the letterbox padding, resize by nearest neighbour to `srcHeight*srcWidth`.
 */
export function restoreMaskToOriginal(mask: Uint8Array, geometry: PreprocessGeometry): Uint8Array {
  const g = geometry;
  if (mask.length !== g.width * g.height) {
    throw new DentsegError(
      'E_USAGE',
      `restoreMaskToOriginal: expected ${g.width}×${g.height} values, got ${mask.length}`,
    );
  }
  let content = mask;
  if (g.contentWidth !== g.width || g.contentHeight !== g.height) {
    content = new Uint8Array(g.contentWidth * g.contentHeight);
    for (let y = 0; y < g.contentHeight; y++) {
      const s = (g.contentY + y) * g.width + g.contentX;
      content.set(mask.subarray(s, s + g.contentWidth), y * g.contentWidth);
    }
  }
  return resizeMaskNearest(content, g.contentWidth, g.contentHeight, g.srcWidth, g.srcHeight);
}

export { resizeMaskNearest };

/**
 * Bring a class-index map at the network's size back to the original image as
 * {@link restoreMaskToOriginal} does, but decide the pixels between two labels by the
 * probabilities, not by which network pixel is nearest: where the four network pixels
 * around an output pixel carry one label it keeps it; where they differ, each label among
 * them scores the bilinearly interpolated probability of its channel (`channelOf[label]`,
 * since post-processing may have renamed a region: a tooth the network called 17 and the
 * anatomy made 16 is 16 with 17's probabilities) and the highest wins. A border between
 * two teeth then falls where their probabilities cross, at the X-ray's resolution, instead
 * of in steps of the network's pixels (2 px at ufba425's 512², 11 px on a 2900-wide X-ray).
 * Only such border pixels read the `k` probability channels (`height*width*k` at the
 * network's size), so it costs little more than the nearest-neighbour restore. Shrinking
 * (network larger than the image) falls back to nearest neighbour.
 */
export function restoreClassMapToOriginal(
  mask: Uint8Array,
  probabilities: Float32Array,
  k: number,
  channelOf: ArrayLike<number>,
  geometry: PreprocessGeometry,
): Uint8Array {
  const g = geometry;
  if (mask.length !== g.width * g.height || probabilities.length !== mask.length * k) {
    throw new DentsegError(
      'E_USAGE',
      `restoreClassMapToOriginal: expected ${g.width}×${g.height} labels and ×${k} probabilities, got ${mask.length} and ${probabilities.length}`,
    );
  }
  const cw = g.contentWidth;
  const ch = g.contentHeight;
  if (cw > g.srcWidth || ch > g.srcHeight) return restoreMaskToOriginal(mask, g);
  // Bilinear taps per output column and row, pixel centres aligned, in content coordinates.
  // (The upper tap is the next pixel, clamped at the edge.)
  const taps = (n: number, outN: number): { lo: Int32Array; f: Float32Array } => {
    const lo = new Int32Array(outN);
    const f = new Float32Array(outN);
    for (let i = 0; i < outN; i++) {
      const c = Math.min(Math.max((i + 0.5) * (n / outN) - 0.5, 0), n - 1);
      lo[i] = Math.floor(c);
      f[i] = c - lo[i]!;
    }
    return { lo, f };
  };
  const tx = taps(cw, g.srcWidth);
  const ty = taps(ch, g.srcHeight);
  const at = (x: number, y: number): number => (g.contentY + y) * g.width + g.contentX + x;
  // Nearest neighbour first: where the four network pixels around an X-ray pixel agree
  // (most of the map) it is already their label; only the cells whose corners differ are
  // decided again, by their probabilities.
  const out = restoreMaskToOriginal(mask, g);
  const W = g.srcWidth;
  // The X-ray columns that sample between network columns x0 and x0 + 1: [runs[x0], runs[x0 + 1]).
  const runs = new Int32Array(cw + 1).fill(W);
  for (let x = W - 1; x >= 0; x--) runs[tx.lo[x]!] = x;
  for (let x0 = cw - 1; x0 >= 0; x0--) runs[x0] = Math.min(runs[x0]!, runs[x0 + 1]!);
  // Per network row y0, the cells whose four corners differ.
  const mixed: number[][] = [];
  for (let y0 = 0; y0 < ch; y0++) {
    const y1 = Math.min(y0 + 1, ch - 1);
    const row: number[] = [];
    for (let x0 = 0; x0 < cw; x0++) {
      const x1 = Math.min(x0 + 1, cw - 1);
      const a = mask[at(x0, y0)]!;
      if (mask[at(x1, y0)] !== a || mask[at(x0, y1)] !== a || mask[at(x1, y1)] !== a) row.push(x0);
    }
    mixed.push(row);
  }
  const corner = new Int32Array(4);
  const weight = new Float32Array(4);
  for (let y = 0; y < g.srcHeight; y++) {
    const y0 = ty.lo[y]!;
    const y1 = Math.min(y0 + 1, ch - 1);
    const fy = ty.f[y]!;
    for (const x0 of mixed[y0]!) {
      const x1 = Math.min(x0 + 1, cw - 1);
      corner[0] = at(x0, y0);
      corner[1] = at(x1, y0);
      corner[2] = at(x0, y1);
      corner[3] = at(x1, y1);
      for (let x = runs[x0]!; x < runs[x0 + 1]!; x++) {
        const fx = tx.f[x]!;
        weight[0] = (1 - fx) * (1 - fy);
        weight[1] = fx * (1 - fy);
        weight[2] = (1 - fx) * fy;
        weight[3] = fx * fy;
        let best = mask[corner[0]]!;
        let bestScore = -1;
        for (let q = 0; q < 4; q++) {
          const label = mask[corner[q]!]!;
          const c = channelOf[label] ?? label;
          let score = 0;
          for (let r = 0; r < 4; r++) score += weight[r]! * probabilities[corner[r]! * k + c]!;
          if (score > bestScore) {
            bestScore = score;
            best = label;
          }
        }
        out[y * W + x] = best;
      }
    }
  }
  return out;
}
