/**
 * The input check on the page: one plain sentence above the results when the upload does
 * not look like a panoramic X-ray (or is blank, noisy, blurred…), with the issues listed.
 */
import { describeQuality, type InputQuality } from '../../imaging/quality-words.js';

/** Show `quality` in `el` (hidden when there is nothing to say or no check was stored). */
export function renderQuality(
  el: HTMLElement,
  quality: (InputQuality & { readonly withheld?: boolean }) | undefined,
): void {
  const sentence = quality ? describeQuality(quality, quality.withheld) : undefined;
  el.replaceChildren();
  el.hidden = sentence === undefined;
  if (!quality || sentence === undefined) return;
  el.classList.toggle('rejected', !quality.panoramic);
  const p = document.createElement('p');
  p.textContent = sentence;
  el.append(p);
  if (quality.issues.length > 0) {
    const list = document.createElement('ul');
    list.setAttribute('aria-label', 'Image issues');
    for (const issue of quality.issues) {
      const li = document.createElement('li');
      li.textContent = issue;
      list.append(li);
    }
    el.append(list);
  }
}
