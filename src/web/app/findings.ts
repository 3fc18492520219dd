/**
 * The findings list. A server analysis lists every finding with its review state (text and
 * colour) and Accept / Reject buttons; A and R do the same for the selected finding and
 * ↑/↓ move the selection. A result computed in the browser has nothing to review: its
 * findings are listed as before (one line per class for multi-class models).
 */
import type { Finding, ReviewState } from './api.js';
import { findingTypeColour } from '../../imaging/palette.js';
import { areaText, findingTitle, isLesion } from './finding-text.js';
import { REVIEW_LABELS } from './keys.js';
import { classColour, groupFindings, type FindingGroup } from './overlay.js';

/** What the list needs from the page. */
export interface FindingsContext {
  readonly list: HTMLElement;
  readonly count: HTMLElement;
  readonly note: HTMLElement;
  /** Outline a box on the X-ray (undefined clears). */
  highlight(bbox: [number, number, number, number] | undefined): void;
  /** Centre and zoom the viewer on a box. */
  zoomTo(bbox: [number, number, number, number]): void;
  /** Send a review decision; resolves once the server stored it. */
  review(finding: Finding, state: 'accepted' | 'rejected'): Promise<void>;
}

function fmtPx(n: number): string {
  return n.toLocaleString('en-GB');
}

function swatchOf(classIndex: number, type?: string): HTMLElement {
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  // A lesion takes its type's colour (the chart's marks and outlines use it too).
  swatch.style.background =
    type === undefined ? `rgb(${classColour(classIndex).join(',')})` : findingTypeColour(type);
  swatch.setAttribute('aria-hidden', 'true');
  return swatch;
}

/** A small badge with the review state as words (its colour only repeats them). */
export function reviewBadge(state: ReviewState): HTMLElement {
  const badge = document.createElement('span');
  badge.className = `review-badge review-${state}`;
  badge.dataset.testid = 'review-state';
  badge.textContent = REVIEW_LABELS[state] ?? state;
  return badge;
}

/** What else the list needs to word findings. */
export interface FindingsExtra {
  /** [row, column] mm per pixel, from a DICOM: areas in mm² (else px). */
  readonly spacingMm?: readonly number[] | undefined;
  /** Names of the set's lesion models (the analysis' `models` with role `lesion`). */
  readonly lesionModels?: ReadonlySet<string> | undefined;
}

export class FindingsPanel {
  readonly #ctx: FindingsContext;
  #findings: readonly Finding[] = [];
  #reviewable = false;
  #selected = -1;
  #spacing: readonly number[] | undefined;
  #lesionModels: ReadonlySet<string> = new Set();

  constructor(ctx: FindingsContext) {
    this.#ctx = ctx;
  }

  /** Whether the list shows review controls (a server analysis with finding ids). */
  get reviewable(): boolean {
    return this.#reviewable;
  }

  /**
   * Show `findings` found at `threshold`; reviewable when every finding has an id. Lesions
   * (found by `lesionModels`, or drawn) come first, worded with their tooth. Areas are in mm²
   * when `spacingMm` ([row, column] mm per pixel, from a DICOM) is given, else px.
   */
  render(
    findings: readonly Finding[],
    threshold: number,
    byClass: boolean,
    extra: FindingsExtra = {},
  ): void {
    const keep = this.selected?.id;
    const lesionModels = extra.lesionModels ?? new Set<string>();
    const lesion = (f: Finding): boolean => isLesion(f, lesionModels);
    // What a dentist reads first: the suspected lesions, then the teeth model's regions.
    findings = [...findings.filter(lesion), ...findings.filter((f) => !lesion(f))];
    this.#findings = findings;
    this.#spacing = extra.spacingMm;
    this.#lesionModels = lesionModels;
    this.#reviewable = findings.length > 0 && findings.every((f) => f.id !== undefined);
    const total = findings.reduce((s, f) => s + f.areaPct, 0);
    const at = byClass ? '' : `, at threshold ${threshold.toFixed(2)}`;
    this.#ctx.list.replaceChildren();
    if (this.#reviewable) {
      this.#renderReview(findings, keep);
      const open = findings.filter((f) => (f.review ?? 'suggested') === 'suggested').length;
      this.#ctx.count.textContent = `(${findings.length})`;
      const teeth = new Set(
        findings.filter(lesion).flatMap((f) => (typeof f.tooth === 'number' ? [f.tooth] : [])),
      );
      const lesions = findings.filter(lesion).length;
      const regions = findings.length - lesions;
      const parts = [
        ...(lesions > 0
          ? [
              `${lesions} suspected lesion${lesions === 1 ? '' : 's'} on ${teeth.size} ${teeth.size === 1 ? 'tooth' : 'teeth'}`,
            ]
          : []),
        ...(regions > 0 && lesions > 0
          ? [`${regions} teeth region${regions === 1 ? '' : 's'}`]
          : regions > 0
            ? [
                `${regions} region${regions === 1 ? '' : 's'}, ${total.toFixed(2)}% of the image${at}`,
              ]
            : []),
      ];
      this.#ctx.note.textContent = `${parts.join(', ')}; ${open} not yet reviewed.`;
      return;
    }
    const entries = groupFindings(findings, byClass);
    this.#ctx.count.textContent = `(${entries.length})`;
    const what = byClass
      ? `${entries.length} class${entries.length === 1 ? '' : 'es'} in ${findings.length} region${findings.length === 1 ? '' : 's'}`
      : `${findings.length} region${findings.length === 1 ? '' : 's'}`;
    this.#ctx.note.textContent =
      findings.length === 0
        ? `Nothing found${at}.`
        : `${what}, ${total.toFixed(2)}% of the image${at}.`;
    this.#selected = -1;
    entries.forEach((f, i) => this.#ctx.list.append(this.#plainItem(f, i)));
  }

  /** The selected finding (reviewable lists only). */
  get selected(): Finding | undefined {
    return this.#reviewable ? this.#findings[this.#selected] : undefined;
  }

  /** Move the selection by `delta` findings (focuses it and outlines it on the X-ray). */
  move(delta: number): void {
    if (!this.#reviewable || this.#findings.length === 0) return;
    const next =
      this.#selected < 0
        ? delta > 0
          ? 0
          : this.#findings.length - 1
        : Math.max(0, Math.min(this.#findings.length - 1, this.#selected + delta));
    this.#select(next, true);
  }

  /** Accept or reject the selected finding (a key press); false when none is selected. */
  decide(state: 'accepted' | 'rejected'): boolean {
    const f = this.selected;
    if (!f) return false;
    void this.#ctx.review(f, state).catch(() => undefined); // the page shows the error
    return true;
  }

  #select(index: number, focus: boolean): void {
    this.#selected = index;
    for (const row of this.#ctx.list.querySelectorAll<HTMLElement>('.finding-row')) {
      const on = Number(row.dataset.index) === index;
      row.classList.toggle('selected', on);
      const main = row.querySelector<HTMLElement>('.finding');
      main?.setAttribute('aria-current', on ? 'true' : 'false');
      if (on && focus) {
        main?.focus();
        row.scrollIntoView({ block: 'nearest' });
      }
    }
    const f = this.#findings[index];
    this.#ctx.highlight(f ? [...f.bbox] : undefined);
  }

  #renderReview(findings: readonly Finding[], keep: string | undefined): void {
    findings.forEach((f, i) => {
      const state = f.review ?? 'suggested';
      const li = document.createElement('li');
      li.className = 'finding-row';
      li.dataset.index = String(i);
      li.dataset.id = f.id ?? '';
      li.dataset.review = state;
      li.dataset.testid = 'finding-row';
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'finding';
      button.dataset.testid = 'finding';
      const title = document.createElement('span');
      title.className = 'finding-title';
      const type = f.type ?? f.class;
      const lesion = isLesion(f, this.#lesionModels);
      // "Caries — tooth 36 (distal), confidence 0.82"; a teeth-model region as before.
      const text = findingTitle(f, lesion);
      title.dataset.testid = 'finding-title';
      title.append(
        swatchOf(f.classIndex, lesion ? type : undefined),
        lesion ? text : `${f.id ?? i + 1}. ${text}`,
      );
      const meta = document.createElement('span');
      meta.className = 'finding-meta';
      const was = f.original ? ` · was ${f.original.type}` : '';
      const area = areaText(f.areaPx, this.#spacing);
      meta.textContent = lesion
        ? `${area} · ${f.id ?? i + 1}${was}`
        : `${f.areaPct.toFixed(2)}% · ${area}${was}`;
      button.append(title, meta);
      button.setAttribute(
        'aria-label',
        `Finding ${f.id ?? i + 1}: ${text}, ${REVIEW_LABELS[state] ?? state}. Press to zoom to it; A accepts, R rejects.`,
      );
      button.addEventListener('focus', () => this.#select(i, false));
      button.addEventListener('click', () => {
        this.#select(i, false);
        this.#ctx.zoomTo([...f.bbox]);
      });
      button.addEventListener('mouseenter', () => this.#ctx.highlight([...f.bbox]));
      const actions = document.createElement('span');
      actions.className = 'finding-actions';
      actions.append(reviewBadge(state));
      for (const [decision, label] of [
        ['accepted', 'Accept'],
        ['rejected', 'Reject'],
      ] as const) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = `small-button ${decision === 'accepted' ? 'accept' : 'reject'}`;
        b.textContent = label;
        b.dataset.testid = decision === 'accepted' ? 'accept' : 'reject';
        b.setAttribute('aria-pressed', String(state === decision));
        b.setAttribute('aria-label', `${label} finding ${f.id ?? i + 1}`);
        b.addEventListener('click', () => {
          this.#select(i, false);
          void this.#ctx.review(f, decision).catch(() => undefined);
        });
        actions.append(b);
      }
      li.append(button, actions);
      this.#ctx.list.append(li);
    });
    const again = keep === undefined ? -1 : findings.findIndex((f) => f.id === keep);
    this.#selected = again;
    if (again >= 0) this.#select(again, false);
  }

  #plainItem(f: FindingGroup, i: number): HTMLElement {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'finding';
    button.dataset.testid = 'finding';
    const title = document.createElement('span');
    title.className = 'finding-title';
    title.append(swatchOf(f.classIndex), `${i + 1}. ${f.class}`);
    const meta = document.createElement('span');
    meta.className = 'finding-meta';
    const regions = f.regions > 1 ? ` · ${f.regions} regions` : '';
    meta.textContent = `${f.areaPct.toFixed(2)}% · ${fmtPx(f.areaPx)} px${regions} · at (${Math.round(f.centroid[0])}, ${Math.round(f.centroid[1])})`;
    button.append(title, meta);
    button.setAttribute(
      'aria-label',
      `Finding ${i + 1}: ${f.class}, ${f.areaPct.toFixed(2)} percent of the image; press to zoom to it`,
    );
    const on = (): void => this.#ctx.highlight(f.bbox);
    const off = (): void => this.#ctx.highlight(undefined);
    button.addEventListener('mouseenter', on);
    button.addEventListener('focus', on);
    button.addEventListener('mouseleave', off);
    button.addEventListener('blur', off);
    button.addEventListener('click', () => {
      this.#ctx.zoomTo(f.bbox);
      this.#ctx.highlight(f.bbox);
    });
    li.append(button);
    return li;
  }
}
