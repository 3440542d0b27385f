import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // Each file starts PostgreSQL (or finds one) and child processes; they are slow, not flaky.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
