/**
 * One benchmark server (child process of bench/index.ts). The case is argv[2]. stdout is /dev/null
 * (set by the parent), so pino-http and the audit logger both write to their default destination,
 * stdout, as they would in a container, and both pay the real cost of writing.
 */
import type { AddressInfo } from 'node:net'
import { getHeapSpaceStatistics } from 'node:v8'
import express from 'express'

const kase = process.argv[2]
// bench/memory.ts: the sealing thread's heap is reported too (before core starts it).
const heaps = process.env.BENCH_WORKER_HEAPS === '1' ? await import('./worker-heaps') : undefined
const app = express()
/** The audit logger of the boundary-audit cases (bench/memory.ts reads its stats). */
let auditLogger:
  | { stats(): { accepted: number; written: number; dropped: number }; flush(): Promise<void> }
  | undefined

if (kase === 'pino-http') {
  const { pinoHttp } = await import('pino-http')
  app.use(pinoHttp())
} else if (kase?.startsWith('boundary-audit')) {
  // The built packages (dist), as users run them: `npm run bench` builds first (turbo).
  const { createAuditLogger } = await import('@boundary-audit/core')
  const { auditMiddleware } = await import('@boundary-audit/express')
  const audit = createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench' },
    ...(kase === 'boundary-audit-no-chain' ? { integrity: { enabled: false } } : {}),
    // The chain sealed on the event loop's thread instead of the sealing thread.
    ...(kase === 'boundary-audit-inline' ? { integrity: { thread: 'inline' as const } } : {}),
  })
  auditLogger = audit
  // middleware-only: the logger's httpRequest does nothing, to show what the middleware itself costs.
  app.use(auditMiddleware(kase === 'boundary-audit-middleware-only' ? { ...audit, httpRequest() {} } : audit))
} else if (kase?.startsWith('floor-')) {
  // What any request audit middleware must cost (ALS context, close listener, a pino line of the
  // audit line's size, one SHA-256 link): scripts/bench-floor.mjs, shared with the Nest bench.
  const { createFloorMiddleware } = await import('../../../scripts/bench-floor.mjs')
  app.use(await createFloorMiddleware(kase))
} else if (kase?.startsWith('monitor-')) {
  // Privacy monitor off / per process / Redis, each with one access event per request.
  const { setupMonitorCase } = await import('./monitor-cases')
  await setupMonitorCase(app, kase)
} else if (kase !== 'bare') {
  throw new Error(`unknown case ${kase}`)
}

app.get('/hello', (_req, res) => {
  res.send('hello world')
})

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port })
})

// The parent marks the start of the measured run ('begin') and asks for the CPU time spent since
// ('cpu'): CPU time per request is robust on a shared machine where wall-clock throughput is not.
let since = process.cpuUsage()
process.on('message', (m) => {
  if (m === 'begin') since = process.cpuUsage()
  else if (m === 'cpu') {
    const u = process.cpuUsage(since)
    process.send?.({ cpuMicros: u.user + u.system })
  } else if (m === 'mem') {
    // Memory after a full collection when the server runs with --expose-gc (bench/memory.ts), once
    // every accepted event is written: records still on their way to the sealing thread (posted
    // messages, outside the JS heap) would otherwise count as memory the logger keeps.
    void (async () => {
      const before = auditLogger?.stats()
      await auditLogger?.flush()
      ;(globalThis as { gc?: () => void }).gc?.()
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
      const worker = await heaps?.workerHeaps()
      // Committed size of the main thread's heap spaces, where heapTotal grows.
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_size / 2 ** 20)]),
      )
      const after = auditLogger?.stats()
      process.send?.({
        rss,
        heapUsed,
        heapTotal,
        external,
        worker,
        spaces,
        backlog: before ? before.accepted - before.written : 0,
        after,
      })
    })()
  } else if (m === 'stop') server.close(() => process.exit(0))
})
// Profiling runs (node --cpu-prof) stop with SIGTERM and still write their profile.
process.on('SIGTERM', () => process.exit(0))
