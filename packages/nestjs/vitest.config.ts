import swc from 'unplugin-swc'
import { defineConfig } from 'vitest/config'

// Nest's dependency injection reads decorator metadata, which esbuild (vitest's default transform)
// does not emit; SWC does (docs.nestjs.com/recipes/swc#vitest).
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
  },
})
