/**
 * The mask correction tools on the X-ray: a brush that paints a class and an eraser that
 * clears it, with a size in image pixels, undo / redo (buttons and Ctrl+Z / Ctrl+Shift+Z)
 * and "Save correction", which uploads the corrected label map as a PNG at the X-ray's size
 * (the model's mask stays untouched on the server).
 */
import { MaskEdit, maskGreyValues } from './mask-edit.js';
import type { PointerTool, Viewer } from './viewer.js';

export type Tool = 'pan' | 'brush' | 'eraser';

/** What the editor needs from the page. */
export interface BrushContext {
  readonly viewer: Viewer;
  readonly bar: HTMLElement;
  readonly size: HTMLInputElement;
  readonly sizeValue: HTMLElement;
  readonly paintClass: HTMLSelectElement;
  readonly undoButton: HTMLButtonElement;
  readonly redoButton: HTMLButtonElement;
  readonly saveButton: HTMLButtonElement;
  readonly status: HTMLElement;
  /** Upload the mask PNG; resolves once the server stored it. */
  save(png: Blob): Promise<void>;
  /** The viewer shows the edited labels (true) rather than the re-thresholded mask. */
  editing(on: boolean): void;
}

/** The analysis being corrected. */
export interface BrushTarget {
  /** Labels to start from (the stored or already corrected mask), class index per pixel. */
  readonly labels: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly binary: boolean;
  /** Class names, index 0 the background. */
  readonly classes: readonly string[];
  /** True when the labels are an earlier correction. */
  readonly corrected: boolean;
}

/** Encode grey values as a PNG with a canvas (R = G = B = value, opaque). */
async function greyPng(grey: Uint8Array, width: number, height: number): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i] as number;
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'),
  );
}

export class MaskBrush {
  readonly #ctx: BrushContext;
  #edit: MaskEdit | undefined;
  #target: BrushTarget | undefined;
  #tool: Tool = 'pan';
  #last: [number, number] | undefined;
  #saving = false;

  constructor(ctx: BrushContext) {
    this.#ctx = ctx;
    for (const radio of ctx.bar.querySelectorAll<HTMLInputElement>('input[name="tool"]')) {
      radio.addEventListener('change', () => this.setTool(radio.value as Tool));
    }
    ctx.size.addEventListener('input', () => this.#showSize());
    ctx.undoButton.addEventListener('click', () => this.undo());
    ctx.redoButton.addEventListener('click', () => this.redo());
    ctx.saveButton.addEventListener('click', () => void this.save());
    this.#showSize();
  }

  /** Correct this analysis' mask (undefined: nothing to correct, the bar is hidden). */
  start(target: BrushTarget | undefined): void {
    this.#target = target;
    this.#edit = target ? new MaskEdit(target.labels, target.width, target.height) : undefined;
    this.#ctx.bar.hidden = !target;
    const select = this.#ctx.paintClass;
    select.replaceChildren();
    if (target) {
      target.classes.forEach((name, i) => {
        if (i === 0) return;
        const o = document.createElement('option');
        o.value = String(i);
        o.textContent = name;
        select.append(o);
      });
    }
    select.closest('label')?.toggleAttribute('hidden', !target || target.binary);
    this.#ctx.status.textContent = target?.corrected ? 'Corrected mask shown.' : '';
    this.setTool('pan');
    this.#refresh(target?.corrected === true);
    this.#ctx.editing(target?.corrected === true);
  }

  /** Paint this class with the brush (e.g. the tooth selected in the chart). */
  setPaintClass(index: number): void {
    if ([...this.#ctx.paintClass.options].some((o) => o.value === String(index))) {
      this.#ctx.paintClass.value = String(index);
    }
  }

  setTool(tool: Tool): void {
    this.#tool = this.#edit ? tool : 'pan';
    for (const radio of this.#ctx.bar.querySelectorAll<HTMLInputElement>('input[name="tool"]')) {
      radio.checked = radio.value === this.#tool;
    }
    this.#ctx.viewer.setTool(this.#tool === 'pan' ? undefined : this.#pointer());
  }

  /** Undo the last stroke; false when there was none. */
  undo(): boolean {
    const done = this.#edit?.undo() ?? false;
    if (done) this.#refresh();
    return done;
  }

  /** Redo the last undone stroke; false when there was none. */
  redo(): boolean {
    const done = this.#edit?.redo() ?? false;
    if (done) this.#refresh();
    return done;
  }

  /** Whether there is anything the keys could undo or redo. */
  get active(): boolean {
    return this.#edit !== undefined;
  }

  /** Upload the corrected mask. */
  async save(): Promise<void> {
    const edit = this.#edit;
    const target = this.#target;
    if (!edit || !target || this.#saving) return;
    this.#saving = true;
    this.#ctx.saveButton.disabled = true;
    this.#ctx.status.textContent = 'Saving the correction…';
    try {
      const png = await greyPng(
        maskGreyValues(edit.labels, target.binary),
        edit.width,
        edit.height,
      );
      await this.#ctx.save(png);
      edit.markSaved();
      this.#ctx.status.textContent = 'Correction saved.';
    } catch (err) {
      this.#ctx.status.textContent = `Not saved: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.#saving = false;
      this.#refresh(false);
    }
  }

  #pointer(): PointerTool {
    const stroke = (x: number, y: number): void => {
      const edit = this.#edit;
      if (!edit) return;
      const [px, py] = this.#last ?? [x, y];
      const value = this.#tool === 'eraser' ? 0 : Number(this.#ctx.paintClass.value || 1);
      edit.paintLine(px, py, x, y, Number(this.#ctx.size.value) / 2, value);
      this.#last = [x, y];
      this.#ctx.viewer.setLabels(edit.labels);
      this.#ctx.editing(true);
    };
    return {
      down: (x, y) => {
        this.#edit?.beginStroke();
        this.#last = undefined;
        stroke(x, y);
      },
      move: (x, y) => stroke(x, y),
      up: () => {
        this.#edit?.endStroke();
        this.#last = undefined;
        this.#refresh(false);
      },
    };
  }

  #refresh(redraw = true): void {
    const edit = this.#edit;
    this.#ctx.undoButton.disabled = !edit?.canUndo;
    this.#ctx.redoButton.disabled = !edit?.canRedo;
    this.#ctx.saveButton.disabled = !edit?.changed || this.#saving;
    if (edit?.changed && !this.#saving) this.#ctx.status.textContent = 'Unsaved correction.';
    if (redraw && edit) this.#ctx.viewer.setLabels(edit.labels);
  }

  #showSize(): void {
    this.#ctx.sizeValue.textContent = `${this.#ctx.size.value} px`;
  }
}
