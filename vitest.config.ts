import { defineConfig } from 'vitest/config'

// One vitest run for the whole repo; each package is a project with its own config.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
    // `npm test` runs with --coverage; a single file run while developing does not check it.
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.d.ts'],
      reporter: ['text-summary'],
      // Just under what the suite measured when this was set (88.2 / 84.1 / 83.0 / 89.6 %): a change
      // that lands untested code fails `npm test`. Raise them as coverage grows; never lower them to pass.
      thresholds: { statements: 87, branches: 83, functions: 82, lines: 88 },
    },
  },
})
