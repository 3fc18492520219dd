/**
 * The page's client for dentseg's HTTP API: JSON calls, images as blobs (so a Bearer token
 * works everywhere), uploads with progress, and the server's error message on failure.
 */

import type { InputQuality } from '../../imaging/quality-words.js';

/**
 * Where the dentist's review of a finding or tooth stands: `suggested` (the model's, not
 * yet looked at), `accepted`, `rejected`, `edited` (type or tooth changed) or `added`
 * (drawn by the dentist).
 */
export type ReviewState = 'suggested' | 'accepted' | 'rejected' | 'edited' | 'added';

/** A finding as the API returns it (review fields absent on a browser-computed result). */
export interface Finding {
  class: string;
  classIndex: number;
  areaPx: number;
  areaPct: number;
  bbox: [number, number, number, number];
  centroid: [number, number];
  polygon: [number, number][];
  /** Stable id: `f1`, `f2`, … in the model's order; drawn ones `a1`, `a2`, …. */
  id?: string;
  review?: ReviewState;
  /** What it is (defaults to the class name). */
  type?: string;
  /** FDI number of the tooth under its centroid, or null. */
  tooth?: number | null;
  note?: string;
  /** The model's values once edited. */
  original?: { type: string; tooth: number | null };
}

/** A numbered tooth of a numbering model's analysis. */
export interface Tooth {
  fdi: number;
  name: string;
  areaPx: number;
  bbox: [number, number, number, number];
  centroid: [number, number];
  polygon: [number, number][];
  score: number;
  review?: ReviewState;
  /** The model's number once renumbered. */
  original?: { fdi: number };
}

/** Who marked an analysis reviewed, when, and their note. */
export interface Reviewed {
  by: string | null;
  at: string;
  note: string;
}

/** One entry of GET /api/v1/analyses/:id/audit. */
export interface AuditEntry {
  at: string;
  user: string | null;
  action: string;
  before: unknown;
  after: unknown;
}

export interface Links {
  self: string;
  original: string;
  mask: string;
  overlay: string;
  probability: string;
  chart?: string;
  /** Once the dentist stored a corrected mask. */
  maskCorrected?: string;
  audit?: string;
}

/** GET /api/v1/analyses/:id */
export interface Analysis {
  id: string;
  created: string;
  filename: string;
  image: { width: number; height: number; format: string };
  model: { name: string; version: string; engine: string; task: 'binary' | 'multiclass' };
  classes: string[];
  threshold: number;
  findings: Finding[];
  /** Numbered teeth (empty unless the model numbers teeth). */
  teeth?: Tooth[];
  /** FDI numbers not found (empty unless the model numbers teeth). */
  missing?: number[];
  /** The input check (absent on analyses stored before it existed). */
  quality?: InputQuality & { withheld?: boolean };
  elapsedMs: number;
  timings: Record<string, number>;
  links: Links;
  /** Null until the whole analysis is marked reviewed. */
  reviewed?: Reviewed | null;
  /** Models whose mask the dentist corrected. */
  corrections?: { masks: string[] };
}

/** An item of GET /api/v1/analyses */
export interface AnalysisSummary {
  id: string;
  created: string;
  filename: string;
  image: { width: number; height: number };
  findingsCount: number;
  areaPct: number;
  links: Links;
  reviewed?: Reviewed | null;
}

export interface ModelCard {
  name: string;
  version: string;
  task: string;
  classes: string[];
  engine: string;
  licence: string;
}

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
export interface QueuedAnalysis {
  id: string;
  status: 'queued' | 'running' | 'failed';
  error?: { code: string; message: string } | null;
  links: { self: string };
}

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
