import { defineConfig } from 'tsup'

// No sourcemaps: see packages/core/tsup.config.ts for what the tarball ships and why.
// Dual build: ESM (.js) for `import`, CommonJS (.cjs) for `require`, each with its own declarations.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: false,
  target: 'node20',
})
