/**
 * Checks of what the report stage writes, with the tools CI installs: poppler's pdftotext
 * and dicom3tools' dciodvfy (tests skip those checks where a tool is missing), and dcmjs to
 * read a DICOM file back.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll } from 'vitest';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dentseg-report-'));
// Removed after the test file unless DENTSEG_KEEP_REPORTS is set (to look at the PDFs).
afterAll(() => {
  if (!process.env.DENTSEG_KEEP_REPORTS) rmSync(dir, { recursive: true, force: true });
});

/** Where the helpers write the files they check. */
export const REPORT_DIR = dir;

function have(tool: string): boolean {
  return spawnSync('which', [tool], { stdio: 'ignore' }).status === 0;
}
export const HAS_POPPLER = have('pdftotext') && have('pdftoppm');
export const HAS_DCIODVFY = have('dciodvfy');

/** pdftotext of a PDF (layout kept), via a file `name` in {@link REPORT_DIR}. */
export function pdfText(pdf: Uint8Array, name = 'r.pdf'): string {
  const file = path.join(dir, name);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

/** dciodvfy's findings on a DICOM file (it writes them to stderr): errors and warnings. */
export function dciodvfy(
  bytes: Uint8Array,
  name: string,
): { errors: string[]; warnings: string[] } {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const lines = `${run.stdout}${run.stderr}`.split('\n');
  return {
    errors: lines.filter((l) => l.startsWith('Error')),
    warnings: lines.filter((l) => l.startsWith('Warning')),
  };
}

/** Read a Part-10 file back with dcmjs as a naturalised data set (file meta as `_meta`). */
export function readDicom(bytes: Uint8Array): Record<string, unknown> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const parsed = dcmjs.data.DicomMessage.readFile(ab as ArrayBuffer);
  return {
    ...dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict),
    _meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.meta),
  };
}
