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
      // A limit that catches a hang, not a slow machine: the property tests and the CLI tests take
      // 10-30 s when the machine's load average is 20 on 2 CPUs.
      testTimeout: 60_000,
      // Relative to the package: every workspace package sits two levels below the root.
      setupFiles: ['../../scripts/vitest-fc-seed.ts'],
      ...test,
    },
  })
}
