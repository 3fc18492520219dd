/**
 * Reading the upload of POST /api/v1/analyses: exactly one file in a multipart field named
 * `file`, anything else refused with a code the client can act on (415 for a body that is
 * not multipart, 400 for a missing or second file), and the client's file name cleaned and
 * capped before it is stored or shown.
 */
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { DentsegError } from '../errors.js';

/** Longest stored file name, in UTF-8 bytes (what most file systems allow). */
export const MAX_FILENAME_BYTES = 255;

const ELLIPSIS = '…';
const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** The longest prefix of `text` within `bytes` UTF-8 bytes, cut between graphemes. */
function fitBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const n = utf8(segment);
    if (used + n > bytes) break;
    out += segment;
    used += n;
  }
  return out;
}

/**
 * `name` without folders or control characters, at most `maxBytes` UTF-8 bytes: a longer
 * name keeps its start and its extension with "…" between, cut on a character (grapheme)
 * boundary so that no multi-byte character or emoji is split.
 */
export function capFileName(name: string, maxBytes = MAX_FILENAME_BYTES): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const clean = path.basename(name.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '');
  if (utf8(clean) <= maxBytes) return clean;
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 && utf8(clean.slice(dot)) <= 16 ? clean.slice(dot) : '';
  const stem = ext ? clean.slice(0, dot) : clean;
  return fitBytes(stem, maxBytes - utf8(ELLIPSIS) - utf8(ext)) + ELLIPSIS + ext;
}

/**
 * Route hook: refuse a body that is not multipart/form-data before reading it (a raw
 * `image/png` body is the usual mistake) with 415 `E_IMAGE_FORMAT`.
 */
export async function requireMultipart(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'];
  if (type !== undefined && /^multipart\/form-data\s*;/i.test(type)) return;
  throw new DentsegError(
    'E_IMAGE_FORMAT',
    `send the X-ray as multipart/form-data with a field named "file"; received ${type ? `Content-Type ${type.split(';')[0]}` : 'no Content-Type'}`,
    { hint: 'e.g. curl -F file=@xray.png http://127.0.0.1:8080/api/v1/analyses' },
  );
}

/** The one uploaded file: its bytes and its capped name (may be empty). */
export interface Upload {
  readonly buf: Buffer;
  readonly filename: string;
}

/**
 * Read the multipart body: the file in field `file`, other text fields ignored; a second
 * file part is refused (400 `E_MULTIPLE_FILES`) rather than silently dropped.
 */
export async function readUpload(request: FastifyRequest): Promise<Upload> {
  let upload: Upload | undefined;
  const fields: string[] = [];
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      fields.push(part.fieldname);
      if (upload !== undefined || part.fieldname !== 'file') {
        part.file.resume(); // drain it so that the request can finish
        if (upload !== undefined) throw multipleFiles(fields);
        continue;
      }
      upload = { buf: await part.toBuffer(), filename: capFileName(part.filename || '') };
    }
  } catch (err) {
    // The parser's own file limit (one file) trips on the second file part.
    if ((err as { code?: unknown } | null)?.code === 'FST_FILES_LIMIT') {
      throw multipleFiles([...fields, '…']);
    }
    throw err;
  }
  if (fields.length > 1) throw multipleFiles(fields);
  if (!upload) throw new DentsegError('E_USAGE', 'the multipart field "file" is missing');
  return upload;
}

function multipleFiles(fields: readonly string[]): DentsegError {
  return new DentsegError(
    'E_MULTIPLE_FILES',
    `send one X-ray per request; the body holds more than one file (fields ${fields.map((f) => `"${f}"`).join(', ')})`,
    { hint: 'upload each X-ray with its own POST' },
  );
}
