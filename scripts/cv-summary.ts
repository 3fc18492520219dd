/**
 * Summarise a cross-validation: the `dentseg evaluate --json` reports of each fold's
 * validation part (in fold order) → per-fold numbers and mean ± sd as a Markdown table
 * (and JSON with --json FILE). Usage:
 *   npx tsx scripts/cv-summary.ts runs/caries-f1/eval-val.json … runs/caries-f5/eval-val.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { foldsTable, summariseFolds, type FoldReport } from '../src/evaluate/cross-validation.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'string' } },
});
if (positionals.length < 2) {
  console.error('usage: cv-summary.ts [--json OUT] FOLD1.json FOLD2.json …');
  process.exit(64);
}
const reports = positionals.map((f) => JSON.parse(readFileSync(f, 'utf8')) as FoldReport);
const summary = summariseFolds(reports);
process.stdout.write(foldsTable(summary));
if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2) + '\n');
