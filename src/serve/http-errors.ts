/**
 * How dentseg errors become HTTP responses: one status per stable error code, and one
 * JSON body shape `{ "error": { "code", "message" } }` for every failure the API reports.
 */
import { DentsegError, isDentsegError, type ErrorCode } from '../errors.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly hint?: string };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 400,
  E_IMAGE_DECODE: 400,
  // Only a corrected mask (PUT …/masks/{model}) reaches the API with these: well-formed
  // PNG, wrong content.
  E_MASK_MISMATCH: 422,
  E_MASK_VALUES: 422,
  E_REVIEW_INVALID: 400,
  E_IMAGE_FORMAT: 415,
  E_DICOM_UNSUPPORTED: 415,
  E_TOO_LARGE: 413,
  E_UNAUTHORIZED: 401,
  E_CROSS_ORIGIN: 403,
  E_METHOD_NOT_ALLOWED: 405,
  E_MULTIPLE_FILES: 400,
  E_NOT_FOUND: 404,
  E_FILE_NOT_FOUND: 404,
  E_QUEUE_FULL: 503,
  E_STORE_UNAVAILABLE: 503,
  E_QUEUE_UNAVAILABLE: 503,
  E_TIMEOUT: 503,
};

/** HTTP status for a dentseg error code (500 for codes that mean a server-side fault). */
export function statusForCode(code: string): number {
  return STATUS[code as ErrorCode] ?? 500;
}

/** Fastify's own error codes that the API maps onto dentseg codes. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; status: number }> = {
  FST_REQ_FILE_TOO_LARGE: { code: 'E_TOO_LARGE', status: 413 },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'E_TOO_LARGE', status: 413 },
  FST_PARTS_LIMIT: { code: 'E_TOO_LARGE', status: 413 },
  FST_FILES_LIMIT: { code: 'E_MULTIPLE_FILES', status: 400 },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'E_USAGE', status: 400 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'E_USAGE', status: 415 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'E_USAGE', status: 400 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'E_USAGE', status: 400 },
  FST_ERR_VALIDATION: { code: 'E_USAGE', status: 400 },
  FST_ERR_NOT_FOUND: { code: 'E_NOT_FOUND', status: 404 },
  // @fastify/static refuses odd paths (doubled slashes) with 403; for the client there is
  // simply nothing there.
  FST_STATIC_FORBIDDEN_PATH: { code: 'E_NOT_FOUND', status: 404 },
};

/** An error turned into what the API sends; `log` is true for unexpected (500) failures. */
export interface HttpFailure {
  readonly status: number;
  readonly body: ErrorBody;
  readonly log: boolean;
}

/** Map anything thrown inside a request to a status and the documented JSON body. */
export function toHttpFailure(err: unknown): HttpFailure {
  if (isDentsegError(err)) {
    const status = statusForCode(err.code);
    const error =
      err.hint !== undefined
        ? { code: err.code, message: err.message, hint: err.hint }
        : { code: err.code, message: err.message };
    return { status, body: { error }, log: status >= 500 };
  }
  const fields = (err ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown };
  const message = typeof fields.message === 'string' ? fields.message : 'request failed';
  if (typeof fields.code === 'string' && fields.code in FASTIFY_CODES) {
    const mapped = FASTIFY_CODES[fields.code] as { code: ErrorCode; status: number };
    const text =
      mapped.code === 'E_TOO_LARGE' ? `upload too large: ${message}` : `bad request: ${message}`;
    return {
      status: mapped.status,
      body: { error: { code: mapped.code, message: text } },
      log: false,
    };
  }
  if (
    typeof fields.statusCode === 'number' &&
    fields.statusCode >= 400 &&
    fields.statusCode < 500
  ) {
    return {
      status: fields.statusCode,
      body: { error: { code: 'E_USAGE', message: `bad request: ${message}` } },
      log: false,
    };
  }
  return {
    status: 500,
    body: { error: { code: 'E_INTERNAL', message: 'internal server error (see the server log)' } },
    log: true,
  };
}

/** Shorthand for the errors the routes raise themselves. */
export function notFound(what: string): DentsegError {
  return new DentsegError('E_NOT_FOUND', `${what} not found`);
}
