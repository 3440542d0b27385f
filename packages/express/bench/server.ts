/**
 * One benchmark server (child process of bench/index.ts). The case is argv[2]. stdout is /dev/null
 * (set by the parent), so pino-http and the audit logger both write to their default destination,
 * stdout, as they would in a container, and both pay the real cost of writing.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
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
} else if (
  kase === 'floor-pino-line' ||
  kase === 'floor-als-close-pino-line' ||
  kase?.startsWith('floor-als-close-audit-line')
) {
  // The least a request log can cost: one plain pino line per request when the response closes
  // (method, path, status, duration: no redaction, no request id, no chain). Anything that writes
  // a line per request pays at least this. floor-als-close-pino-line also runs the request in an
  // AsyncLocalStorage context, as issue 3 requires: the least any audit middleware can cost.
  // floor-als-close-audit-line: the same with the line as long as this bench's audit line (~830
  // bytes; what DESIGN.md's fields take, see BENCHMARKS.md "Line size"), a filler field added;
  // floor-als-close-audit-line-sha256 also links each line to the one before by one SHA-256 of the
  // line and the previous hash (crypto.hash, on the event loop's thread, as the line is written):
  // the least any middleware that writes an audit-sized line per request and chains the lines by
  // hash can cost, whatever it keys, seals or redacts on top.
  const { pino, symbols } = await import('pino')
  const logger = pino()
  const als = kase === 'floor-pino-line' ? undefined : new AsyncLocalStorage<object>()
  const pad = kase.startsWith('floor-als-close-audit-line') ? 'x'.repeat(680) : undefined
  if (kase === 'floor-als-close-audit-line-sha256') {
    const { hash } = await import('node:crypto')
    const stream = (logger as unknown as Record<symbol, { write(s: string): unknown }>)[symbols.streamSym]!
    const write = stream.write.bind(stream)
    let link = ''
    stream.write = (line: string) => {
      link = hash('sha256', `${link}${line}`, 'base64url')
      return write(line)
    }
  } else if (pad !== undefined && kase !== 'floor-als-close-audit-line') {
    throw new Error(`unknown case ${kase}`)
  }
  app.use((req, res, next) => {
    const start = performance.now()
    res.on('close', () => {
      const fields: Record<string, unknown> = {
        method: req.method,
        url: req.originalUrl,
        statusCode: res.statusCode,
        ms: performance.now() - start,
      }
      if (pad !== undefined) fields.pad = pad
      logger.info(fields, 'request completed')
    })
    if (als) als.run({}, next)
    else next()
  })
} else if (kase?.startsWith('floor-')) {
  // What Node 20 itself charges for the two things any request-scoped audit middleware must do,
  // before a line of this package runs: run the rest of the request inside an AsyncLocalStorage
  // context (issue 3 requires handlers to run inside audit.runWithContext), and learn when the
  // response is over (a 'close' listener on the response).
  const als = new AsyncLocalStorage<object>()
  const withAls = kase.includes('als')
  const onClose = kase.includes('close')
  const ended = () => {}
  app.use((_req, res, next) => {
    if (onClose) res.on('close', ended)
    if (withAls) als.run({}, next)
    else next()
  })
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
