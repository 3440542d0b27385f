// The Redis the monitor's tests share (this machine and CI have one at 127.0.0.1:6379; elsewhere
// set BOUNDARY_AUDIT_TEST_REDIS_URL): a URL and a key prefix of their own, whose keys go at the end.
import { randomUUID } from 'node:crypto'
import Redis from 'ioredis'

/** A URL, a fresh key prefix, and cleanup() deleting every key under that prefix. */
export function testRedis(env = process.env) {
  const url = env.BOUNDARY_AUDIT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const prefix = `boundary-audit-test:${randomUUID()}:`
  return {
    url,
    prefix,
    async cleanup() {
      const admin = new Redis(url)
      try {
        const keys = await admin.keys(`${prefix}*`)
        if (keys.length > 0) await admin.del(...keys)
      } finally {
        await admin.quit()
      }
    },
  }
}
