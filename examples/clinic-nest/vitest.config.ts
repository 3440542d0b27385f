import { packageTestConfig } from '../../vitest.package.js'

// Each file starts the built app and child processes; they are slow, not flaky.
export default packageTestConfig({
  include: ['test/**/*.test.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
})
