/**
 * Class lists and the horizontal-flip class swap. Mask value i is class `classes[i]`;
 * index 0 is always background. For FDI tooth classes a horizontal flip exchanges the
 * patient's right and left (quadrants 1↔2, 3↔4, deciduous 5↔6, 7↔8), so flip
 * augmentation must relabel: `flipClassMap[i]` is the class that i becomes. Pure.
 */

/**
 * The class of a binary data set without `--classes`, and so of the models trained on it
 * or built with a class count of 1: one name everywhere.
 */
export const DEFAULT_BINARY_CLASS = 'tooth';

/** Quadrant swaps: horizontal flip exchanges right/left, vertical flip upper/lower jaw. */
const FDI_SWAP: Record<'horizontal' | 'vertical', Record<number, number>> = {
  horizontal: { 1: 2, 2: 1, 3: 4, 4: 3, 5: 6, 6: 5, 7: 8, 8: 7 },
  vertical: { 1: 4, 4: 1, 2: 3, 3: 2, 5: 8, 8: 5, 6: 7, 7: 6 },
};

/** The FDI two-digit number a class name ends with ("tooth 11", "11", "FDI-48"), if any. */
export function fdiNumber(name: string): number | undefined {
  const m = /(?:^|\D)([1-8][1-8])$/.exec(name.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * The class-swap table for a horizontal flip, or undefined when no class changes
 * (binary masks, non-FDI classes). Classes whose mirror is absent map to themselves.
 */
export function flipClassMapFor(
  classes: readonly string[],
  axis: 'horizontal' | 'vertical' = 'horizontal',
): number[] | undefined {
  const byFdi = new Map<number, number>();
  classes.forEach((c, i) => {
    const f = fdiNumber(c);
    if (f !== undefined && i > 0) byFdi.set(f, i);
  });
  if (byFdi.size === 0) return undefined;
  const map = classes.map((_, i) => i);
  let changed = false;
  classes.forEach((c, i) => {
    const f = fdiNumber(c);
    if (f === undefined || i === 0) return;
    const q = Math.floor(f / 10);
    const mirror = byFdi.get(FDI_SWAP[axis][q]! * 10 + (f % 10));
    if (mirror !== undefined && mirror !== i) {
      map[i] = mirror;
      changed = true;
    }
  });
  return changed ? map : undefined;
}

/**
 * Class names from a classes file's parsed JSON: an array of names (index = position),
 * an object `{name: index}`, or ufba425's `{"background": 0, "fdi_to_class": {"11": 1…}}`
 * (names become "tooth 11"…). Returns undefined when the shape is not recognised.
 */
export function classesFromJson(json: unknown): string[] | undefined {
  if (Array.isArray(json) && json.every((x) => typeof x === 'string')) return json as string[];
  if (typeof json !== 'object' || json === null) return undefined;
  const entries: [string, number][] = [];
  const obj = json as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (typeof value === 'number') entries.push([key, value]);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [fdi, idx] of Object.entries(value as Record<string, unknown>)) {
        if (typeof idx === 'number')
          entries.push([/^\d{2}$/.test(fdi) ? `tooth ${fdi}` : fdi, idx]);
      }
    }
  }
  if (entries.length === 0) return undefined;
  const max = Math.max(...entries.map(([, i]) => i));
  const names = Array.from({ length: max + 1 }, (_, i) => (i === 0 ? 'background' : `class ${i}`));
  for (const [name, idx] of entries) if (Number.isInteger(idx) && idx >= 0) names[idx] = name;
  return names;
}
