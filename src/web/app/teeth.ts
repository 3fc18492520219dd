/**
 * The dental chart of a numbering model's analysis: the 32 permanent FDI numbers as the
 * dentist reads them (upper 18…11 | 21…28, lower 48…41 | 31…38), present teeth with their
 * review state, missing ones struck through. Select a tooth, then give it another number
 * (the server swaps it with a tooth already holding that number) or mark it missing or
 * present again.
 */
import type { Tooth } from './api.js';
import { findingTypeColour } from '../../imaging/palette.js';
import { typeLabel } from './finding-text.js';
import { REVIEW_LABELS } from './keys.js';

/**
 * Chart quadrants as the dentist faces the patient: upper right and upper left side by
 * side, lower right and lower left below them (on a narrow panel each quadrant wraps to its
 * own line, 8 teeth wide).
 */
export const CHART_ROWS: readonly (readonly number[])[] = [
  [18, 17, 16, 15, 14, 13, 12, 11],
  [21, 22, 23, 24, 25, 26, 27, 28],
  [48, 47, 46, 45, 44, 43, 42, 41],
  [31, 32, 33, 34, 35, 36, 37, 38],
];

const QUADRANT_NAMES = ['Upper right', 'Upper left', 'Lower right', 'Lower left'] as const;

/** Whether `n` is a permanent FDI number (quadrants 1–4, teeth 1–8). */
export function isPermanentFdi(n: number): boolean {
  return Number.isInteger(n) && n >= 11 && n <= 48 && n % 10 >= 1 && n % 10 <= 8;
}

/** What the chart needs from the page. */
export interface TeethContext {
  readonly grid: HTMLElement;
  /** The key to the marks: one entry per finding type (hidden when there is none). */
  readonly legend: HTMLElement;
  readonly detail: HTMLElement;
  readonly title: HTMLElement;
  readonly numberInput: HTMLInputElement;
  /** The input's list of numbers to pick from: the 32 permanent FDI numbers. */
  readonly numberList: HTMLDataListElement;
  readonly renumberForm: HTMLFormElement;
  readonly presentButton: HTMLButtonElement;
  readonly message: HTMLElement;
  /** PATCH the tooth `fdi` with `{ fdi: to }`. */
  renumber(fdi: number, to: number): Promise<void>;
  /** PATCH the tooth `fdi` with `{ present }`. */
  setPresent(fdi: number, present: boolean): Promise<void>;
  /** A tooth was selected (undefined: none), e.g. to paint its class with the brush. */
  selected(fdi: number | undefined): void;
  /** Outline a box on the X-ray (undefined clears). */
  highlight(bbox: [number, number, number, number] | undefined): void;
}

export class TeethChart {
  readonly #ctx: TeethContext;
  #teeth = new Map<number, Tooth>();
  #missing = new Set<number>();
  #marks = new Map<number, readonly string[]>();
  #selected: number | undefined;

  constructor(ctx: TeethContext) {
    this.#ctx = ctx;
    ctx.numberList.replaceChildren(
      ...CHART_ROWS.flat()
        .sort((a, b) => a - b)
        .map((n) => {
          const o = document.createElement('option');
          o.value = String(n);
          return o;
        }),
    );
    ctx.renumberForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const from = this.#selected;
      const to = Number(ctx.numberInput.value.trim());
      if (from === undefined) return;
      if (!isPermanentFdi(to)) {
        ctx.message.textContent = `${ctx.numberInput.value || '(empty)'} is not a permanent FDI number (11–18, 21–28, 31–38, 41–48).`;
        return;
      }
      if (to === from) return;
      ctx.message.textContent = '';
      // The tooth keeps being selected under its new number.
      void ctx.renumber(from, to).then(
        () => this.select(to),
        () => undefined, // the page shows the error
      );
    });
    ctx.presentButton.addEventListener('click', () => {
      const fdi = this.#selected;
      if (fdi === undefined) return;
      void ctx.setPresent(fdi, !this.#teeth.has(fdi)).catch(() => undefined);
    });
  }

  /**
   * Draw the chart for these teeth and missing numbers (keeps the selection). `marks`: the
   * finding types on each tooth, drawn as a dot per type; `types`: the finding types the
   * legend names even when no tooth has one (what the analysis looked for).
   */
  render(
    teeth: readonly Tooth[],
    missing: readonly number[],
    marks: ReadonlyMap<number, readonly string[]> = new Map(),
    types: readonly string[] = [],
  ): void {
    this.#teeth = new Map(teeth.map((t) => [t.fdi, t]));
    this.#missing = new Set(missing);
    this.#marks = new Map(marks);
    this.#renderLegend(types);
    this.#ctx.grid.replaceChildren();
    for (const [r, row] of CHART_ROWS.entries()) {
      const line = document.createElement('div');
      line.className = 'chart-row';
      line.setAttribute('role', 'group');
      line.setAttribute('aria-label', QUADRANT_NAMES[r] ?? 'Quadrant');
      line.dataset.quadrant = String(r + 1);
      for (const fdi of row) line.append(this.#cell(fdi));
      this.#ctx.grid.append(line);
    }
    this.#showDetail();
  }

  /** Select tooth `fdi` (undefined clears the selection). */
  select(fdi: number | undefined): void {
    this.#selected = fdi;
    for (const b of this.#ctx.grid.querySelectorAll<HTMLButtonElement>('button[data-fdi]')) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.fdi) === fdi));
    }
    this.#showDetail();
    this.#ctx.selected(fdi);
    const tooth = fdi === undefined ? undefined : this.#teeth.get(fdi);
    this.#ctx.highlight(tooth ? [...tooth.bbox] : undefined);
  }

  #cell(fdi: number): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'tooth';
    b.dataset.fdi = String(fdi);
    b.dataset.testid = 'tooth';
    const tooth = this.#teeth.get(fdi);
    const state = tooth ? (tooth.review ?? 'suggested') : 'missing';
    b.dataset.state = tooth ? 'present' : 'missing';
    if (tooth) b.dataset.review = tooth.review ?? 'suggested';
    b.textContent = String(fdi);
    const types = this.#marks.get(fdi) ?? [];
    if (types.length > 0) {
      b.dataset.findings = types.join(' ');
      const dots = document.createElement('span');
      dots.className = 'tooth-marks';
      dots.setAttribute('aria-hidden', 'true');
      for (const type of types) {
        const dot = document.createElement('span');
        dot.className = 'tooth-mark';
        dot.dataset.type = type;
        dot.style.background = findingTypeColour(type);
        dots.append(dot);
      }
      b.append(dots);
    }
    const was = tooth?.original ? `, numbered ${tooth.original.fdi} by the model` : '';
    // The marks in words, not colour alone.
    const found = types.length > 0 ? `; findings: ${types.join(', ')}` : '';
    b.setAttribute(
      'aria-label',
      tooth
        ? `Tooth ${fdi}, ${tooth.name}, ${REVIEW_LABELS[state] ?? state}${was}${found}`
        : `Tooth ${fdi}, missing${found}`,
    );
    b.title = b.getAttribute('aria-label') ?? '';
    b.setAttribute('aria-pressed', String(this.#selected === fdi));
    b.addEventListener('click', () => this.select(this.#selected === fdi ? undefined : fdi));
    return b;
  }

  #renderLegend(types: readonly string[]): void {
    const all = [...new Set([...types, ...[...this.#marks.values()].flat()])].sort();
    const legend = this.#ctx.legend;
    legend.hidden = all.length === 0;
    legend.replaceChildren(
      ...all.map((type) => {
        const li = document.createElement('li');
        li.dataset.type = type;
        const dot = document.createElement('span');
        dot.className = 'tooth-mark';
        dot.style.background = findingTypeColour(type);
        dot.setAttribute('aria-hidden', 'true');
        let teeth = 0;
        for (const t of this.#marks.values()) if (t.includes(type)) teeth++;
        li.append(dot, `${typeLabel(type)}: ${teeth} ${teeth === 1 ? 'tooth' : 'teeth'}`);
        return li;
      }),
    );
  }

  #showDetail(): void {
    const fdi = this.#selected;
    const ctx = this.#ctx;
    ctx.detail.hidden = fdi === undefined;
    if (fdi === undefined) return;
    const tooth = this.#teeth.get(fdi);
    const was = tooth?.original ? ` (the model said ${tooth.original.fdi})` : '';
    ctx.title.textContent = tooth
      ? `Tooth ${fdi}: ${tooth.name}${was}`
      : `Tooth ${fdi}: missing${this.#missing.has(fdi) ? '' : ' (not charted)'}`;
    ctx.numberInput.value = '';
    ctx.message.textContent = '';
    ctx.numberInput.disabled = !tooth;
    ctx.renumberForm.querySelector('button')?.toggleAttribute('disabled', !tooth);
    ctx.presentButton.textContent = tooth ? 'Mark missing' : 'Mark present';
  }
}
