// Entry point: `node src/server.mjs`. Audit events go to stdout (one ECS JSON line each, for
// Fluent Bit / Fluentd); the application's own messages go to stderr.
//
// Environment: DATABASE_URL (or PG*), CLINIC_DB_SCHEMA (default `clinic`), PORT (default 3000,
// 0 = any free port), HOST (default 127.0.0.1), CLINIC_ISSUER (the IdP issuer URL), and the
// boundary-audit variables: BOUNDARY_AUDIT_VERIFIER_KEY (verifier public key, PEM or path),
// BOUNDARY_AUDIT_PSEUDONYM_KEY (pseudonymisation secret), OTEL_SERVICE_NAME ...
import { createAuditLogger } from '@boundary-audit/core'
import { wrapPool } from '@boundary-audit/pg'
import pg from 'pg'
import { createApp } from './app.mjs'
import { createIdentityProvider } from './identity.mjs'
import { clinicMonitor } from './monitor.mjs'
import { migrate } from './seed.mjs'

const schema = process.env.CLINIC_DB_SCHEMA || 'clinic'
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST || '127.0.0.1'

const audit = createAuditLogger({
  service: {
    name: process.env.OTEL_SERVICE_NAME || 'clinic-api',
    version: '1.4.2',
    environment: process.env.CLINIC_ENVIRONMENT || 'demo',
  },
  redaction: {
    // This clinic's medical record numbers, so that an MRN in a URL or message is caught too.
    detectors: [{ name: 'mrn', pattern: /\bMRN-\d{7}\b/g }],
  },
  // Privacy monitoring (src/monitor.mjs): breadth alerts and blocks, with the pseudonym key.
  monitor: clinicMonitor(),
})

pg.types.setTypeParser(1082, (value) => value) // DATE as 'YYYY-MM-DD', not a local-time Date

// The schema and seed data are loaded by a separate, unaudited connection, as a migration job would.
const migrator = new pg.Client(connectionConfig())
await migrator.connect()
try {
  await migrate(migrator, schema)
} finally {
  await migrator.end()
}

const pool = wrapPool(new pg.Pool({ ...connectionConfig(), max: 5 }), audit)
const idp = await createIdentityProvider({
  issuer: process.env.CLINIC_ISSUER || 'https://dex.clinic.example/dex',
})
const app = createApp({ audit, pool, idp })

const server = app.listen(port, host, () => {
  const { port: actual } = server.address()
  process.stderr.write(`clinic-express listening on http://${host}:${actual}\n`)
})
server.on('error', (err) => {
  process.stderr.write(`clinic-express: ${err.message}\n`)
  process.exit(1)
})

let stopping = false
async function shutdown(signal) {
  if (stopping) return
  stopping = true
  process.stderr.write(`clinic-express: ${signal}, shutting down\n`)
  server.closeAllConnections?.()
  await new Promise((resolve) => server.close(resolve))
  await pool.end()
  await audit.close() // writes the closing integrity record and flushes stdout
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

function connectionConfig() {
  // search_path puts the example's tables first without qualifying every statement.
  const options = `-c search_path=${schema},public`
  return process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL, options } : { options }
}
