// A minimal Express service with boundary-audit sending its events to OpenTelemetry as well as stdout.
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 node --import ./instrumentation.mjs app.mjs
//   curl localhost:3000/patients/123 -H 'authorization: Bearer x'; then Ctrl-C (or SIGTERM)
//
// Shutdown is the part that matters: on SIGTERM/SIGINT it closes the audit logger (the closing record
// of the integrity chain is written and handed to the SDK), then shuts the SDK down (which exports
// everything still queued), and only then exits. Nothing accepted before the signal is lost.

import { createAuditLogger } from '@boundary-audit/core'
import { auditMiddleware } from '@boundary-audit/express'
import express from 'express'
import { logExporter, sdk } from './instrumentation.mjs'

// `otel.enabled` (or BOUNDARY_AUDIT_OTEL=true). Stdout stays on: set `destination: false` to turn it off.
// `exporter`: the watched exporter of instrumentation.mjs, so that audit.stats().otel counts what reached
// the collector and what did not, and close() bounds the exports that follow it.
const audit = createAuditLogger({ otel: { enabled: true, exporter: logExporter } })

const app = express()
app.use(auditMiddleware(audit, { actions: { 'GET /patients/:id': 'patient-record-read' } }))
app.get('/patients/:id', (req, res) => {
  audit.access({ action: 'patient-chart-open', resource: { type: 'patient', id: req.params.id } })
  res.json({ id: req.params.id })
})

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.error(`listening on ${server.address().port}`)
})

let stopping = false
async function shutdown() {
  if (stopping) return
  stopping = true
  server.close()
  await audit.close() // 1. the audit logger: last events and the closing record
  await sdk.shutdown() // 2. the SDK: force-flushes the log processor, then stops the exporter
  process.exit(0)
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
