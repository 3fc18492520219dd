#!/usr/bin/env node
// `npm run docs:architecture`: draws the stage diagram of docs/architecture.md from the real
// imports (dependency-cruiser's API, as scripts/check-deps.mjs uses it), so the picture
// cannot drift from the code. `--check` writes nothing and fails when the diagram in the
// doc differs from the imports (the test suite runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const doc = path.join(repo, 'docs/architecture.md');
const START = '<!-- stage-graph:start (npm run docs:architecture) -->';
const END = '<!-- stage-graph:end -->';
/** Top-level files every stage may use; drawn as one node would only add noise. */
const SHARED = new Set(['src/errors.ts', 'src/rng.ts', 'src/version.ts']);

const config = createRequire(import.meta.url)(path.join(repo, '.dependency-cruiser.cjs'));
process.chdir(repo);
const { tsConfig, collapse, ...options } = config.options;
const stagePattern = new RegExp(collapse);
const result = await cruise(
  ['src'],
  { ...options, outputType: 'json' },
  {},
  { tsConfig: extractTSConfig(tsConfig.fileName) },
);
const { modules } = JSON.parse(result.output);

const stageOf = (file) => stagePattern.exec(file)?.[0] ?? file;
const label = (node) => (node === 'src/index.ts' ? 'package' : node.replace(/^src\//, ''));
/** "from to" → how many file imports make that arrow. */
const edges = new Map();
const nodes = new Set();
for (const mod of modules) {
  const from = stageOf(mod.source);
  if (!from.startsWith('src/') || SHARED.has(from)) continue;
  nodes.add(from);
  for (const dep of mod.dependencies) {
    const to = stageOf(dep.resolved);
    if (to === from || !to.startsWith('src/') || SHARED.has(to)) continue;
    nodes.add(to);
    const key = `${from} ${to}`;
    edges.set(key, (edges.get(key) ?? 0) + 1);
  }
}

const lines = ['```mermaid', 'flowchart LR'];
for (const n of [...nodes].map(label).sort()) lines.push(`  ${n}`);
const arrows = [...edges].map(([key, count]) => {
  const [from, to] = key.split(' ').map(label);
  return `  ${from} -->|${count}| ${to}`;
});
lines.push(...arrows.sort());
lines.push('```');
const graph = lines.join('\n');

const text = readFileSync(doc, 'utf8');
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) {
  console.error(`docs:architecture: ${doc} has no ${START} … ${END} block`);
  process.exit(1);
}
const updated = `${text.slice(0, a + START.length)}\n${graph}\n${text.slice(b)}`;
if (process.argv.includes('--check')) {
  if (updated !== text) {
    console.error(
      'docs:architecture: the stage diagram in docs/architecture.md differs from the imports; ' +
        'run `npm run docs:architecture`',
    );
    process.exit(1);
  }
  console.log(`docs:architecture: diagram up to date (${nodes.size} stages, ${edges.size} arrows)`);
} else {
  writeFileSync(doc, updated);
  console.log(`docs:architecture: wrote ${nodes.size} stages and ${edges.size} arrows to ${doc}`);
}
