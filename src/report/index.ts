/**
 * The report stage: a one-page PDF and the DICOM exports (Secondary Capture, SEG) of an
 * analysis, built from plain data and image bytes. Platform-free (pdf-lib, dcmjs): the
 * server and `dentseg predict --report` supply the bytes.
 */
export {
  buildReportPdf,
  formatTime,
  PAPER_SIZES,
  tableLayout,
  type ReportPdfOptions,
} from './pdf.js';
export { buildSecondaryCapture, SECONDARY_CAPTURE_UID, type SecondaryCaptureInput } from './sc.js';
export {
  buildSegmentation,
  packFrames,
  SEGMENTATION_UID,
  type SegmentationInput,
  type SegSegment,
} from './seg.js';
export { uidFromUuid, type ExportCommon, type KeptDicomTags } from './dicom.js';
export {
  RESEARCH_NOTICE,
  type Paper,
  type ReportData,
  type ReportFinding,
  type ReportModel,
  type ReportReviewState,
  type ReportTooth,
} from './types.js';
