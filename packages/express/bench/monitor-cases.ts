/**
 * Privacy-monitor cases of the Express bench (issue 19), run by bench/index.ts through server.ts:
 *   monitor-off     auditMiddleware + one `audit.access()` per request (a patient read), monitor off
 *   monitor-memory  the same with the monitor on, default rules, counts per process
 *   monitor-redis   the same with counts shared through the Redis at BENCH_REDIS_URL
 *                   (default redis://127.0.0.1:6379; the accesses of 2 ms in one Lua script call)
 * Each request reads a different patient as one of 200 actors, so the breadth and rate windows
 * fill as they would under load (each actor alerts once, then the once-per-window rule holds).
 * Run: npm run bench:monitor -w @boundary-audit/express (after npm run build).
 */
import { randomBytes } from 'node:crypto'
import type { Express } from 'express'

export const MONITOR_CASES = ['monitor-off', 'monitor-memory', 'monitor-redis']

export async function setupMonitorCase(app: Express, kase: string): Promise<void> {
  const { createAuditLogger } = await import('@boundary-audit/core')
  const { auditMiddleware } = await import('@boundary-audit/express')
  const monitor =
    kase === 'monitor-off'
      ? undefined
      : kase === 'monitor-redis'
        ? {
            redis: {
              url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
              keyPrefix: `boundary-audit-bench:${randomBytes(4).toString('hex')}:`,
            },
          }
        : {}
  const audit = createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench' },
    redaction: { pseudonymKey: 'bench-pseudonym-key-0123456789abcdef' },
    monitor,
  })
  app.use(auditMiddleware(audit))
  let n = 0
  app.get('/hello', (_req, res) => {
    n++
    audit.access({
      action: 'patient-record-read',
      resource: { type: 'patient', id: `MRN-${n % 20_000}` },
      actor: { id: `clinician-${n % 200}`, roles: ['clinician'] },
    })
    res.send('hello world')
  })
}
