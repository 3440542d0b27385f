/**
 * Privacy-monitor cases of the Express bench (issue 19), run by bench/index.ts through server.ts:
 *   monitor-off     auditMiddleware + one `audit.access()` per request (a patient read), monitor off
 *   monitor-memory  the same with the monitor on, default rules, counts per process
 *   monitor-redis   the same with counts shared through the Redis at BENCH_REDIS_URL
 *                   (default redis://127.0.0.1:6379; the accesses of 2 ms in one Lua script call)
 * Each request reads a different patient as one of 200 actors, so the breadth and rate windows
 * fill as they would under load (each actor alerts once, then the once-per-window rule holds).
 * monitor-redis also answers the parent's 'redis' message (after 'begin') with what Redis did in the
 * measured run: script calls, accesses per call, and redis-server's CPU (INFO cpu: every client's,
 * so give it a Redis of its own, BENCH_REDIS_URL, for a figure that is the monitor's alone).
 * Run: npm run bench:monitor -w @boundary-audit/express (after npm run build).
 */
import { randomBytes } from 'node:crypto'
import type { Express } from 'express'
import Redis from 'ioredis'

export const MONITOR_CASES = ['monitor-off', 'monitor-memory', 'monitor-redis']

export async function setupMonitorCase(app: Express, kase: string): Promise<void> {
  const { createAuditLogger } = await import('@boundary-audit/core')
  const { auditMiddleware } = await import('@boundary-audit/express')
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const monitor =
    kase === 'monitor-off'
      ? undefined
      : kase === 'monitor-redis'
        ? {
            redis: {
              url,
              // bench/instructions.ts stretches both under valgrind (everything runs ~100x slower).
              batchMs: optionalNumber(process.env.BENCH_REDIS_BATCH_MS),
              timeoutMs: optionalNumber(process.env.BENCH_REDIS_TIMEOUT_MS),
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
  if (kase === 'monitor-redis') redisFigures(url, () => n)
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

/** Answers 'redis' with the Redis side of the run since 'begin'. */
function redisFigures(url: string, requests: () => number): void {
  const admin = new Redis(url, { lazyConnect: true })
  const snapshot = async () => {
    const [cpu, stats] = [await admin.info('cpu'), await admin.info('commandstats')]
    const num = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0)
    return {
      requests: requests(),
      cpuUs: (num(cpu, /used_cpu_user:([\d.]+)/) + num(cpu, /used_cpu_sys:([\d.]+)/)) * 1e6,
      calls: num(stats, /cmdstat_evalsha:calls=(\d+)/),
    }
  }
  let begin: ReturnType<typeof snapshot> | undefined
  process.on('message', (m) => {
    if (m === 'begin') begin = snapshot()
    else if (m === 'redis' && begin) {
      void Promise.all([begin, snapshot()]).then(([a, b]) => {
        const requests = b.requests - a.requests
        process.send?.({
          calls: b.calls - a.calls,
          accessesPerCall: requests / Math.max(1, b.calls - a.calls),
          redisUsPerReq: (b.cpuUs - a.cpuUs) / Math.max(1, requests),
        })
      })
    }
  })
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : Number(text)
}
