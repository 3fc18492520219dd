/**
 * Browser-facing protection registered once on the app: unsafe requests from another site
 * are refused (a page the dentist happens to open must not be able to upload or delete
 * analyses on a server without a token), and every response carries the headers that keep
 * the page from being framed, leaking URLs or running anything it did not ship.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DentsegError } from '../errors.js';

/**
 * The page's Content-Security-Policy: only its own bundled scripts, styles and workers;
 * `'wasm-unsafe-eval'` because private mode compiles ONNX Runtime's WebAssembly, and
 * ORT's proxy and thread workers are same-origin module scripts (`worker-src 'self'`).
 * Images and downloads are drawn from blobs the page itself fetched.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers sent on every response, page and API alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  // Cross-origin isolation: private mode runs ONNX Runtime on wasm threads, which need
  // SharedArrayBuffer.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

/** Seconds a client is told to wait after a 503 (queue full, analysis timed out). */
export const RETRY_AFTER_S = 5;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The request headers {@link crossOriginReason} reads (names in lower case). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  // Proxies append to X-Forwarded-*: the first entry is what the browser asked for.
  return v?.split(',')[0]?.trim() || undefined;
}

/** `scheme://host[:port]` with the scheme's default port dropped; undefined if not a URL. */
function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The origins this server answers as: `scheme://Host` of the request, also over https (a
 * TLS-terminating proxy that keeps Host), and the proxy's X-Forwarded-Host/-Proto or
 * Forwarded host/proto. Honouring forwarded headers is safe here: a page on another site
 * cannot make a browser send them without a CORS preflight, which this server never grants.
 */
export function ownOrigins(headers: RequestHeaders, protocol: string): Set<string> {
  const forwarded = first(headers.forwarded);
  const fwdHost =
    first(headers['x-forwarded-host']) ?? /host="?([^;,"]+)/i.exec(forwarded ?? '')?.[1];
  const fwdProto =
    first(headers['x-forwarded-proto']) ?? /proto="?([^;,"]+)/i.exec(forwarded ?? '')?.[1];
  const hosts = [first(headers.host), fwdHost].filter((h): h is string => !!h);
  const protos = new Set([protocol, 'https', ...(fwdProto ? [fwdProto.toLowerCase()] : [])]);
  const out = new Set<string>();
  for (const host of hosts) {
    for (const proto of protos) {
      const origin = originOf(`${proto}://${host}`);
      if (origin) out.add(origin);
    }
  }
  return out;
}

/**
 * Why an unsafe request must be refused as cross-site, or undefined when it may proceed.
 * `Sec-Fetch-Site` decides when the browser sent it (pages cannot forge `Sec-` headers;
 * it also vouches for the page's own requests, whose Origin is serialised as "null" under
 * `Referrer-Policy: no-referrer`). Otherwise `Origin`, and lacking it the `Referer`, must
 * be one of {@link ownOrigins}; `Origin: null` (sandboxed or opaque pages) is cross-site.
 * A request with none of these comes from a non-browser client (curl, scripts) and passes.
 */
export function crossOriginReason(headers: RequestHeaders, protocol: string): string | undefined {
  const site = first(headers['sec-fetch-site'])?.toLowerCase();
  if (site === 'same-origin') return undefined;
  if (site === 'cross-site' || site === 'same-site') {
    return `the request comes from another site (Sec-Fetch-Site: ${site})`;
  }
  const origin = first(headers.origin);
  const referer = first(headers.referer);
  const claimed = origin ?? (referer !== undefined ? (originOf(referer) ?? 'null') : undefined);
  if (claimed === undefined) return undefined;
  const own = ownOrigins(headers, protocol);
  if (claimed !== 'null' && own.has(originOf(claimed) ?? '')) return undefined;
  const via = origin !== undefined ? 'Origin' : 'Referer';
  const mine = [...own][0] ?? 'this server';
  return `${via} ${claimed} is not this server's own origin (${mine})`;
}

/**
 * Register the cross-site check (every POST, PUT, PATCH, DELETE: 403 `E_CROSS_ORIGIN`) and
 * the response headers on `app`. Call before the routes and the auth hook, so a foreign
 * page learns nothing else about the server.
 */
export function registerSecurity(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (SAFE_METHODS.has(request.method)) return;
    const reason = crossOriginReason(request.headers, request.protocol);
    if (reason !== undefined) {
      throw new DentsegError('E_CROSS_ORIGIN', `refused ${request.method}: ${reason}`, {
        hint: 'use the dentseg page served by this server, or a client that sends no Origin (curl, scripts)',
      });
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.headers(SECURITY_HEADERS);
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) {
      void reply.header('Retry-After', String(RETRY_AFTER_S));
    }
    return payload;
  });
}
