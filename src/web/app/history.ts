/**
 * The history panel: past analyses newest first, each openable and deletable from the
 * keyboard, with the one on screen marked and each marked reviewed or not.
 */
import { getJson, remove, type AnalysisSummary } from './api.js';

/** What the history panel needs from the page. */
export interface HistoryContext {
  readonly list: HTMLElement;
  readonly empty: HTMLElement;
  /** Open a past analysis (its summary's `links.self`). */
  open(item: AnalysisSummary): void;
  /** After an analysis was deleted on the server. */
  deleted(id: string): void;
  error(err: unknown): void;
  /** The id on screen, if any. */
  current(): string | undefined;
}

/** Mark the history entry of `id` as the one on screen. */
export function markCurrent(list: HTMLElement, id: string | undefined): void {
  for (const el of list.querySelectorAll<HTMLElement>('[data-id]')) {
    el.classList.toggle('current', el.dataset.id === id);
    if (el.dataset.id === id) el.setAttribute('aria-current', 'true');
    else el.removeAttribute('aria-current');
  }
}

/** Reload the list from GET /api/v1/analyses (the 100 newest). */
export async function refreshHistory(ctx: HistoryContext): Promise<void> {
  const page = await getJson<{ items: AnalysisSummary[]; total: number }>(
    '/api/v1/analyses?limit=100',
  );
  ctx.list.replaceChildren();
  ctx.empty.hidden = page.items.length > 0;
  for (const item of page.items) {
    const li = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'history-item';
    open.dataset.id = item.id;
    const name = document.createElement('span');
    name.className = 'history-name';
    name.textContent = item.filename || '(unnamed)';
    name.title = item.filename ?? '';
    const meta = document.createElement('span');
    meta.className = 'history-meta';
    meta.textContent = `${new Date(item.created).toLocaleString('en-GB')} · ${item.findingsCount} finding${item.findingsCount === 1 ? '' : 's'}`;
    // Told apart in words, not colour alone.
    const badge = document.createElement('span');
    badge.className = `history-review ${item.reviewed ? 'is-reviewed' : 'not-reviewed'}`;
    badge.dataset.testid = 'history-review';
    badge.textContent = item.reviewed ? 'Reviewed' : 'Not reviewed';
    const line = document.createElement('span');
    line.className = 'history-line';
    line.append(badge, meta);
    open.append(name, line);
    open.addEventListener('click', () => ctx.open(item));
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'history-delete ghost';
    del.textContent = '×';
    del.setAttribute('aria-label', `Delete analysis of ${item.filename || 'unnamed file'}`);
    del.addEventListener('click', () => {
      if (!window.confirm(`Delete the analysis of ${item.filename || 'this file'}?`)) return;
      remove(item.links.self)
        .then(() => {
          ctx.deleted(item.id);
          return refreshHistory(ctx);
        })
        .catch((err: unknown) => ctx.error(err));
    });
    li.append(open, del);
    ctx.list.append(li);
  }
  markCurrent(ctx.list, ctx.current());
}
