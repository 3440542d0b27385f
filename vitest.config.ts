import { defineConfig } from 'vitest/config'

// One vitest run for the whole repo; each package is a project with its own config.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
    // Vitest runs one file at a time on a 2-CPU machine by default (CPUs - 1 workers), yet most of
    // the suite's time is spent waiting: on child processes that are killed mid-burst, on readers
    // that pause, on PostgreSQL and Redis. A whole run used about half of one CPU. Two files at a
    // time keep both CPUs busy; each file still runs alone in its own process. (Three were tried:
    // at a load average of 20, CPU-bound property tests then ran past their time limit on Node 20.)
    maxWorkers: 2,
    // `npm test` runs with --coverage; a single file run while developing does not check it.
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.d.ts'],
      reporter: ['text-summary'],
      // About two points under what the whole suite measured on Node 24 at the end of session 5
      // (85.4 / 81.1 / 80.0 / 86.7 %): V8's counts differ a little between Node 20, 22 and 24, and
      // functions sat at 80.01 %. A change that lands untested code fails `npm test`. Raise them to
      // just under a fresh measurement; never lower them to pass.
      thresholds: { statements: 83, branches: 79, functions: 78, lines: 84 },
    },
  },
})
