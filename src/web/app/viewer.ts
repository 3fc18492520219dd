/**
 * The X-ray viewer: draws the image with the segmentation over it on a canvas, with
 * opacity, fill/outline, client-side threshold, zoom (wheel, buttons, +/-) and pan (drag,
 * arrow keys). It knows nothing about the server: it is given pixels. A pointer tool (the
 * mask brush) may take the drags instead of panning; corrected labels replace the
 * thresholded ones while they are set.
 */
import { labelAreas, outlineOf, paintLabels, thresholdLabels } from './overlay.js';

/** How the segmentation is drawn. */
export type OverlayMode = 'fill' | 'outline' | 'both';

/** The pixels the viewer shows. */
export interface ViewerData {
  /** The X-ray, drawable (image or canvas) at its original size. */
  readonly image: CanvasImageSource;
  readonly width: number;
  readonly height: number;
  /** Probability of the shown class per pixel, 0–255. */
  readonly probability: Uint8Array;
  /** Class index per pixel (multi-class); undefined for binary. */
  readonly classes: Uint8Array | undefined;
}

/** An outline drawn over the X-ray (a lesion), in image pixels. */
export interface ViewerShape {
  readonly polygon: readonly (readonly number[])[];
  /** CSS colour. */
  readonly colour: string;
}

/** A tool that takes pointer drags on the image (in image pixels) instead of panning. */
export interface PointerTool {
  down(x: number, y: number): void;
  move(x: number, y: number): void;
  up(): void;
}

function canvasOf(width: number, height: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}

export class Viewer {
  readonly canvas: HTMLCanvasElement;
  #data: ViewerData | undefined;
  #fill: HTMLCanvasElement | undefined;
  #outline: HTMLCanvasElement | undefined;
  #opacity = 0.45;
  #mode: OverlayMode = 'both';
  #threshold = 0.5;
  #scale = 1;
  #tx = 0;
  #ty = 0;
  #highlight: [number, number, number, number] | undefined;
  #labels: Uint8Array | undefined;
  #shapes: readonly ViewerShape[] = [];
  #tool: PointerTool | undefined;
  #pending = false;
  #onChange: (areas: Map<number, number>) => void;

  constructor(canvas: HTMLCanvasElement, onChange: (areas: Map<number, number>) => void) {
    this.canvas = canvas;
    this.#onChange = onChange;
    new ResizeObserver(() => this.#resize()).observe(canvas.parentElement ?? canvas);
    this.#bindPointer();
    this.#bindKeys();
  }

  /** Show new data at threshold `t`, fitted to the view. */
  show(data: ViewerData, threshold: number): void {
    this.#data = data;
    this.#threshold = threshold;
    this.#highlight = undefined;
    this.#labels = undefined;
    this.#recompute();
    this.fit();
  }

  clear(): void {
    this.#data = undefined;
    this.#labels = undefined;
    this.#shapes = [];
    this.#draw();
  }

  /**
   * Outline these shapes over the segmentation (lesions, in their type's colour): they are
   * far smaller than the teeth and would vanish in the mask's fill.
   */
  setShapes(shapes: readonly ViewerShape[]): void {
    this.#shapes = shapes;
    this.#draw();
  }

  /**
   * Show these labels (class index per pixel, e.g. a corrected mask) instead of the
   * thresholded ones; undefined goes back to thresholding. Redrawn once per frame.
   */
  setLabels(labels: Uint8Array | undefined): void {
    this.#labels = labels;
    if (this.#pending) return;
    this.#pending = true;
    requestAnimationFrame(() => {
      this.#pending = false;
      this.#recompute();
      this.#draw();
    });
  }

  /** Give pointer drags to `tool` (image pixels) instead of panning; undefined pans again. */
  setTool(tool: PointerTool | undefined): void {
    this.#tool = tool;
    this.canvas.classList.toggle('painting', tool !== undefined);
  }

  /**
   * The whole X-ray with the overlay as it is drawn now, at most `maxWidth` pixels wide
   * (for printing: the view itself may be zoomed in and sized for the screen).
   */
  snapshot(maxWidth = 1600): HTMLCanvasElement | undefined {
    const d = this.#data;
    if (!d) return undefined;
    const k = Math.min(1, maxWidth / d.width);
    const out = canvasOf(Math.round(d.width * k), Math.round(d.height * k));
    const ctx = out.getContext('2d');
    if (!ctx) return undefined;
    ctx.scale(k, k);
    ctx.drawImage(d.image, 0, 0);
    if (this.#fill && (this.#mode === 'fill' || this.#mode === 'both')) {
      ctx.globalAlpha = this.#opacity;
      ctx.drawImage(this.#fill, 0, 0);
    }
    if (this.#outline && (this.#mode === 'outline' || this.#mode === 'both')) {
      ctx.globalAlpha = Math.min(1, 0.35 + this.#opacity);
      ctx.drawImage(this.#outline, 0, 0);
    }
    ctx.globalAlpha = 1;
    this.#drawShapes(ctx, 2 / k);
    return out;
  }

  /** The image pixel under a point of the page (client coordinates). */
  toImage(clientX: number, clientY: number): [number, number] {
    const rect = this.canvas.getBoundingClientRect();
    return [
      (clientX - rect.left - this.#tx) / this.#scale,
      (clientY - rect.top - this.#ty) / this.#scale,
    ];
  }

  setOpacity(opacity: number): void {
    this.#opacity = opacity;
    this.#draw();
  }

  setMode(mode: OverlayMode): void {
    this.#mode = mode;
    this.#draw();
  }

  setThreshold(threshold: number): void {
    this.#threshold = threshold;
    this.#recompute();
    this.#draw();
  }

  /** Outline a box [x, y, w, h] in image pixels (undefined to clear). */
  setHighlight(box: [number, number, number, number] | undefined): void {
    this.#highlight = box;
    this.#draw();
  }

  /** Zoom by `factor` around the view point (cx, cy) in CSS pixels (default: centre). */
  zoom(factor: number, cx?: number, cy?: number): void {
    const px = cx ?? this.canvas.clientWidth / 2;
    const py = cy ?? this.canvas.clientHeight / 2;
    const next = Math.max(0.02, Math.min(20, this.#scale * factor));
    const f = next / this.#scale;
    this.#tx = px - (px - this.#tx) * f;
    this.#ty = py - (py - this.#ty) * f;
    this.#scale = next;
    this.#draw();
  }

  pan(dx: number, dy: number): void {
    this.#tx += dx;
    this.#ty += dy;
    this.#draw();
  }

  /** Fit the whole image in the view. */
  fit(): void {
    const d = this.#data;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (!d || w === 0 || h === 0) {
      this.#draw();
      return;
    }
    this.#scale = Math.min(w / d.width, h / d.height) * 0.98;
    this.#tx = (w - d.width * this.#scale) / 2;
    this.#ty = (h - d.height * this.#scale) / 2;
    this.#draw();
  }

  /** Current zoom factor (1 = one image pixel per CSS pixel). */
  get scale(): number {
    return this.#scale;
  }

  #recompute(): void {
    const d = this.#data;
    if (!d) return;
    const labels = this.#labels ?? thresholdLabels(d.probability, d.classes, this.#threshold);
    this.#fill ??= canvasOf(d.width, d.height);
    this.#outline ??= canvasOf(d.width, d.height);
    for (const c of [this.#fill, this.#outline]) {
      if (c.width !== d.width || c.height !== d.height) {
        c.width = d.width;
        c.height = d.height;
      }
    }
    const fillCtx = this.#fill.getContext('2d');
    const lineCtx = this.#outline.getContext('2d');
    if (!fillCtx || !lineCtx) return;
    const fill = fillCtx.createImageData(d.width, d.height);
    paintLabels(labels, fill.data);
    fillCtx.putImageData(fill, 0, 0);
    // Outline about 2 screen pixels wide at the fitted zoom.
    const radius = Math.max(1, Math.round(Math.max(d.width, d.height) / 1500));
    const line = lineCtx.createImageData(d.width, d.height);
    paintLabels(outlineOf(labels, d.width, d.height, radius), line.data);
    lineCtx.putImageData(line, 0, 0);
    this.#onChange(labelAreas(labels));
  }

  #resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    this.fit();
  }

  #draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const d = this.#data;
    if (!d) return;
    // Where the view is, for automation: the zoom and the image point at the view's centre.
    this.canvas.dataset.scale = this.#scale.toFixed(4);
    this.canvas.dataset.centre = [
      (this.canvas.clientWidth / 2 - this.#tx) / this.#scale,
      (this.canvas.clientHeight / 2 - this.#ty) / this.#scale,
    ]
      .map((v) => Math.round(v))
      .join(',');
    ctx.setTransform(dpr * this.#scale, 0, 0, dpr * this.#scale, dpr * this.#tx, dpr * this.#ty);
    ctx.imageSmoothingEnabled = this.#scale < 2;
    ctx.drawImage(d.image, 0, 0);
    if (this.#fill && (this.#mode === 'fill' || this.#mode === 'both')) {
      ctx.globalAlpha = this.#opacity;
      ctx.drawImage(this.#fill, 0, 0);
    }
    if (this.#outline && (this.#mode === 'outline' || this.#mode === 'both')) {
      ctx.globalAlpha = Math.min(1, 0.35 + this.#opacity);
      ctx.drawImage(this.#outline, 0, 0);
    }
    ctx.globalAlpha = 1;
    this.#drawShapes(ctx, 2 / this.#scale);
    if (this.#highlight) {
      const [x, y, w, h] = this.#highlight;
      ctx.strokeStyle = '#ffd166';
      ctx.lineWidth = 3 / this.#scale;
      ctx.strokeRect(x, y, w, h);
    }
  }

  #drawShapes(ctx: CanvasRenderingContext2D, lineWidth: number): void {
    ctx.lineWidth = lineWidth;
    ctx.lineJoin = 'round';
    for (const shape of this.#shapes) {
      const [first, ...rest] = shape.polygon;
      if (!first) continue;
      ctx.beginPath();
      ctx.moveTo(first[0] ?? 0, first[1] ?? 0);
      for (const p of rest) ctx.lineTo(p[0] ?? 0, p[1] ?? 0);
      ctx.closePath();
      ctx.strokeStyle = shape.colour;
      ctx.stroke();
    }
  }

  #bindPointer(): void {
    let last: { x: number; y: number } | undefined;
    let painting: PointerTool | undefined;
    this.canvas.addEventListener('pointerdown', (e) => {
      this.canvas.setPointerCapture(e.pointerId);
      if (this.#tool && this.#data && e.button === 0) {
        painting = this.#tool;
        painting.down(...this.toImage(e.clientX, e.clientY));
        return;
      }
      last = { x: e.clientX, y: e.clientY };
      this.canvas.classList.add('dragging');
    });
    this.canvas.addEventListener('pointermove', (e) => {
      if (painting) {
        painting.move(...this.toImage(e.clientX, e.clientY));
        return;
      }
      if (!last) return;
      this.pan(e.clientX - last.x, e.clientY - last.y);
      last = { x: e.clientX, y: e.clientY };
    });
    const end = (): void => {
      painting?.up();
      painting = undefined;
      last = undefined;
      this.canvas.classList.remove('dragging');
    };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointercancel', end);
    this.canvas.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const rect = this.canvas.getBoundingClientRect();
        this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
      },
      { passive: false },
    );
  }

  #bindKeys(): void {
    this.canvas.addEventListener('keydown', (e) => {
      const step = 40;
      const actions: Record<string, () => void> = {
        '+': () => this.zoom(1.25),
        '=': () => this.zoom(1.25),
        '-': () => this.zoom(0.8),
        '0': () => this.fit(),
        ArrowLeft: () => this.pan(step, 0),
        ArrowRight: () => this.pan(-step, 0),
        ArrowUp: () => this.pan(0, step),
        ArrowDown: () => this.pan(0, -step),
      };
      const action = actions[e.key];
      if (action) {
        e.preventDefault();
        action();
      }
    });
  }
}
