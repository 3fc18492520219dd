#!/usr/bin/env node
// `npm run deps`: fails when a top-level folder of src/ imports one that imports it back,
// directly or through other folders (see .dependency-cruiser.cjs for why the cycle search
// runs here on the folded graph rather than as a dependency-cruiser rule). Uses the library
// API because the `depcruise` binary refuses to start on Node 20, which dentseg supports.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = createRequire(import.meta.url)(path.join(repo, '.dependency-cruiser.cjs'));
// DENTSEG_DEPS_ROOT: check another tree (with its own src/ and tsconfig.json) against the
// same rules; the check's own test uses it.
process.chdir(process.env.DENTSEG_DEPS_ROOT ?? repo);
// The file graph is cruised whole and folded below, so that each folder edge can name the
// imports behind it.
const { tsConfig, collapse, ...options } = config.options;
const stagePattern = new RegExp(collapse);

const result = await cruise(
  ['src'],
  { ...options, validate: true, ruleSet: { forbidden: config.forbidden }, outputType: 'json' },
  {},
  { tsConfig: extractTSConfig(tsConfig.fileName) },
);
const { modules, summary } = JSON.parse(result.output);

const stageOf = (file) => stagePattern.exec(file)?.[0] ?? file;
/** Folder → folder → the file imports behind that edge. */
const edges = new Map();
for (const mod of modules) {
  const from = stageOf(mod.source);
  if (!edges.has(from)) edges.set(from, new Map());
  for (const dep of mod.dependencies) {
    const to = stageOf(dep.resolved);
    if (to === from || !to.startsWith('src/')) continue;
    if (!edges.has(to)) edges.set(to, new Map());
    const imports = edges.get(from).get(to) ?? new Set();
    imports.add(`${mod.source} → ${dep.resolved}`);
    edges.get(from).set(to, imports);
  }
}

// Tarjan's strongly connected components: each one of more than one folder is a set of
// folders that all reach each other.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
function visit(v) {
  index.set(v, counter);
  low.set(v, counter);
  counter += 1;
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v).keys()) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) {
      low.set(v, Math.min(low.get(v), index.get(w)));
    }
  }
  if (low.get(v) === index.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) components.push(component.sort());
  }
}
for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);

const fileCycles = summary.violations.filter((v) => v.rule.name === 'no-circular');
if (components.length === 0 && fileCycles.length === 0) {
  console.log(
    `deps: no import cycles (${edges.size} folders and files of src/, ${modules.length} modules).`,
  );
  process.exit(0);
}
for (const component of components) {
  console.error(`deps: import cycle between the folders ${component.join(', ')}:`);
  const members = new Set(component);
  for (const from of component) {
    for (const [to, imports] of [...edges.get(from)].sort()) {
      if (!members.has(to)) continue;
      console.error(`  ${from} → ${to}`);
      for (const line of [...imports].sort()) console.error(`      ${line}`);
    }
  }
}
for (const v of fileCycles) console.error(`deps: file import cycle ${v.from} → ${v.to}`);
console.error(
  '\nA stage folder must not import one that imports it back. Move the shared code to the\n' +
    'folder it belongs to, or register it from the entry point (src/cli, src/index.ts).',
);
process.exit(1);
