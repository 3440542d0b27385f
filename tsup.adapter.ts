import { defineConfig } from 'tsup'

// The build of each adapter package (express, nestjs, pg): one entry, dual ESM (.js) for `import` and
// CommonJS (.cjs) for `require`, each with its own declarations. No sourcemaps: see
// packages/core/tsup.config.ts for what the tarballs ship and why.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: false,
  target: 'node20',
})
