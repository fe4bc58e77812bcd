// The esbuild options every Lambda handler bundle is built with (scripts/bundle.mjs), shared with
// the benchmarks so that their SDK-only baselines are built exactly alike.
export const handlerBuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // identifiers and syntax minified; whitespace kept so that stack traces stay readable
  minifyIdentifiers: true,
  minifySyntax: true,
  // the SDK's ES module builds tree-shake far better than its single-file CommonJS builds
  mainFields: ['module', 'main'],
  // import() of Node built-ins becomes require(): the same in Lambda, and loadable by test runners
  supported: { 'dynamic-import': false },
  legalComments: 'linked',
  logLevel: 'warning',
};
