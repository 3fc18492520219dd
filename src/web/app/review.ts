/**
 * Closing a review: the dentist's note, "Mark reviewed" and who reviewed it when, and the
 * documents to keep: the report PDF and the DICOM Secondary Capture and SEG exports.
 */
import type { Analysis } from './api.js';

/** What the review section needs from the page. */
export interface ReviewContext {
  readonly note: HTMLTextAreaElement;
  /** The note as printed (a text area prints badly). */
  readonly notePrint: HTMLElement;
  readonly markButton: HTMLButtonElement;
  readonly status: HTMLElement;
  readonly report: HTMLButtonElement;
  readonly exportSc: HTMLAnchorElement;
  readonly exportSeg: HTMLAnchorElement;
  /** POST the review with this note; resolves once stored. */
  markReviewed(note: string): Promise<void>;
  /** Download `url` (with the API token) as `name`. */
  download(url: string, name: string): Promise<void>;
  error(err: unknown): void;
}

/** The report and export addresses of an analysis. */
export function documentLinks(analysis: Pick<Analysis, 'links'>): {
  report: string;
  sc: string;
  seg: string;
} {
  const self = analysis.links.self;
  return {
    report: `${self}/report.pdf`,
    sc: `${self}/export/sc.dcm`,
    seg: `${self}/export/seg.dcm`,
  };
}

/** "Reviewed by X on …" or "Not reviewed". */
export function reviewedText(reviewed: Analysis['reviewed'] | undefined): string {
  if (!reviewed) return 'Not reviewed';
  const when = new Date(reviewed.at).toLocaleString('en-GB');
  return `Reviewed${reviewed.by ? ` by ${reviewed.by}` : ''} on ${when}`;
}

export class ReviewPanel {
  readonly #ctx: ReviewContext;
  #analysis: Analysis | undefined;
  #stem = 'analysis';

  constructor(ctx: ReviewContext) {
    this.#ctx = ctx;
    ctx.note.addEventListener('input', () => (ctx.notePrint.textContent = ctx.note.value));
    ctx.markButton.addEventListener('click', () => {
      ctx.markButton.disabled = true;
      ctx.markReviewed(ctx.note.value.trim()).then(
        () => (ctx.markButton.disabled = false),
        (err: unknown) => {
          ctx.markButton.disabled = false;
          ctx.error(err);
        },
      );
    });
    ctx.report.addEventListener('click', () => {
      if (!this.#analysis) return;
      void ctx
        .download(documentLinks(this.#analysis).report, `${this.#stem}.report.pdf`)
        .catch(ctx.error);
    });
    // Real links (open in a new tab, copy the address) that download with the token when clicked.
    for (const [a, kind] of [
      [ctx.exportSc, 'sc'],
      [ctx.exportSeg, 'seg'],
    ] as const) {
      a.addEventListener('click', (e) => {
        if (!this.#analysis || e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        void ctx.download(a.href, `${this.#stem}.${kind}.dcm`).catch(ctx.error);
      });
    }
  }

  /** Show the review state of `analysis`; `stem` names the downloaded files. */
  render(analysis: Analysis, stem: string, keepNote = false): void {
    const changed = this.#analysis?.id !== analysis.id;
    this.#analysis = analysis;
    this.#stem = stem;
    const reviewed = analysis.reviewed ?? null;
    if (changed || !keepNote) this.#ctx.note.value = reviewed?.note ?? '';
    this.#ctx.notePrint.textContent = this.#ctx.note.value;
    this.#ctx.status.textContent = reviewedText(reviewed);
    this.#ctx.status.dataset.reviewed = String(reviewed !== null);
    this.#ctx.markButton.textContent = reviewed ? 'Mark reviewed again' : 'Mark reviewed';
    const links = documentLinks(analysis);
    this.#ctx.exportSc.href = links.sc;
    this.#ctx.exportSeg.href = links.seg;
  }
}
