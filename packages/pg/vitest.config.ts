import { packageTestConfig } from '../../vitest.package'

export default packageTestConfig({
  hookTimeout: 60_000,
  // Finds (or starts) a PostgreSQL server once and provides its URL to every test file.
  globalSetup: ['./test/global-setup.ts'],
})
