/**
 * Deterministic image filters used by pre-processing (CLAHE, median and Gaussian
 * denoising), over single-channel Float32Array images with values in 0…1. Pure.
 */

/**
 * Contrast-limited adaptive histogram equalisation, OpenCV semantics: the image is cut
 * into `tiles[0]` × `tiles[1]` (rows × columns) tiles, each tile's 256-bin histogram is
 * clipped at `clipLimit × tileArea / 256` with the excess spread evenly, and every pixel is
 * mapped by bilinear interpolation between the four nearest tiles' equalisation curves.
 */
export function clahe(
  src: Float32Array,
  width: number,
  height: number,
  clipLimit: number,
  tiles: readonly [number, number],
): Float32Array {
  const bins = 256;
  const ty = Math.max(1, Math.min(tiles[0], height));
  const tx = Math.max(1, Math.min(tiles[1], width));
  const q = new Uint8Array(width * height);
  for (let i = 0; i < q.length; i++) {
    const v = src[i]!;
    q[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  const luts = new Float32Array(ty * tx * bins);
  const hist = new Float64Array(bins);
  for (let j = 0; j < ty; j++) {
    const y0 = Math.floor((j * height) / ty);
    const y1 = Math.floor(((j + 1) * height) / ty);
    for (let i = 0; i < tx; i++) {
      const x0 = Math.floor((i * width) / tx);
      const x1 = Math.floor(((i + 1) * width) / tx);
      hist.fill(0);
      for (let y = y0; y < y1; y++) {
        const row = y * width;
        for (let x = x0; x < x1; x++) hist[q[row + x]!]!++;
      }
      const area = Math.max(1, (y1 - y0) * (x1 - x0));
      if (clipLimit > 0) {
        const limit = Math.max(1, (clipLimit * area) / bins);
        let excess = 0;
        for (let b = 0; b < bins; b++) {
          const h = hist[b]!;
          if (h > limit) {
            excess += h - limit;
            hist[b] = limit;
          }
        }
        const add = excess / bins;
        for (let b = 0; b < bins; b++) hist[b]! += add;
      }
      let cum = 0;
      const base = (j * tx + i) * bins;
      for (let b = 0; b < bins; b++) {
        cum += hist[b]!;
        luts[base + b] = Math.min(1, cum / area);
      }
    }
  }
  const out = new Float32Array(width * height);
  const tileH = height / ty;
  const tileW = width / tx;
  for (let y = 0; y < height; y++) {
    const fy = (y + 0.5) / tileH - 0.5;
    const j0 = Math.max(0, Math.min(ty - 1, Math.floor(fy)));
    const j1 = Math.min(ty - 1, j0 + 1);
    const wy = Math.max(0, Math.min(1, fy - j0));
    for (let x = 0; x < width; x++) {
      const fx = (x + 0.5) / tileW - 0.5;
      const i0 = Math.max(0, Math.min(tx - 1, Math.floor(fx)));
      const i1 = Math.min(tx - 1, i0 + 1);
      const wx = Math.max(0, Math.min(1, fx - i0));
      const b = q[y * width + x]!;
      const a00 = luts[(j0 * tx + i0) * bins + b]!;
      const a01 = luts[(j0 * tx + i1) * bins + b]!;
      const a10 = luts[(j1 * tx + i0) * bins + b]!;
      const a11 = luts[(j1 * tx + i1) * bins + b]!;
      out[y * width + x] =
        (1 - wy) * ((1 - wx) * a00 + wx * a01) + wy * ((1 - wx) * a10 + wx * a11);
    }
  }
  return out;
}

/** Median filter over a (2·radius+1)² window, edges replicated. */
export function medianFilter(
  src: Float32Array,
  width: number,
  height: number,
  radius: number,
): Float32Array {
  const r = Math.max(0, Math.floor(radius));
  if (r === 0) return src.slice();
  const out = new Float32Array(width * height);
  const win = new Float32Array((2 * r + 1) * (2 * r + 1));
  const mid = win.length >> 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let n = 0;
      for (let dy = -r; dy <= r; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy)) * width;
        for (let dx = -r; dx <= r; dx++) {
          win[n++] = src[yy + Math.min(width - 1, Math.max(0, x + dx))]!;
        }
      }
      win.sort();
      out[y * width + x] = win[mid]!;
    }
  }
  return out;
}

/** Separable Gaussian blur with standard deviation `sigma` pixels, edges reflected (101). */
export function gaussianBlur(
  src: Float32Array,
  width: number,
  height: number,
  sigma: number,
): Float32Array {
  if (!(sigma > 0)) return src.slice();
  const r = Math.max(1, Math.ceil(sigma * 3));
  const kernel = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + r] = w;
    sum += w;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += src[row + reflect101(x + i, width)]! * kernel[i + r]!;
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++)
        acc += tmp[reflect101(y + i, height) * width + x]! * kernel[i + r]!;
      out[y * width + x] = acc;
    }
  }
  return out;
}

/** OpenCV BORDER_REFLECT_101 index: …2 1 | 0 1 2 … n-1 | n-2 n-3… */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}
