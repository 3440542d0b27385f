import { defineConfig } from 'tsup'

export default defineConfig([
  // Library, dual build: ESM (.js) for `import`, CommonJS (.cjs) for `require`, each with its own declarations.
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    // Both configs build at the same time: leave the CLI's files alone.
    clean: ['**/*', '!cli.js', '!cli.js.map', '!seal-worker.cjs', '!seal-worker.cjs.map'],
    sourcemap: true,
    target: 'node20',
  },
  // The sealing thread's script (writer/thread.ts starts it from next to index.js / index.cjs):
  // CommonJS, so that one file serves both builds.
  {
    entry: { 'seal-worker': 'src/writer/seal-worker.ts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
  },
  // The `boundary-audit` bin (package.json "bin": "./dist/cli.js"): ESM only, with a shebang.
  {
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
])
