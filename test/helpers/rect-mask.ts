/** A width×height 0/1 map with the given rectangles `[x, y, w, h]` set to 1 (hand-built masks). */
export function rectMask(
  width: number,
  height: number,
  rects: readonly (readonly [number, number, number, number])[],
): Uint8Array {
  const m = new Uint8Array(width * height);
  for (const [x0, y0, w, h] of rects)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) m[y * width + x] = 1;
  return m;
}
