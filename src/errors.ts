/**
 * One error type for everything dentseg refuses to do, so that the CLI, the server and
 * library users can react to a stable `code` instead of parsing messages. Every code is
 * documented in docs/errors.md (a test keeps the two in step).
 */

/** Stable error codes. Add freely; never rename (scripts and clients match on them). */
export const ERROR_CODES = [
  'E_USAGE',
  'E_FILE_NOT_FOUND',
  'E_IMAGE_DECODE',
  'E_IMAGE_FORMAT',
  'E_MASK_MISMATCH',
  'E_MASK_VALUES',
  'E_COCO_INVALID',
  'E_CONFIG_INVALID',
  'E_BACKEND_UNAVAILABLE',
  'E_KERNEL_MISSING',
  'E_ENGINE_OOM',
  'E_ENGINE_FAILED',
  'E_MODEL_INVALID',
  'E_CHECKPOINT_INVALID',
  'E_DICOM_UNSUPPORTED',
  'E_TOO_LARGE',
  'E_EXPORT_UNSUPPORTED',
  'E_HDF5_INVALID',
  'E_UNAUTHORIZED',
  'E_NOT_FOUND',
  'E_QUEUE_FULL',
  'E_STORE_UNAVAILABLE',
  'E_QUEUE_UNAVAILABLE',
  'E_TIMEOUT',
  'E_INTERNAL',
  'E_CROSS_ORIGIN',
  'E_METHOD_NOT_ALLOWED',
  'E_MULTIPLE_FILES',
  'E_IO',
  'E_REVIEW_INVALID',
  'E_DATA_DIR_INVALID',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DentsegErrorOptions {
  /** The file or parameter at fault, as the user gave it. */
  readonly file?: string;
  /** What the user can do about it. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class DentsegError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: DentsegErrorOptions = {}) {
    super(options.file !== undefined ? `${options.file}: ${message}` : message, {
      cause: options.cause,
    });
    this.name = 'DentsegError';
    this.code = code;
    this.file = options.file;
    this.hint = options.hint;
  }
}

/** Type guard that also works across module copies (checks the shape, not the class). */
export function isDentsegError(value: unknown): value is DentsegError {
  return (
    value instanceof DentsegError ||
    (value instanceof Error &&
      value.name === 'DentsegError' &&
      typeof (value as { code?: unknown }).code === 'string')
  );
}
