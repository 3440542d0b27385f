import { defineConfig } from 'tsup'

// Dual build: ESM (.js) for `import`, CommonJS (.cjs) for `require`, each with its own declarations.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
