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
      // Under what the suite measured when this was set (88.2 / 84.1 / 83.0 / 89.6 % before the monitor
      // and the new writer landed), with room for their code: a change that lands untested code fails
      // `npm test`. Raise them to just under the current figures; never lower them to pass.
      thresholds: { statements: 84, branches: 80, functions: 80, lines: 85 },
    },
  },
})
