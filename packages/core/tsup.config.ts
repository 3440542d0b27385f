import { defineConfig } from 'tsup'

// What the tarball ships (package.json "files"): dist without sourcemaps, and src without tests.
// No sourcemaps: the build is not minified, so dist reads like the source and stack traces are
// legible as they are; the maps repeated every source file (sourcesContent) and were 55% of the
// unpacked size. src ships because the `source` export condition (used by this repo's tests and
// type checks, and by monorepo tools that honour it) points at it.

export default defineConfig([
  // Library, dual build: ESM (.js) for `import`, CommonJS (.cjs) for `require`, each with its own declarations.
  {
    // index: what applications use; adapter: what @boundary-audit/express, /nestjs and /pg build on.
    entry: { index: 'src/index.ts', adapter: 'src/adapter.ts' },
    format: ['esm', 'cjs'],
    // The ESM build shares the code of both entries in a chunk; the CommonJS build (where esbuild
    // cannot split) gives each entry its own copy. What must be one per process whichever copy runs
    // (the async context, the request registry) is kept on globalThis under Symbol.for keys, as it
    // already had to be for an app that loads the ESM and the CommonJS build together.
    dts: true,
    // Both configs build at the same time: leave the CLI's files alone.
    clean: ['**/*', '!cli.js', '!seal-worker.cjs', '!verify-worker.cjs'],
    sourcemap: false,
    target: 'node20',
  },
  // The sealing thread's script (writer/thread.ts starts it from next to index.js / index.cjs):
  // CommonJS, so that one file serves both builds.
  {
    entry: { 'seal-worker': 'src/writer/seal-worker.ts', 'verify-worker': 'src/verify/parallel/worker.ts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    sourcemap: false,
    target: 'node20',
  },
  // The `boundary-audit` bin (package.json "bin": "./dist/cli.js"): ESM only, with a shebang.
  {
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: false,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
])
