import { packageTestConfig } from '../../vitest.package'

// Each file starts PostgreSQL (or finds one) and child processes; they are slow, not flaky.
export default packageTestConfig({
  include: ['test/**/*.test.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
})
