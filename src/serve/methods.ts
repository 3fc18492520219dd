/**
 * Which methods each route answers, so that a known path asked with another method gets
 * 405 and an `Allow` header (what HTTP clients and proxies expect) instead of a 404 that
 * reads as "no such resource".
 */
import type { FastifyInstance } from 'fastify';

interface RoutePattern {
  /** Path segments; `:name` segments match any one non-empty segment. */
  readonly segments: readonly string[];
  /** The pattern ends in `*` (matches any rest, including nothing). */
  readonly wildcard: boolean;
  readonly methods: Set<string>;
}

function segmentsOf(path: string): string[] {
  return path.split('/').slice(1);
}

/** Percent-decoded, as the router sees it; undecodable text stays as sent. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The methods of every route registered on an app, looked up by concrete path. */
export class RouteMethods {
  readonly #patterns = new Map<string, RoutePattern>();
  readonly #wildcardExcept: string;

  /**
   * @param wildcardExcept paths under this prefix are never claimed by wildcard routes
   *   (the static page's `/*` must not turn an unknown API path into a 405).
   */
  constructor(wildcardExcept: string) {
    this.#wildcardExcept = wildcardExcept;
  }

  /** Record a route's method(s), as Fastify's `onRoute` hook reports them. */
  add(method: string | readonly string[], url: string): void {
    let pattern = this.#patterns.get(url);
    if (!pattern) {
      const wildcard = url.endsWith('*');
      pattern = {
        segments: segmentsOf(wildcard ? url.slice(0, -1) : url),
        wildcard,
        methods: new Set(),
      };
      this.#patterns.set(url, pattern);
    }
    for (const m of typeof method === 'string' ? [method] : method) {
      pattern.methods.add(m.toUpperCase());
    }
  }

  /**
   * Whether a path is under the excepted prefix however it is spelt: letter case, percent
   * encoding, doubled slashes and dot segments must not turn an unknown API path into a
   * 405 (answered before authentication) where the router itself would find nothing.
   */
  #excepted(parts: readonly string[]): boolean {
    const resolved: string[] = [];
    for (const part of parts) {
      if (part === '' || part === '.') continue;
      if (part === '..') resolved.pop();
      else resolved.push(part.toLowerCase());
    }
    return `/${resolved.join('/')}/`.startsWith(this.#wildcardExcept.toLowerCase());
  }

  /**
   * Methods served on `url` (query ignored), sorted, or undefined when no route matches
   * it. Exact and parametric routes win over wildcard routes, as in the router.
   */
  allowed(url: string): string[] | undefined {
    const path = url.split('?')[0] ?? '';
    const parts = segmentsOf(path).map(decoded);
    const exact = new Set<string>();
    const loose = new Set<string>();
    for (const p of this.#patterns.values()) {
      if (p.wildcard) {
        if (this.#excepted(parts) || parts.length < p.segments.length - 1) {
          continue;
        }
        // The last pattern segment is the text before `*` (empty for `/*`): a prefix.
        const head = p.segments.slice(0, -1);
        const tail = p.segments[p.segments.length - 1] ?? '';
        const fixed = head.every((s, i) => s.startsWith(':') || s === parts[i]);
        if (fixed && parts.slice(head.length).join('/').startsWith(tail)) {
          for (const m of p.methods) loose.add(m);
        }
      } else if (
        p.segments.length === parts.length &&
        p.segments.every((s, i) => (s.startsWith(':') ? parts[i] !== '' : s === parts[i]))
      ) {
        for (const m of p.methods) exact.add(m);
      }
    }
    const methods = exact.size > 0 ? exact : loose;
    return methods.size > 0 ? [...methods].sort() : undefined;
  }
}

/**
 * Track the methods of every route registered on `app` from now on (call before adding
 * routes and plug-ins that add routes).
 */
export function trackRouteMethods(app: FastifyInstance, wildcardExcept: string): RouteMethods {
  const routes = new RouteMethods(wildcardExcept);
  app.addHook('onRoute', (route) => routes.add(route.method, route.url ?? route.path));
  return routes;
}
