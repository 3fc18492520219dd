/**
 * The input check on the page: one plain sentence above the results when the upload does
 * not look like a panoramic X-ray (or is blank, noisy, blurred…), with the issues listed.
 */
import {
  describeEnhancement,
  describeQuality,
  type InputQuality,
} from '../../imaging/quality-words.js';

/**
 * Show `quality` in `el`, and what enhancement ran (`enhanced`: the analysis's
 * `models[].enhanced`); hidden when there is nothing to say or no check was stored.
 */
export function renderQuality(
  el: HTMLElement,
  quality: (InputQuality & { readonly withheld?: boolean }) | undefined,
  enhanced: readonly string[] = [],
): void {
  const sentence = quality ? describeQuality(quality, quality.withheld) : undefined;
  const enhancement = describeEnhancement(enhanced);
  el.replaceChildren();
  el.hidden = sentence === undefined && enhancement === undefined;
  if (quality && sentence !== undefined) {
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
  if (enhancement !== undefined) {
    const note = document.createElement('p');
    note.className = 'small';
    note.textContent = enhancement;
    el.append(note);
  }
}
