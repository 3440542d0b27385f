/**
 * One benchmark server (child process of bench/index.ts). The case is argv[2]. stdout is /dev/null
 * (set by the parent), so pino-http and the audit logger both write to their default destination,
 * stdout, as they would in a container, and both pay the real cost of writing.
 */
import type { AddressInfo } from 'node:net'
import express from 'express'

const kase = process.argv[2]
const app = express()
app.disable('x-powered-by')

if (kase === 'pino-http') {
  const { pinoHttp } = await import('pino-http')
  app.use(pinoHttp())
} else if (kase === 'boundary-audit' || kase === 'boundary-audit-no-chain') {
  const { createAuditLogger } = await import('@boundary-audit/core')
  const { auditMiddleware } = await import('../src/index')
  const audit = createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench' },
    ...(kase === 'boundary-audit-no-chain' ? { integrity: { enabled: false } } : {}),
  })
  app.use(auditMiddleware(audit))
} else if (kase !== 'bare') {
  throw new Error(`unknown case ${kase}`)
}

app.get('/hello', (_req, res) => {
  res.send('hello world')
})

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port })
})
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0))
})
