// The review page's pure logic, in Node: the mask brush's label edits with undo and redo,
// the mask PNG values, the analysis links in the address, the review keys and the chart.
import { describe, expect, it } from 'vitest';
import { reviewKeyAction, isTypingTarget, type KeyLike } from '../../src/web/app/keys.js';
import { MaskEdit, UNDO_LIMIT, labelsOfMask, maskGreyValues } from '../../src/web/app/mask-edit.js';
import { documentLinks, reviewedText } from '../../src/web/app/review.js';
import { analysisHash, analysisOfHash } from '../../src/web/app/route.js';
import { CHART_ROWS, isPermanentFdi } from '../../src/web/app/teeth.js';

const count = (a: Uint8Array, v: number): number => a.reduce((n, x) => n + (x === v ? 1 : 0), 0);

describe('MaskEdit', () => {
  it('paints a round brush of the given radius and erases with 0', () => {
    const edit = new MaskEdit(new Uint8Array(21 * 21), 21, 21);
    const box = edit.paintLine(10, 10, 10, 10, 3, 5);
    expect(box).toEqual([7, 7, 7, 7]);
    // A disc of radius 3 on the pixel grid: 29 pixels (x² + y² ≤ 9).
    expect(count(edit.labels, 5)).toBe(29);
    expect(edit.labels[10 * 21 + 13]).toBe(5);
    expect(edit.labels[13 * 21 + 13]).toBe(0);
    edit.paintLine(10, 10, 10, 10, 1, 0);
    expect(count(edit.labels, 5)).toBe(24);
    expect(edit.changed).toBe(true);
  });

  it('a drag is a continuous line, undone and redone as one stroke', () => {
    const start = new Uint8Array(40 * 10);
    const edit = new MaskEdit(start, 40, 10);
    edit.beginStroke();
    edit.paintLine(2, 5, 20, 5, 1.5, 1);
    edit.paintLine(20, 5, 37, 5, 1.5, 1);
    edit.endStroke();
    for (let x = 2; x <= 37; x++) expect(edit.labels[5 * 40 + x], `x ${x}`).toBe(1);
    const painted = edit.labels.slice();
    expect(edit.canUndo).toBe(true);
    expect(edit.undo()).toBe(true);
    expect(count(edit.labels, 1)).toBe(0);
    expect(edit.canUndo).toBe(false);
    expect(edit.redo()).toBe(true);
    expect(edit.labels).toEqual(painted);
    expect(edit.redo()).toBe(false);
    // The start labels were copied, never painted on.
    expect(count(start, 1)).toBe(0);
  });

  it('a new stroke drops the redo steps; a stroke that changes nothing leaves no undo step', () => {
    const edit = new MaskEdit(new Uint8Array(100), 10, 10);
    edit.paintLine(2, 2, 2, 2, 1, 1);
    edit.undo();
    expect(edit.canRedo).toBe(true);
    edit.paintLine(7, 7, 7, 7, 1, 2);
    expect(edit.canRedo).toBe(false);
    expect(edit.paintLine(7, 7, 7, 7, 1, 2)).toBeUndefined();
    expect(edit.undo()).toBe(true);
    expect(edit.canUndo).toBe(false);
    // Outside the image nothing changes either.
    expect(edit.paintLine(-20, -20, -15, -15, 2, 1)).toBeUndefined();
  });

  it('keeps at most UNDO_LIMIT strokes; markSaved clears the unsaved flag', () => {
    const edit = new MaskEdit(new Uint8Array(100 * 100), 100, 100);
    for (let i = 0; i < UNDO_LIMIT + 5; i++) edit.paintLine(i * 2, 50, i * 2, 50, 0.5, 1);
    let undone = 0;
    while (edit.undo()) undone++;
    expect(undone).toBe(UNDO_LIMIT);
    edit.markSaved();
    expect(edit.changed).toBe(false);
  });

  it('refuses labels of the wrong size', () => {
    expect(() => new MaskEdit(new Uint8Array(10), 4, 4)).toThrow(/16|4 × 4/);
  });
});

describe('mask PNG values', () => {
  it('binary masks are 0/255 both ways; multi-class masks are class indices', () => {
    const labels = new Uint8Array([0, 1, 1, 0]);
    expect([...maskGreyValues(labels, true)]).toEqual([0, 255, 255, 0]);
    expect([...labelsOfMask(new Uint8Array([0, 255, 200, 3]), true)]).toEqual([0, 1, 1, 0]);
    const classes = new Uint8Array([0, 7, 32, 1]);
    expect([...maskGreyValues(classes, false)]).toEqual([0, 7, 32, 1]);
    expect([...labelsOfMask(classes, false)]).toEqual([0, 7, 32, 1]);
  });
});

describe('analysis links in the address', () => {
  const id = '0b6f1c2e-9a51-4c8e-8f0e-2d3b4a5c6d7e';
  it('round-trips an id and refuses other hashes', () => {
    expect(analysisHash(id)).toBe(`#/analyses/${id}`);
    expect(analysisOfHash(analysisHash(id))).toBe(id);
    expect(analysisOfHash(`#/analyses/${id}/`)).toBe(id);
    for (const bad of [
      '',
      '#',
      '#/analyses/',
      '#/other/x',
      `#/analyses/${id}/audit`,
      '#/analyses/%E0%A4%A',
      '#/analyses/a%2Fb',
    ]) {
      expect(analysisOfHash(bad), bad).toBeUndefined();
    }
  });
});

describe('review keys', () => {
  const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    ...mods,
  });
  it('A/R decide, arrows and J/K move, Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y undo and redo', () => {
    expect(reviewKeyAction(key('a'))).toBe('accept');
    expect(reviewKeyAction(key('r'))).toBe('reject');
    expect(reviewKeyAction(key('ArrowDown'))).toBe('next');
    expect(reviewKeyAction(key('j'))).toBe('next');
    expect(reviewKeyAction(key('ArrowUp'))).toBe('prev');
    expect(reviewKeyAction(key('k'))).toBe('prev');
    expect(reviewKeyAction(key('z', { ctrlKey: true }))).toBe('undo');
    expect(reviewKeyAction(key('Z', { ctrlKey: true, shiftKey: true }))).toBe('redo');
    expect(reviewKeyAction(key('z', { metaKey: true, shiftKey: true }))).toBe('redo');
    expect(reviewKeyAction(key('y', { ctrlKey: true }))).toBe('redo');
  });
  it('leaves other keys and modified letters alone', () => {
    for (const k of [
      key('x'),
      key('A', { shiftKey: true }),
      key('a', { ctrlKey: true }),
      key('r', { altKey: true }),
      key('Enter'),
    ]) {
      expect(reviewKeyAction(k)).toBeUndefined();
    }
    expect(isTypingTarget('textarea')).toBe(true);
    expect(isTypingTarget('INPUT')).toBe(true);
    expect(isTypingTarget('BUTTON')).toBe(false);
    expect(isTypingTarget('DIV', true)).toBe(true);
  });
});

describe('chart and documents', () => {
  it('the chart holds the 32 permanent numbers once, by quadrant as the dentist faces the patient', () => {
    const all = CHART_ROWS.flat();
    expect(all).toHaveLength(32);
    expect(new Set(all).size).toBe(32);
    expect(all.every(isPermanentFdi)).toBe(true);
    expect(CHART_ROWS[0]?.slice(0, 2)).toEqual([18, 17]);
    expect(CHART_ROWS.map((q) => q[0])).toEqual([18, 21, 48, 31]);
    expect(CHART_ROWS[3]?.slice(-2)).toEqual([37, 38]);
    for (const n of [10, 19, 51, 49, 0, 11.5, Number.NaN])
      expect(isPermanentFdi(n), String(n)).toBe(false);
  });
  it('report and export addresses; reviewed in words', () => {
    expect(documentLinks({ links: { self: '/api/v1/analyses/x' } as never })).toEqual({
      report: '/api/v1/analyses/x/report.pdf',
      sc: '/api/v1/analyses/x/export/sc.dcm',
      seg: '/api/v1/analyses/x/export/seg.dcm',
    });
    expect(reviewedText(null)).toBe('Not reviewed');
    expect(reviewedText(undefined)).toBe('Not reviewed');
    expect(reviewedText({ by: 'dr-a', at: '2026-01-02T03:04:05Z', note: '' })).toMatch(
      /^Reviewed by dr-a on /,
    );
  });
});
