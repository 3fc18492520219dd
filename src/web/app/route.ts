/**
 * The page's address: `#/analyses/{id}` names the open analysis, so a reload, the back
 * and forward buttons and a bookmark reopen it (its state comes from the API).
 */

/** The hash that opens analysis `id`. */
export function analysisHash(id: string): string {
  return `#/analyses/${encodeURIComponent(id)}`;
}

/** The analysis id a hash names, or undefined (empty hash, other routes, malformed). */
export function analysisOfHash(hash: string): string | undefined {
  const m = /^#\/analyses\/([^/?#]+)\/?$/.exec(hash);
  if (!m?.[1]) return undefined;
  try {
    const id = decodeURIComponent(m[1]);
    return /^[\w-]{1,100}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
