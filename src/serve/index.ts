/**
 * dentseg serve's public API: build the app (for tests and embedding) or start it.
 */
export { buildApp, DEFAULT_WEB_DIR } from './app.js';
export type { AppOptions } from './app.js';
export {
  parseTokensFile,
  readTokensFile,
  userWithToken,
  redactUrl,
  TOKEN_USER_NAME,
} from './auth.js';
export type { ApiUser, UserToken } from './auth.js';
export { AnalysisStore } from './store.js';
export type { CleanupReport } from './store.js';
export { InferenceQueue } from './queue.js';
export type { QueueOptions } from './queue.js';
export { sniffFormat, assertPixelLimit } from './sniff.js';
export type { UploadFormat } from './sniff.js';
export { toHttpFailure, statusForCode } from './http-errors.js';
export type { ErrorBody } from './http-errors.js';
export { licenceFromCard } from './model-card.js';
export type { ModelCardJson } from './model-card.js';
export { API_PREFIX, ANALYSIS_FILES, REVIEW_STATES, linksFor } from './types.js';
export type {
  AnalysisRecord,
  AnalysisLinks,
  AuditAction,
  AuditEntry,
  FindingJson,
  ReviewedJson,
  ReviewState,
  ToothJson,
} from './types.js';
export { exportDataset, FDI_EXPORT_CLASSES } from './export-dataset.js';
export type { ExportOptions, ExportReport } from './export-dataset.js';
