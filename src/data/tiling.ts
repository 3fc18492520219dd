/**
 * Tiling: models of small lesions see the X-ray at its native resolution (or at the width
 * they were trained at, `width`), one tile at a time, instead of the whole picture squeezed
 * to the network size (which would erase a 46-pixel caries). The same serialisable `TilingConfig` (in `dentseg.json`, under
 * `preprocess.tiling`) drives training-tile sampling and sliding-window inference with
 * overlap blending. Pure: typed arrays in and out, so Node and the browser replay it alike.
 */
import { DentsegError } from '../errors.js';

/** Blend ramps across the overlap of two tiles. */
export const TILE_BLENDS = ['cosine', 'linear'] as const;
export type TileBlend = (typeof TILE_BLENDS)[number];

/** How a model cuts an image into tiles (`preprocess.tiling` in `dentseg.json`). */
export interface TilingConfig {
  /** Tile (network input) size `[height, width]` in pixels: multiples of 32, 32…4096. */
  readonly tile: readonly [number, number];
  /**
   * Pixels shared by neighbouring tiles along each axis, 0 ≤ overlap < min(tile)
   * (default: a quarter of the smaller tile side).
   */
  readonly overlap: number;
  /**
   * Pixels at each tile edge that lies inside the image given weight 0 (the network saw
   * them only as context; its zero padding makes them the least reliable), 0 ≤ 2·margin ≤
   * overlap (default: a quarter of the overlap). Edges on the image border keep weight 1.
   */
  readonly margin: number;
  /**
   * Weight ramp from a tile's margin to its inner part: `cosine` (half a Hann window,
   * default) or `linear`. Both sum to 1 across a regular overlap.
   */
  readonly blend: TileBlend;
  /**
   * Training only (ignored at inference): the share 0…1 of training tiles centred on a
   * random foreground (lesion) pixel; the rest are placed uniformly at random (default 0.7).
   */
  readonly lesionShare: number;
  /**
   * Optional: the width in pixels (integer, {@link TILE_WIDTH_MIN}…{@link TILE_WIDTH_MAX})
   * every image is resized to, keeping its aspect ratio, before tiles are cut, in training
   * and at inference alike. A panoramic spans the jaw from side to side, so its width stands
   * for its scale: a model trained on 1472-wide X-rays then sees a 3100-wide one at the
   * scale it learnt instead of twice as large. Absent: the image's own resolution.
   */
  readonly width?: number;
}

/** Smallest and largest `TilingConfig.width`, pixels. */
export const TILE_WIDTH_MIN = 32;
export const TILE_WIDTH_MAX = 16384;

/** One tile: its top-left corner in the image (pixels, may be 0 when the image is smaller). */
export interface TileOrigin {
  readonly x: number;
  readonly y: number;
}

function bad(key: string, expected: string, got: unknown): never {
  throw new DentsegError(
    'E_CONFIG_INVALID',
    `pre-processing "tiling.${key}" must be ${expected}, got ${JSON.stringify(got)}`,
    { hint: 'see TilingConfig in src/data/tiling.ts' },
  );
}

const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/**
 * Validate an unknown value (parsed JSON) into a frozen `TilingConfig`; only `tile` is
 * required. Throws E_CONFIG_INVALID naming the key.
 */
export function validateTilingConfig(value: unknown): TilingConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('(root)', 'an object {tile, overlap?, margin?, blend?, lesionShare?, width?}', value);
  const v = value as Record<string, unknown>;
  const known = ['tile', 'overlap', 'margin', 'blend', 'lesionShare', 'width'];
  for (const k of Object.keys(v)) if (!known.includes(k)) bad(k, `one of ${known.join(', ')}`, k);
  const tile = v.tile;
  if (
    !Array.isArray(tile) ||
    tile.length !== 2 ||
    !tile.every((t) => isInt(t, 32, 4096) && t % 32 === 0)
  )
    bad('tile', '[height, width], multiples of 32 in 32…4096', tile);
  const [th, tw] = tile as [number, number];
  const overlap = v.overlap ?? Math.floor(Math.min(th, tw) / 4);
  if (!isInt(overlap, 0, Math.min(th, tw) - 1))
    bad('overlap', `an integer 0…${Math.min(th, tw) - 1} (less than the tile)`, overlap);
  const margin = v.margin ?? Math.floor(overlap / 4);
  if (!isInt(margin, 0, Math.floor(overlap / 2)))
    bad('margin', `an integer 0…${Math.floor(overlap / 2)} (at most half the overlap)`, margin);
  const blend = v.blend ?? 'cosine';
  if (!TILE_BLENDS.includes(blend as TileBlend))
    bad('blend', TILE_BLENDS.map((b) => `"${b}"`).join(' or '), blend);
  const lesionShare = v.lesionShare ?? 0.7;
  if (typeof lesionShare !== 'number' || !(lesionShare >= 0 && lesionShare <= 1))
    bad('lesionShare', 'a number in [0, 1]', lesionShare);
  const width = v.width ?? undefined;
  if (width !== undefined && !isInt(width, TILE_WIDTH_MIN, TILE_WIDTH_MAX))
    bad('width', `an integer ${TILE_WIDTH_MIN}…${TILE_WIDTH_MAX} (pixels)`, width);
  return Object.freeze({
    tile: Object.freeze([th, tw]) as readonly [number, number],
    overlap,
    margin,
    blend: blend as TileBlend,
    lesionShare,
    ...(width !== undefined ? { width } : {}),
  });
}

/**
 * Tile origins along one axis of `length` pixels: every `tile − overlap` from 0, the last
 * one flush with the far edge; `[0]` when the axis is not longer than a tile (padded).
 */
export function axisOrigins(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const stride = tile - overlap;
  const out: number[] = [];
  for (let o = 0; ; o += stride) {
    if (o + tile >= length) {
      out.push(length - tile);
      return out;
    }
    out.push(o);
  }
}

/** Every tile of an `height × width` image, row by row. */
export function tileGrid(height: number, width: number, cfg: TilingConfig): TileOrigin[] {
  const ys = axisOrigins(height, cfg.tile[0], cfg.overlap);
  const xs = axisOrigins(width, cfg.tile[1], cfg.overlap);
  return ys.flatMap((y) => xs.map((x) => ({ x, y })));
}

/**
 * Weights along one tile axis of `tile` pixels. An edge inside the image (`atStart` /
 * `atEnd` false) gets `margin` zeros, then a ramp over `overlap − 2·margin` pixels; an edge
 * on the image border keeps weight 1. Ramp values at pixel centres, so a ramp and its
 * mirror sum to 1 over a regular overlap and no pixel of the ramp is 0.
 */
export function axisWeights(
  tile: number,
  cfg: Pick<TilingConfig, 'overlap' | 'margin' | 'blend'>,
  atStart: boolean,
  atEnd: boolean,
): Float32Array {
  const ramp = cfg.overlap - 2 * cfg.margin;
  const edge = (d: number): number => {
    if (d < cfg.margin) return 0;
    if (d >= cfg.margin + ramp) return 1;
    const t = (d - cfg.margin + 0.5) / ramp;
    return cfg.blend === 'cosine' ? 0.5 - 0.5 * Math.cos(Math.PI * t) : t;
  };
  const out = new Float32Array(tile);
  for (let i = 0; i < tile; i++) {
    out[i] = (atStart ? 1 : edge(i)) * (atEnd ? 1 : edge(tile - 1 - i));
  }
  return out;
}

/**
 * Copy the `th × tw` tile at (x0, y0) of NHWC data (`height*width*channels`) into `out` at
 * `offset`; pixels outside the image are `fill` (default 0: the mean of normalised `zscore`
 * input, which is what inference pads with).
 */
export function extractTile(
  data: Float32Array,
  height: number,
  width: number,
  channels: number,
  origin: TileOrigin,
  th: number,
  tw: number,
  out: Float32Array = new Float32Array(th * tw * channels),
  offset = 0,
  fill = 0,
): Float32Array {
  const cols = Math.max(0, Math.min(tw, width - origin.x));
  const rows = Math.min(th, height - origin.y);
  out.fill(fill, offset, offset + th * tw * channels);
  for (let y = 0; y < rows; y++) {
    const s = ((origin.y + y) * width + origin.x) * channels;
    out.set(data.subarray(s, s + cols * channels), offset + y * tw * channels);
  }
  return out;
}

/** Runs the network on a batch of `n` tiles (NHWC, `n*th*tw*c`); resolves to `n*th*tw*k`. */
export type TileRunner = (
  batch: Float32Array,
  n: number,
  th: number,
  tw: number,
) => Promise<Float32Array>;

/**
 * Sliding-window inference: cut pre-processed NHWC `data` (`height*width*channels`, the
 * image at native resolution, or resized to `cfg.width` by the pre-processing) into the tiles of `cfg`, run them `batchSize` at a time
 * (default 4), and blend the outputs with the separable weights of `axisWeights`,
 * normalised by their sum. Returns `height*width*k` values (k from the network). With
 * `keep`, only the tiles it accepts run (at least one, so that k is known); pixels that no
 * run tile weighs are 0.
 */
export async function slidingWindow(
  data: Float32Array,
  height: number,
  width: number,
  channels: number,
  cfg: TilingConfig,
  run: TileRunner,
  batchSize = 4,
  keep?: (tile: TileOrigin) => boolean,
): Promise<Float32Array> {
  if (data.length !== height * width * channels)
    throw new RangeError(`data has ${data.length} values, expected ${height}×${width}×${channels}`);
  const [th, tw] = cfg.tile;
  const grid = tileGrid(height, width, cfg);
  const kept = keep ? grid.filter(keep) : grid;
  const tiles = kept.length > 0 ? kept : grid.slice(0, 1);
  const wy = new Map<number, Float32Array>();
  const wx = new Map<number, Float32Array>();
  for (const t of tiles) {
    if (!wy.has(t.y)) wy.set(t.y, axisWeights(th, cfg, t.y === 0, t.y + th >= height));
    if (!wx.has(t.x)) wx.set(t.x, axisWeights(tw, cfg, t.x === 0, t.x + tw >= width));
  }
  let acc: Float32Array | undefined;
  let k = 0;
  const wsum = new Float32Array(height * width);
  const per = th * tw * channels;
  for (let b = 0; b < tiles.length; b += batchSize) {
    const group = tiles.slice(b, b + batchSize);
    const input = new Float32Array(group.length * per);
    group.forEach((t, i) => extractTile(data, height, width, channels, t, th, tw, input, i * per));
    const out = await run(input, group.length, th, tw);
    if (acc === undefined) {
      k = out.length / (group.length * th * tw);
      if (!Number.isInteger(k) || k < 1)
        throw new DentsegError(
          'E_MODEL_INVALID',
          `the model output has ${out.length} values for ${group.length} tiles of ${tw}×${th}`,
        );
      acc = new Float32Array(height * width * k);
    }
    group.forEach((t, i) => {
      const ay = wy.get(t.y)!;
      const ax = wx.get(t.x)!;
      const rows = Math.min(th, height - t.y);
      const cols = Math.min(tw, width - t.x);
      for (let y = 0; y < rows; y++) {
        const wRow = ay[y]!;
        if (wRow === 0) continue;
        const src = (i * th + y) * tw * k;
        const dst = (t.y + y) * width + t.x;
        for (let x = 0; x < cols; x++) {
          const wgt = wRow * ax[x]!;
          if (wgt === 0) continue;
          wsum[dst + x]! += wgt;
          const so = src + x * k;
          const d = (dst + x) * k;
          for (let c = 0; c < k; c++) acc![d + c]! += wgt * out[so + c]!;
        }
      }
    });
  }
  const result = acc!;
  for (let p = 0; p < wsum.length; p++) {
    const s = wsum[p]!;
    // Every pixel lies in the weighted part of some tile by construction (2·margin ≤ overlap);
    // only one that `keep` left out can have none.
    const inv = s > 0 ? 1 / s : 0;
    for (let c = 0; c < k; c++) result[p * k + c]! *= inv;
  }
  return result;
}

/**
 * A training tile's origin: with probability `lesionShare` centred on a foreground pixel of
 * `mask` drawn uniformly (when there is one), otherwise uniform over the image; clamped so
 * the tile stays inside (origin 0 along an axis shorter than the tile). `random()` gives
 * uniform numbers in [0, 1) (a seeded generator, so tiles repeat for the same seed).
 * Returns the origin and whether it was centred on a lesion.
 */
export function sampleTileOrigin(
  mask: Uint8Array,
  width: number,
  height: number,
  tile: readonly [number, number],
  lesionShare: number,
  random: () => number,
): TileOrigin & { readonly lesion: boolean } {
  const [th, tw] = tile;
  const maxX = Math.max(0, width - tw);
  const maxY = Math.max(0, height - th);
  const wantLesion = random() < lesionShare;
  if (wantLesion) {
    let count = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) count++;
    if (count > 0) {
      let pick = Math.floor(random() * count);
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] === 0) continue;
        if (pick-- === 0) {
          const px = i % width;
          const py = (i - px) / width;
          const clamp = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
          return {
            x: clamp(px - Math.floor(tw / 2), maxX),
            y: clamp(py - Math.floor(th / 2), maxY),
            lesion: true,
          };
        }
      }
    }
  }
  return {
    x: Math.floor(random() * (maxX + 1)),
    y: Math.floor(random() * (maxY + 1)),
    lesion: false,
  };
}

/** Crop the `th × tw` tile at `origin` of a one-channel mask (0 outside the image). */
export function cropMask(
  mask: Uint8Array,
  width: number,
  height: number,
  origin: TileOrigin,
  th: number,
  tw: number,
): Uint8Array {
  const out = new Uint8Array(th * tw);
  const cols = Math.max(0, Math.min(tw, width - origin.x));
  const rows = Math.min(th, height - origin.y);
  for (let y = 0; y < rows; y++) {
    const s = (origin.y + y) * width + origin.x;
    out.set(mask.subarray(s, s + cols), y * tw);
  }
  return out;
}
