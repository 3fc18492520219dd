/**
 * The page's review keys, without the DOM (unit-tested in Node): A accepts and R rejects the
 * selected finding, ↑/↓ (or K/J) move between findings, Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y)
 * undo and redo a mask correction. Keys typed into a field are the field's.
 */

export type ReviewKeyAction = 'accept' | 'reject' | 'next' | 'prev' | 'undo' | 'redo';

/** The parts of a KeyboardEvent the mapping reads. */
export interface KeyLike {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
}

/** What a key press does on the review page, or undefined when it is not a review key. */
export function reviewKeyAction(e: KeyLike): ReviewKeyAction | undefined {
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.ctrlKey || e.metaKey) {
    if (e.altKey) return undefined;
    if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (key === 'y' && !e.shiftKey) return 'redo';
    return undefined;
  }
  if (e.altKey || e.shiftKey) return undefined;
  switch (key) {
    case 'a':
      return 'accept';
    case 'r':
      return 'reject';
    case 'ArrowDown':
    case 'j':
      return 'next';
    case 'ArrowUp':
    case 'k':
      return 'prev';
    default:
      return undefined;
  }
}

/** Whether key presses aimed at `tag` (an element's tagName) belong to a text field. */
export function isTypingTarget(tag: string, editable = false): boolean {
  return editable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(tag.toUpperCase());
}

/** Labels of the review states as shown (text beside the colour, never colour alone). */
export const REVIEW_LABELS: Readonly<Record<string, string>> = Object.freeze({
  suggested: 'Suggested',
  accepted: 'Accepted',
  rejected: 'Rejected',
  edited: 'Edited',
  added: 'Added',
});
