// Import-graph check run by `npm run deps` (scripts/check-deps.mjs, part of `npm test`).
//
// The rule we want is about stages, not files: no top-level folder of src/ may import a
// folder that imports it back, directly or through others. dependency-cruiser's
// `circular` (and `reaches`/`via`) rules are evaluated on the file graph, before
// `collapse` folds it, so `augment/apply.ts → data/filters.ts` plus
// `data/index.ts → augment/index.ts` — a stage cycle with no file cycle in it — would pass
// them. So scripts/check-deps.mjs cruises the file graph once, folds every module into its
// stage folder (the `collapse` pattern below) and looks for
// cycles (strongly connected components) in the folded graph, naming each folder edge of a
// cycle with the file imports behind it. File-level `no-circular` runs as a rule as well:
// it is the finer check and costs nothing.
/* global module -- CommonJS: dependency-cruiser loads its config with require(). */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module imports one that (indirectly) imports it back.',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // One node per stage folder; top-level files (src/index.ts, src/errors.ts) stay apart.
    // scripts/check-deps.mjs folds with this pattern itself (see above); `depcruise` with
    // this config draws the same folder graph.
    collapse: '^src/[^/]+',
  },
};
