/**
 * The one-page analysis report as PDF bytes, from plain data and PNG buffers (pdf-lib, no
 * Node or DOM): what a dentist keeps with the patient's file. The layout is computed
 * bottom-up so that a long findings table shrinks, then truncates with "+N more", and
 * never runs off the page.
 */
import {
  PDFDocument,
  StandardFonts,
  rgb,
  type PDFFont,
  type PDFImage,
  type PDFPage,
  type RGB,
} from 'pdf-lib';
import { RESEARCH_NOTICE, type Paper, type ReportData, type ReportReviewState } from './types.js';

/** Page sizes in PostScript points (1/72 inch). */
export const PAPER_SIZES: Readonly<Record<Paper, readonly [number, number]>> = {
  a4: [595.28, 841.89],
  letter: [612, 792],
};

/** Options of {@link buildReportPdf}. */
export interface ReportPdfOptions {
  /** Page size (default A4). */
  readonly paper?: Paper;
  /** Shown in the footer, e.g. `dentseg 1.4.0`. */
  readonly generator?: string;
}

const MARGIN = 36;
const INK = rgb(0.1, 0.1, 0.1);
const MUTED = rgb(0.4, 0.4, 0.4);
const RULE = rgb(0.75, 0.75, 0.75);
const STATE_COLOURS: Readonly<Record<ReportReviewState, RGB>> = {
  suggested: INK,
  accepted: rgb(0.05, 0.45, 0.15),
  rejected: rgb(0.7, 0.1, 0.1),
  edited: rgb(0.1, 0.25, 0.65),
  added: rgb(0.1, 0.25, 0.65),
};

/** Table font sizes tried in turn before rows are cut (pt); a row is 1.25× the size. */
const TABLE_SIZES = [8.5, 7.5, 6.5] as const;

interface Fonts {
  readonly regular: PDFFont;
  readonly bold: PDFFont;
}

/**
 * `text` with every character the standard fonts cannot encode (WinAnsi) replaced by `?`
 * and line breaks by spaces: file names and notes are user text.
 */
function encodable(font: PDFFont, text: string): string {
  const known = charsets.get(font) ?? new Set(font.getCharacterSet());
  charsets.set(font, known);
  let out = '';
  for (const ch of text.replace(/[\r\n\t]+/g, ' ')) {
    out += known.has(ch.codePointAt(0) ?? 0) ? ch : '?';
  }
  return out;
}
const charsets = new WeakMap<PDFFont, Set<number>>();

/** `text` cut with "…" to fit `width` points at `size`. */
function fit(font: PDFFont, text: string, size: number, width: number): string {
  let s = encodable(font, text);
  if (font.widthOfTextAtSize(s, size) <= width) return s;
  while (s.length > 1 && font.widthOfTextAtSize(`${s}…`, size) > width) s = s.slice(0, -1);
  return `${s}…`;
}

/** Greedy word wrap of `text` into lines of at most `width` points, at most `maxLines`. */
export function wrap(
  font: PDFFont,
  text: string,
  size: number,
  width: number,
  maxLines: number,
): string[] {
  const words = encodable(font, text).split(' ').filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(next, size) <= width || !line) line = next;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = fit(font, `${kept[maxLines - 1] ?? ''} …`, size, width);
    return kept.map((l) => fit(font, l, size, width));
  }
  return lines.map((l) => fit(font, l, size, width));
}

/** Draw `img` centred inside the box (x, y = bottom-left, w × h), keeping its aspect ratio. */
function drawContained(page: PDFPage, img: PDFImage, x: number, y: number, w: number, h: number) {
  const scale = Math.min(w / img.width, h / img.height);
  const dw = img.width * scale;
  const dh = img.height * scale;
  page.drawImage(img, { x: x + (w - dw) / 2, y: y + (h - dh), width: dw, height: dh });
  return dh;
}

/** Embed JPEG bytes as they are (no decoding), anything else as PNG. */
function embedImage(doc: PDFDocument, bytes: Uint8Array): Promise<PDFImage> {
  return bytes[0] === 0xff && bytes[1] === 0xd8 ? doc.embedJpg(bytes) : doc.embedPng(bytes);
}

/** "YYYY-MM-DD HH:MM UTC" of an ISO time (the text itself when it does not parse). */
export function formatTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Ranges of consecutive numbers as "11–13, 18" (FDI lists). */
function ranges(numbers: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === (numbers[j] as number) + 1) j++;
    out.push(j > i ? `${numbers[i]}–${numbers[j]}` : String(numbers[i]));
    i = j + 1;
  }
  return out.join(', ');
}

/** The lines under the table: teeth, note, models, reviewer. */
function summaryLines(data: ReportData): { label: string; text: string; maxLines: number }[] {
  const lines: { label: string; text: string; maxLines: number }[] = [];
  if (data.missing !== null) {
    const renumbered = data.teeth.filter((t) => t.review === 'edited').length;
    lines.push({
      label: 'Teeth',
      text:
        `${data.teeth.length} found; missing: ${data.missing.length ? ranges(data.missing) : 'none'}` +
        (renumbered ? `; ${renumbered} renumbered by the reviewer` : ''),
      maxLines: 2,
    });
  }
  lines.push({ label: 'Note', text: data.note.trim() || '(none)', maxLines: 6 });
  lines.push({
    label: 'Models',
    text: data.models.map((m) => `${m.name} ${m.version}`).join('; ') || '(unknown)',
    maxLines: 2,
  });
  lines.push({
    label: 'Reviewed',
    text: data.reviewed
      ? `by ${data.reviewed.by ?? '(no user)'} at ${formatTime(data.reviewed.at)}`
      : 'not reviewed',
    maxLines: 1,
  });
  return lines;
}

interface Column {
  readonly title: string;
  readonly width: number;
  readonly right?: boolean;
}

/** Findings table columns (widths as fractions of the content width). */
const COLUMNS: readonly Column[] = [
  { title: 'ID', width: 0.1 },
  { title: 'Type', width: 0.3 },
  { title: 'Tooth', width: 0.12 },
  { title: 'Area (px)', width: 0.16, right: true },
  { title: 'Area %', width: 0.12, right: true },
  { title: 'Review', width: 0.2 },
];

/** How many table rows fit and at what size: shrink first, then cut with "+N more". */
export function tableLayout(
  rows: number,
  height: number,
): { size: number; shown: number; more: number } {
  for (const size of TABLE_SIZES) {
    // One row for the header.
    const fits = Math.floor(height / (size * 1.25)) - 1;
    if (rows <= fits) return { size, shown: rows, more: 0 };
  }
  const size = TABLE_SIZES[TABLE_SIZES.length - 1] as number;
  // Header and the "+N more" line.
  const shown = Math.max(0, Math.floor(height / (size * 1.25)) - 2);
  return { size, shown, more: rows - shown };
}

/** Build the report: one page, A4 unless `options.paper` is `letter`. */
export async function buildReportPdf(
  data: ReportData,
  options: ReportPdfOptions = {},
): Promise<Uint8Array> {
  const [pageW, pageH] = PAPER_SIZES[options.paper ?? 'a4'];
  const doc = await PDFDocument.create();
  const created = new Date(data.created);
  doc.setTitle(`dentseg report: ${data.filename || data.id || 'analysis'}`);
  doc.setSubject(RESEARCH_NOTICE);
  doc.setCreator(options.generator ?? 'dentseg');
  doc.setProducer('dentseg (pdf-lib)');
  if (!Number.isNaN(created.getTime())) {
    // The analysis' time, so that the same analysis gives the same document.
    doc.setCreationDate(created);
    doc.setModificationDate(created);
  }
  const fonts: Fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
  };
  const page = doc.addPage([pageW, pageH]);
  const contentW = pageW - 2 * MARGIN;
  const text = (s: string, x: number, y: number, size: number, font = fonts.regular, color = INK) =>
    page.drawText(s, { x, y, size, font, color });

  // Header.
  let y = pageH - MARGIN - 16;
  text('dentseg analysis report', MARGIN, y, 16, fonts.bold);
  const when = formatTime(data.created);
  text(when, pageW - MARGIN - fonts.regular.widthOfTextAtSize(when, 9), y + 4, 9);
  y -= 14;
  const fileLine = `File: ${data.filename || '(no name)'}   Image: ${data.image.width} × ${data.image.height} px${data.id ? `   Analysis: ${data.id}` : ''}`;
  text(fit(fonts.regular, fileLine, 8.5, contentW), MARGIN, y, 8.5, fonts.regular, MUTED);
  y -= 8;

  // Footer (bottom-up from here): the notice, then the summary block.
  const notice = `${RESEARCH_NOTICE}${options.generator ? `   Generated by ${options.generator}.` : ''}`;
  text(fit(fonts.bold, notice, 8, contentW), MARGIN, MARGIN, 8, fonts.bold);
  page.drawLine({
    start: { x: MARGIN, y: MARGIN + 12 },
    end: { x: pageW - MARGIN, y: MARGIN + 12 },
    thickness: 0.5,
    color: RULE,
  });
  const labelW = 58;
  const summary = summaryLines(data).map((l) => ({
    ...l,
    wrapped: wrap(fonts.regular, l.text, 9, contentW - labelW, l.maxLines),
  }));
  let by = MARGIN + 20;
  for (const line of [...summary].reverse()) {
    for (let i = line.wrapped.length - 1; i >= 0; i--) {
      text(line.wrapped[i] ?? '', MARGIN + labelW, by, 9);
      if (i === 0) text(`${line.label}:`, MARGIN, by, 9, fonts.bold);
      by += 11.5;
    }
  }
  const summaryTop = by + 4;

  // Images: the overlay, and the chart beneath it when there is one.
  const overlay = await embedImage(doc, data.overlay);
  const chart = data.chart ? await embedImage(doc, data.chart) : undefined;
  // Many findings: smaller pictures, so that more rows fit before the table is cut.
  const imageSpace = (y - summaryTop) * (data.findings.length > 12 ? 0.75 : 1);
  const overlayH = chart ? Math.min(230, imageSpace * 0.38) : Math.min(320, imageSpace * 0.55);
  y -= 6;
  y -= drawContained(page, overlay, MARGIN, y - overlayH, contentW, overlayH);
  if (chart) {
    const chartH = Math.min(170, imageSpace * 0.28);
    y -= 6;
    y -= drawContained(page, chart, MARGIN, y - chartH, contentW, chartH);
  }
  y -= 16;

  // Findings table in what is left.
  const shownFindings = data.findings;
  text(`Findings (${shownFindings.length})`, MARGIN, y, 11, fonts.bold);
  y -= 6;
  const layout = tableLayout(shownFindings.length, y - summaryTop - 8);
  const rowH = layout.size * 1.25;
  const xs: number[] = [];
  let cx = MARGIN;
  for (const c of COLUMNS) {
    xs.push(cx);
    cx += c.width * contentW;
  }
  const cell = (col: number, s: string, yy: number, font: PDFFont, color: RGB) => {
    const c = COLUMNS[col] as Column;
    const w = c.width * contentW - 4;
    const t = fit(font, s, layout.size, w);
    const x = c.right
      ? (xs[col] as number) + w - font.widthOfTextAtSize(t, layout.size)
      : (xs[col] as number);
    text(t, x, yy, layout.size, font, color);
  };
  y -= rowH;
  COLUMNS.forEach((c, i) => cell(i, c.title, y, fonts.bold, INK));
  page.drawLine({
    start: { x: MARGIN, y: y - 2.5 },
    end: { x: pageW - MARGIN, y: y - 2.5 },
    thickness: 0.5,
    color: RULE,
  });
  y -= 2;
  if (shownFindings.length === 0) {
    y -= rowH;
    text('No findings.', MARGIN, y, layout.size, fonts.regular, MUTED);
  }
  for (const f of shownFindings.slice(0, layout.shown)) {
    y -= rowH;
    const colour = STATE_COLOURS[f.review];
    cell(0, f.id, y, fonts.regular, INK);
    cell(1, f.type, y, fonts.regular, INK);
    cell(2, f.tooth === null ? '–' : String(f.tooth), y, fonts.regular, INK);
    cell(3, String(Math.round(f.areaPx)), y, fonts.regular, INK);
    cell(4, f.areaPct.toFixed(2), y, fonts.regular, INK);
    cell(5, f.review, y, fonts.bold, colour);
  }
  if (layout.more > 0) {
    y -= rowH;
    text(`+${layout.more} more`, MARGIN, y, layout.size, fonts.bold, MUTED);
  }
  return doc.save();
}
