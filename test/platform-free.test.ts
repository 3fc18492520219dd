// The platform-free entries — each pure stage's index.ts, the inference pipeline and the
// page's private-mode core — must load nothing of Node: no built-in, no sharp/dcmjs/ORT for
// Node, no *.node.ts file, however many re-exports away. Followed on the real import graph
// (dependency-cruiser), static imports only: a lazy import() loads on use, and type-only
// imports load nothing.
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/paths.js';

interface Dep {
  readonly resolved: string;
  readonly module: string;
  readonly dynamic: boolean;
  readonly dependencyTypes: readonly string[];
}
interface Mod {
  readonly source: string;
  readonly dependencies: readonly Dep[];
}

const ENTRIES = [
  'src/augment/index.ts',
  'src/data/index.ts',
  'src/imaging/index.ts',
  'src/model/index.ts',
  'src/numbering/index.ts',
  'src/infer/pipeline.ts',
  'src/infer/model-set.ts',
  'src/web/app/local-analysis.ts',
];
const NODE_ONLY = ['sharp', 'dcmjs', 'onnxruntime-node', '@tensorflow/tfjs-node'];

let graph: Map<string, readonly Dep[]>;

beforeAll(async () => {
  const cwd = process.cwd();
  process.chdir(REPO_ROOT);
  try {
    const config = createRequire(import.meta.url)(path.join(REPO_ROOT, '.dependency-cruiser.cjs'));
    const { tsConfig, collapse: _collapse, includeOnly: _only, ...options } = config.options;
    const result = await cruise(
      ['src'],
      { ...options, doNotFollow: { path: 'node_modules' }, outputType: 'json' },
      {},
      { tsConfig: extractTSConfig(tsConfig.fileName) },
    );
    const { modules } = JSON.parse(String(result.output)) as { modules: Mod[] };
    graph = new Map(modules.map((m) => [m.source, m.dependencies]));
  } finally {
    process.chdir(cwd);
  }
}, 120_000);

/** What loading `entry` loads, as `importer → import` lines for every Node-only module. */
function nodeImports(entry: string): string[] {
  const seen = new Set([entry]);
  const todo = [entry];
  const bad: string[] = [];
  while (todo.length > 0) {
    const file = todo.pop()!;
    for (const d of graph.get(file) ?? []) {
      if (d.dynamic || d.dependencyTypes.includes('type-only')) continue;
      const isNode =
        d.dependencyTypes.includes('core') ||
        d.module.startsWith('node:') ||
        NODE_ONLY.some((n) => d.module === n || d.module.startsWith(`${n}/`)) ||
        /\.node\.ts$/.test(d.resolved);
      if (isNode) bad.push(`${file} → ${d.module}`);
      else if (d.resolved.startsWith('src/') && !seen.has(d.resolved)) {
        seen.add(d.resolved);
        todo.push(d.resolved);
      }
    }
  }
  return bad;
}

describe('platform-free entries', () => {
  it.each(ENTRIES)('%s loads nothing of Node', (entry) => {
    expect(graph.has(entry)).toBe(true);
    expect(nodeImports(entry)).toEqual([]);
  });
});
