/**
 * The mask correction's pure logic, without the DOM (so it is unit-tested in Node): a label
 * map the brush paints a class into and the eraser clears, stroke by stroke, with undo and
 * redo. The tools work on labels (class indices), never on the picture's pixels.
 */

/** Most strokes kept for undo (each keeps a copy of the label map). */
export const UNDO_LIMIT = 30;

/** A label map being corrected: class index per pixel, row-major. */
export class MaskEdit {
  readonly width: number;
  readonly height: number;
  #labels: Uint8Array;
  readonly #undo: Uint8Array[] = [];
  readonly #redo: Uint8Array[] = [];
  #stroke = false;
  #changed = false;

  /** Start from `labels` (copied), `width` × `height` pixels. */
  constructor(labels: Uint8Array, width: number, height: number) {
    if (labels.length !== width * height) {
      throw new Error(`labels hold ${labels.length} pixels, expected ${width} × ${height}`);
    }
    this.width = width;
    this.height = height;
    this.#labels = labels.slice();
  }

  /** The current labels (do not modify; copy to keep). */
  get labels(): Uint8Array {
    return this.#labels;
  }

  get canUndo(): boolean {
    return this.#undo.length > 0;
  }

  get canRedo(): boolean {
    return this.#redo.length > 0;
  }

  /** True once a stroke changed the labels since the start (or the last `markSaved`). */
  get changed(): boolean {
    return this.#changed;
  }

  /** After the labels were saved: nothing left unsaved. */
  markSaved(): void {
    this.#changed = false;
  }

  /** Begin a stroke: everything painted until `endStroke` is undone in one step. */
  beginStroke(): void {
    if (this.#stroke) return;
    this.#stroke = true;
    this.#undo.push(this.#labels.slice());
    if (this.#undo.length > UNDO_LIMIT) this.#undo.shift();
    this.#redo.length = 0;
  }

  endStroke(): void {
    this.#stroke = false;
  }

  /**
   * Paint a line from (x0, y0) to (x1, y1) (image pixels) with a round brush of `radius`
   * pixels, setting `value` (a class index; 0 erases). Outside a stroke it is one stroke.
   * @returns the changed box [x, y, w, h], or undefined when nothing changed.
   */
  paintLine(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    radius: number,
    value: number,
  ): [number, number, number, number] | undefined {
    const own = !this.#stroke;
    if (own) this.beginStroke();
    const r = Math.max(0.5, radius);
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / Math.max(1, r / 2)));
    let box: [number, number, number, number] | undefined;
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      const b = this.#disc(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, r, value);
      if (!b) continue;
      if (!box) box = b;
      else {
        const xa = Math.min(box[0], b[0]);
        const ya = Math.min(box[1], b[1]);
        const xb = Math.max(box[0] + box[2], b[0] + b[2]);
        const yb = Math.max(box[1] + box[3], b[1] + b[3]);
        box = [xa, ya, xb - xa, yb - ya];
      }
    }
    if (own) this.endStroke();
    if (box) this.#changed = true;
    else if (own) this.#undo.pop(); // a stroke that changed nothing leaves no undo step
    return box;
  }

  /** Undo the last stroke; false when there is none. */
  undo(): boolean {
    const prev = this.#undo.pop();
    if (!prev) return false;
    this.#redo.push(this.#labels);
    this.#labels = prev;
    this.#changed = true;
    return true;
  }

  /** Redo the last undone stroke; false when there is none. */
  redo(): boolean {
    const next = this.#redo.pop();
    if (!next) return false;
    this.#undo.push(this.#labels);
    this.#labels = next;
    this.#changed = true;
    return true;
  }

  #disc(
    cx: number,
    cy: number,
    r: number,
    value: number,
  ): [number, number, number, number] | undefined {
    const xa = Math.max(0, Math.ceil(cx - r));
    const xb = Math.min(this.width - 1, Math.floor(cx + r));
    const ya = Math.max(0, Math.ceil(cy - r));
    const yb = Math.min(this.height - 1, Math.floor(cy + r));
    const r2 = r * r;
    let changed = false;
    for (let y = ya; y <= yb; y++) {
      const row = y * this.width;
      for (let x = xa; x <= xb; x++) {
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r2) continue;
        if (this.#labels[row + x] !== value) {
          this.#labels[row + x] = value;
          changed = true;
        }
      }
    }
    return changed ? [xa, ya, xb - xa + 1, yb - ya + 1] : undefined;
  }
}

/**
 * The grey values of the mask PNG the server takes: the class index for multi-class
 * models, 0/255 for binary ones (as `mask.png`).
 */
export function maskGreyValues(labels: Uint8Array, binary: boolean): Uint8Array {
  if (!binary) return labels.slice();
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] ? 255 : 0;
  return out;
}

/** Labels from a stored mask's grey values (binary 0/255 → 0/1; multi-class as is). */
export function labelsOfMask(grey: Uint8Array, binary: boolean): Uint8Array {
  if (!binary) return grey.slice();
  const out = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i++) out[i] = (grey[i] as number) >= 128 ? 1 : 0;
  return out;
}
