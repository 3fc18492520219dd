/**
 * The page's client for dentseg's HTTP API: JSON calls, images as blobs (so a Bearer token
 * works everywhere), uploads with progress, and the server's error message on failure.
 */

// The API's JSON types, derived from the server's route schemas (types only: no Node).
import type { Finding as PipelineFinding } from '../../imaging/findings.js';
import type {
  AnalysisJson,
  AnalysisLinks,
  AnalysisSummaryJson,
  AuditEntry,
  FindingReview,
  JobStatusJson,
  ModelCardJson,
  ReviewedJson,
  ReviewState,
  ToothJson,
} from '../../serve/wire.js';

export type { AuditEntry, ReviewState };

/**
 * A finding as the page shows it: the pipeline's fields, and the API's id and review fields
 * when it comes from the server (absent on a result computed in the browser).
 */
export type Finding = Readonly<PipelineFinding> & Partial<FindingReview>;

/** A numbered tooth of a numbering model's analysis. */
export type Tooth = ToothJson;

/** Who marked an analysis reviewed, when, and their note. */
export type Reviewed = ReviewedJson;

export type Links = AnalysisLinks;

/** GET /api/v1/analyses/:id */
export type Analysis = AnalysisJson;

/** An item of GET /api/v1/analyses */
export type AnalysisSummary = AnalysisSummaryJson;

/** GET /api/v1/model */
export type ModelCard = ModelCardJson;

/** A failed call: HTTP status plus the server's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'dentseg.token';

/** The API token kept for this browser tab (empty when none). */
export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function parseError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.message === 'string') {
      return new ApiError(status, String(body.error.code ?? 'E_UNKNOWN'), body.error.message);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(status, 'E_HTTP', `the server answered ${status}`);
}

async function call(url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, { ...init, headers: { ...authHeaders(), ...(init.headers ?? {}) } });
  if (!res.ok) throw parseError(res.status, await res.text());
  return res;
}

/** GET a JSON resource. */
export async function getJson<T>(url: string): Promise<T> {
  return (await (await call(url)).json()) as T;
}

/** GET a binary resource (an image) as a Blob. */
export async function getBlob(url: string): Promise<Blob> {
  return (await call(url)).blob();
}

/** Send a JSON body (PATCH, POST) and read the JSON answer. */
export async function sendJson<T>(
  method: 'PATCH' | 'POST',
  url: string,
  body: unknown,
): Promise<T> {
  const res = await call(url, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/** PUT a file as the multipart field `file`; resolves with the JSON answer. */
export async function putFile<T>(url: string, file: Blob, name: string): Promise<T> {
  const form = new FormData();
  form.append('file', file, name);
  const res = await call(url, { method: 'PUT', body: form });
  return (await res.json()) as T;
}

/** DELETE a resource. */
export async function remove(url: string): Promise<void> {
  await call(url, { method: 'DELETE' });
}

/**
 * Upload an X-ray; `onProgress` gets the sent fraction (0–1), then `onSent` fires while the
 * server analyses it. Resolves with the analysis or rejects with the server's ApiError.
 */
export function uploadXray(
  file: File,
  onProgress: (fraction: number) => void,
  onSent: () => void,
  onStatus: (status: 'queued' | 'running') => void = () => undefined,
): Promise<Analysis> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/analyses');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onSent();
    xhr.onload = () => {
      if (xhr.status === 201) resolve(JSON.parse(xhr.responseText) as Analysis);
      else if (xhr.status === 202) {
        // A server with a shared queue: a worker analyses it; follow its status.
        const queued = JSON.parse(xhr.responseText) as QueuedAnalysis;
        const where = xhr.getResponseHeader('Location') ?? queued.links.self;
        onStatus('queued');
        followAnalysis(where, onStatus).then(resolve, reject);
      } else reject(parseError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'E_NETWORK', 'the server could not be reached'));
    xhr.ontimeout = () => reject(new ApiError(0, 'E_TIMEOUT', 'the upload timed out'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** What `POST /api/v1/analyses` answers (202) and `GET` reports while a worker has it. */
export type QueuedAnalysis = JobStatusJson;

/** Poll interval while an analysis waits on the queue, ms. */
const POLL_MS = 700;

/**
 * Poll a queued analysis until it is done (resolves with it) or failed (rejects with its
 * error); `onStatus` hears `queued` / `running` as they change.
 */
export async function followAnalysis(
  url: string,
  onStatus: (status: 'queued' | 'running') => void,
): Promise<Analysis> {
  for (;;) {
    const body = await getJson<Analysis | QueuedAnalysis>(url);
    const status = (body as { status?: string }).status;
    if (status === 'failed') {
      const e = (body as QueuedAnalysis).error;
      throw new ApiError(200, e?.code ?? 'E_INTERNAL', e?.message ?? 'the analysis failed');
    }
    if (status === 'queued' || status === 'running') onStatus(status);
    else return body as Analysis;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
