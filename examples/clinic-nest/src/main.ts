// Entry point: `node dist/main.js` (after `npm run build -w @boundary-audit/example-clinic-nest`).
// The same API, database and identity provider as examples/clinic-express, on NestJS. Audit events
// go to stdout, the application's own messages to stderr. Environment as in clinic-express.
import 'reflect-metadata'
import { createAuditLogger } from '@boundary-audit/core'
import { createIdentityProvider } from '@boundary-audit/example-clinic-express/identity'
import { clinicMonitor } from '@boundary-audit/example-clinic-express/monitor'
import { migrate } from '@boundary-audit/example-clinic-express/seed'
import { wrapPool } from '@boundary-audit/pg'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import pg from 'pg'
import { AppModule } from './app.module.js'

const schema = process.env.CLINIC_DB_SCHEMA || 'clinic'
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST || '127.0.0.1'

const audit = createAuditLogger({
  service: {
    name: process.env.OTEL_SERVICE_NAME || 'clinic-api',
    version: '1.4.2',
    environment: process.env.CLINIC_ENVIRONMENT || 'demo',
  },
  redaction: { detectors: [{ name: 'mrn', pattern: /\bMRN-\d{7}\b/g }] },
  // Privacy monitoring as in the Express clinic: breadth alerts and blocks (a blocked account gets
  // 403 after the guards have authenticated it), shared across replicas through Redis when set.
  monitor: clinicMonitor(),
})

pg.types.setTypeParser(1082, (value: string) => value) // DATE as 'YYYY-MM-DD'
const connection = () => {
  const options = `-c search_path=${schema},public`
  return process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL, options } : { options }
}

// Schema and seed data through a separate, unaudited connection, as a migration job would.
const migrator = new pg.Client(connection())
await migrator.connect()
try {
  await migrate(migrator, schema)
} finally {
  await migrator.end()
}

const pool = wrapPool(new pg.Pool({ ...connection(), max: 5 }), audit)
const idp = await createIdentityProvider({
  issuer: process.env.CLINIC_ISSUER || 'https://dex.clinic.example/dex',
})
const app = await NestFactory.create<NestExpressApplication>(AppModule.register({ audit, pool, idp }), {
  // Nest prints its own 'log' level to stdout, which belongs to the audit lines; errors and
  // warnings go to stderr.
  logger: ['error', 'warn'],
})
app.set('trust proxy', 'loopback')
await app.listen(port, host)
const address = app.getHttpServer().address() as { port: number }
process.stderr.write(`clinic-nest listening on http://${host}:${address.port}\n`)

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  process.stderr.write(`clinic-nest: ${signal}, shutting down\n`)
  await app.close()
  await pool.end()
  await audit.close() // the closing integrity record, then stdout flushed
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
