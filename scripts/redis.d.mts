// Types for scripts/redis.mjs (plain ESM so node, tsx and vitest all run it).
export interface TestRedis {
  /** redis:// URL (BOUNDARY_AUDIT_TEST_REDIS_URL, default redis://127.0.0.1:6379). */
  url: string
  /** A key prefix no other run uses. */
  prefix: string
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>
}
export function testRedis(env?: NodeJS.ProcessEnv): TestRedis
