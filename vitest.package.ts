import { defineConfig, type TestUserConfig, type ViteUserConfig } from 'vitest/config'

/**
 * The vitest config every workspace package shares (each package's vitest.config.ts calls this with
 * what it adds): tests run against the TypeScript sources through the `source` export condition, with
 * the fast-check seed of scripts/vitest-fc-seed.ts, so that `FC_SEED` replays a property failure in any
 * package.
 */
export function packageTestConfig(test: TestUserConfig = {}, extra: ViteUserConfig = {}) {
  return defineConfig({
    ...extra,
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      // Relative to the package: every workspace package sits two levels below the root.
      setupFiles: ['../../scripts/vitest-fc-seed.ts'],
      ...test,
    },
  })
}
