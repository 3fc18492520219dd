/**
 * The review of the analysis on screen, wired to the API: findings (accept / reject), the
 * chart (renumber, missing / present), the mask brush (save a correction), the note and
 * "Mark reviewed", and the review keys. Every change is sent, then the stored analysis is
 * read back and shown: the server's answer is the truth (a renumbering may swap teeth).
 */
import { putFile, sendJson, getJson, type Analysis, type Finding } from './api.js';
import { MaskBrush } from './brush.js';
import { $, download } from './dom.js';
import { findingTypeColour } from '../../imaging/palette.js';
import { findingMarks, isLesion, lesionModelNames } from './finding-text.js';
import { FindingsPanel, type FindingsExtra } from './findings.js';
import { isTypingTarget, reviewKeyAction } from './keys.js';
import { labelsOfMask } from './mask-edit.js';
import { ReviewPanel } from './review.js';
import { TeethChart } from './teeth.js';
import type { Viewer } from './viewer.js';

/** What the review needs from the page. */
export interface ReviewHost {
  readonly viewer: Viewer;
  /** The server analysis on screen, if any. */
  current(): Analysis | undefined;
  /** Keep the analysis read back after a change. */
  update(analysis: Analysis): void;
  /** Centre and zoom the viewer on a box of the image. */
  zoomTo(box: [number, number, number, number]): void;
  /** The threshold slider (off while a correction is shown: it does not apply to it). */
  readonly threshold: HTMLInputElement;
  /** File name stem for downloads. */
  stem(): string;
  showError(message: string | undefined): void;
  handleError(err: unknown): void;
  refreshHistory(): Promise<void>;
}

/** Where the corrected mask of `analysis` is written (one per model). */
export function maskUrl(analysis: Analysis): string {
  return `${analysis.links.self}/masks/${encodeURIComponent(analysis.model.name)}`;
}

/** Whether the dentist saved a corrected mask for the analysis' model. */
export function isCorrected(analysis: Analysis): boolean {
  return (
    analysis.links.maskCorrected !== undefined ||
    (analysis.corrections?.masks.includes(analysis.model.name) ?? false)
  );
}

/** Where the mask the brush starts from is read: the last correction, else the model's. */
export function maskSource(analysis: Analysis): string {
  return isCorrected(analysis)
    ? (analysis.links.maskCorrected ?? maskUrl(analysis))
    : analysis.links.mask;
}

/** The class index of FDI number `fdi` in a numbering model's classes (e.g. "tooth 36"). */
export function classOfFdi(classes: readonly string[], fdi: number): number {
  return classes.findIndex((c, i) => i > 0 && new RegExp(`(^|\\D)${fdi}$`).test(c.trim()));
}

export class ReviewControls {
  readonly #host: ReviewHost;
  readonly findings: FindingsPanel;
  readonly #teeth: TeethChart;
  readonly #brush: MaskBrush;
  readonly #panel: ReviewPanel;

  constructor(host: ReviewHost) {
    this.#host = host;
    const viewer = host.viewer;
    this.findings = new FindingsPanel({
      list: $('findings'),
      count: $('findings-count'),
      note: $('findings-note'),
      highlight: (box) => viewer.setHighlight(box),
      zoomTo: (box) => host.zoomTo(box),
      review: (finding, state) =>
        this.#change(
          (a) => `${a.links.self}/findings/${encodeURIComponent(finding.id ?? '')}`,
          'PATCH',
          { review: state },
        ),
    });
    this.#teeth = new TeethChart({
      grid: $('chart'),
      legend: $('chart-legend'),
      detail: $('tooth-detail'),
      title: $('tooth-title'),
      numberInput: $<HTMLInputElement>('tooth-number'),
      numberList: $<HTMLDataListElement>('fdi-numbers'),
      renumberForm: $<HTMLFormElement>('renumber-form'),
      presentButton: $<HTMLButtonElement>('tooth-present'),
      message: $('tooth-message'),
      renumber: (fdi, to) =>
        this.#change((a) => `${a.links.self}/teeth/${fdi}`, 'PATCH', { fdi: to }),
      setPresent: (fdi, present) =>
        this.#change((a) => `${a.links.self}/teeth/${fdi}`, 'PATCH', { present }),
      selected: (fdi) => {
        const classes = host.current()?.classes;
        if (fdi !== undefined && classes) this.#brush.setPaintClass(classOfFdi(classes, fdi));
      },
      highlight: (box) => viewer.setHighlight(box),
    });
    this.#brush = new MaskBrush({
      viewer,
      bar: $('edit-bar'),
      size: $<HTMLInputElement>('brush-size'),
      sizeValue: $('brush-size-value'),
      paintClass: $<HTMLSelectElement>('brush-class'),
      undoButton: $<HTMLButtonElement>('undo'),
      redoButton: $<HTMLButtonElement>('redo'),
      saveButton: $<HTMLButtonElement>('save-mask'),
      status: $('mask-status'),
      save: async (png) => {
        const analysis = host.current();
        if (!analysis) throw new Error('no analysis is open');
        await putFile(maskUrl(analysis), png, 'mask.png');
        await this.#reload(analysis.id);
      },
      editing: (on) => {
        host.threshold.disabled = on;
      },
    });
    this.#panel = new ReviewPanel({
      note: $<HTMLTextAreaElement>('review-note'),
      notePrint: $('review-note-print'),
      markButton: $<HTMLButtonElement>('mark-reviewed'),
      status: $('reviewed-status'),
      report: $<HTMLButtonElement>('dl-report'),
      exportSc: $<HTMLAnchorElement>('export-sc'),
      exportSeg: $<HTMLAnchorElement>('export-seg'),
      markReviewed: async (note) => {
        await this.#change((a) => `${a.links.self}/review`, 'POST', { note });
        await host.refreshHistory();
      },
      download,
      error: (err) => host.handleError(err),
    });
    document.addEventListener('keydown', (e) => this.#key(e));
  }

  /**
   * Show the findings of the analysis or browser result on screen, and outline its lesions
   * on the X-ray in their type's colour (the ones the dentist rejected are left out).
   */
  renderFindings(
    findings: readonly Finding[],
    threshold: number,
    byClass: boolean,
    extra: FindingsExtra = {},
  ): void {
    this.findings.render(findings, threshold, byClass, extra);
    $('findings-keys').hidden = !this.findings.reviewable;
    const lesionModels = extra.lesionModels ?? new Set<string>();
    this.#host.viewer.setShapes(
      findings
        .filter((f) => isLesion(f, lesionModels) && f.review !== 'rejected')
        .map((f) => ({ polygon: f.polygon, colour: findingTypeColour(f.type ?? f.class) })),
    );
  }

  /** A server analysis was opened: `maskGrey` is the mask the brush starts from. */
  open(analysis: Analysis, maskGrey: Uint8Array): void {
    const multiclass = analysis.model.task === 'multiclass';
    this.#brush.start({
      labels: labelsOfMask(maskGrey, !multiclass),
      width: analysis.image.width,
      height: analysis.image.height,
      binary: !multiclass,
      classes: analysis.classes,
      corrected: isCorrected(analysis),
    });
    this.#teeth.select(undefined);
    this.render(analysis);
  }

  /** Nothing to review on screen (no analysis, or a result computed in the browser). */
  close(): void {
    this.#brush.start(undefined);
    for (const id of ['teeth-section', 'review-section', 'documents']) $(id).hidden = true;
  }

  /** Show the review state of `analysis`: findings, chart, note, reviewed. */
  render(analysis: Analysis): void {
    const lesionModels = lesionModelNames(analysis.models);
    this.renderFindings(
      analysis.findings,
      analysis.threshold,
      analysis.model.task === 'multiclass',
      {
        spacingMm: analysis.image.pixelSpacingMm,
        lesionModels,
      },
    );
    const numbered = (analysis.teeth?.length ?? 0) + (analysis.missing?.length ?? 0) > 0;
    $('teeth-section').hidden = !numbered;
    if (numbered) {
      // What the set looked for is in the legend even when nothing was found.
      const looked = (analysis.models ?? []).flatMap((m) =>
        m.role === 'lesion' && m.type ? [m.type] : [],
      );
      this.#teeth.render(
        analysis.teeth ?? [],
        analysis.missing ?? [],
        findingMarks(analysis.findings, lesionModels),
        looked,
      );
    }
    $('review-section').hidden = false;
    $('documents').hidden = false;
    this.#panel.render(analysis, this.#host.stem(), true);
    document.body.dataset.reviewed = String(Boolean(analysis.reviewed));
  }

  /** Send one change of the analysis on screen, then show what the server stored. */
  async #change(
    url: (a: Analysis) => string,
    method: 'PATCH' | 'POST',
    body: unknown,
  ): Promise<void> {
    const analysis = this.#host.current();
    if (!analysis) return;
    this.#host.showError(undefined);
    try {
      await sendJson(method, url(analysis), body);
      await this.#reload(analysis.id);
    } catch (err) {
      this.#host.handleError(err);
      throw err;
    }
  }

  /** Fetch the analysis again and redraw its review state (not its images). */
  async #reload(id: string): Promise<void> {
    const fresh = await getJson<Analysis>(`/api/v1/analyses/${encodeURIComponent(id)}`);
    if (this.#host.current()?.id !== id) return;
    this.#host.update(fresh);
    this.render(fresh);
  }

  #key(e: KeyboardEvent): void {
    // The viewer's own keys (arrows pan) and typing in a field come first.
    if (e.defaultPrevented || !this.#host.current()) return;
    const target = e.target instanceof HTMLElement ? e.target : undefined;
    if (target && isTypingTarget(target.tagName, target.isContentEditable)) return;
    const action = reviewKeyAction(e);
    if (!action) return;
    let done = false;
    if (action === 'undo') done = this.#brush.undo();
    else if (action === 'redo') done = this.#brush.redo();
    else if (action === 'next' || action === 'prev') {
      this.findings.move(action === 'next' ? 1 : -1);
      done = this.findings.reviewable;
    } else done = this.findings.decide(action === 'accept' ? 'accepted' : 'rejected');
    if (done) e.preventDefault();
  }
}
