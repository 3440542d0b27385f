// End to end: NodeSDK with the real OTLP/HTTP log exporter, pointed at an OTLP receiver this test runs
// on 127.0.0.1; requests through the express middleware, queries through the pg wrapper; the exported
// log records are decoded and checked for EventName, attributes, trace correlation and planted PHI.
//
// @boundary-audit/express and @boundary-audit/pg depend on core, so core cannot list them without a
// build cycle in turbo; the test reaches them through the workspace links in the root node_modules
// (and their `source` condition, so nothing needs building).

import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { auditMiddleware } from '@boundary-audit/express'
import { wrapPool } from '@boundary-audit/pg'
import { context, SpanKind, trace } from '@opentelemetry/api'
import { logs } from '@opentelemetry/api-logs'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchLogRecordProcessor, type LoggerProvider } from '@opentelemetry/sdk-logs'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import express from 'express'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensurePostgres } from '../../../scripts/postgres.mjs'
import { createAuditLogger } from '../src/index'
import { SCHEMA_URL } from '../src/otel/index'
import { startReceiver } from './otel-receiver'

// Identifiers planted in every place a request or a query can carry them. None may reach the collector.
const SSN = '219-09-9999'
const EMAIL = 'zebulon.quixote@example.org'
const NAME = 'Zebulon Quixote'
const MRN = 'MRN-5550199'
const TOKEN = 'tok_live_7Hh2YqPz'
const PHONE = '(415) 555-0134'
const PLANTED = [
  SSN,
  SSN.replaceAll('-', ''),
  EMAIL,
  NAME,
  'Zebulon',
  'Quixote',
  MRN,
  '5550199',
  TOKEN,
  PHONE,
  '555-0134',
]

describe('OpenTelemetry export through NodeSDK and OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let sdk: NodeSDK
  const spans = new InMemorySpanExporter()
  let app: Server
  let base: string
  let pool: pg.Pool
  let stopPg: () => Promise<void>
  const table = `ba_otel_patients_${process.pid}`
  const lines: string[] = []
  let audit: ReturnType<typeof createAuditLogger>

  beforeAll(async () => {
    receiver = await startReceiver()
    sdk = new NodeSDK({
      resource: resourceFromAttributes({ 'service.name': 'otel-export-test' }),
      // A long delay: nothing leaves before the test flushes, so the flush path is what is tested.
      logRecordProcessors: [
        new BatchLogRecordProcessor({
          exporter: new OTLPLogExporter({ url: receiver.url }),
          scheduledDelayMillis: 60_000,
        }),
      ],
      spanProcessors: [new SimpleSpanProcessor(spans)],
      metricReaders: [], // not the default OTLP metric exporter to localhost:4318
      // The exporter's own POSTs to the receiver are not part of what is under test.
      instrumentations: [
        new HttpInstrumentation({
          ignoreIncomingRequestHook: (req) => req.url === '/v1/logs',
          ignoreOutgoingRequestHook: (req) => req.path === '/v1/logs',
        }),
      ],
    })
    sdk.start()
    // instrumentation-http patches `http` on its next require; the server below must be patched.
    const { createRequire } = await import('node:module')
    createRequire(import.meta.url)('node:http')

    const db = await ensurePostgres()
    stopPg = db.stop
    audit = createAuditLogger({
      service: { name: 'otel-export-test' },
      destination: { write: (l) => lines.push(l) },
      otel: { enabled: true },
      integrity: { checkpointIntervalSeconds: 0 },
    })
    pool = wrapPool(new pg.Pool({ connectionString: db.connectionString, max: 2 }), audit)
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${table} (id serial primary key, ssn text, name text, email text)`,
    )

    const server = express()
    server.use(auditMiddleware(audit, { actor: () => ({ id: 'clin-42', roles: ['clinician'] }) }))
    server.use(express.json())
    server.post('/patients/:id/notes', async (req, res) => {
      const { ssn, name, email } = req.body as Record<string, string>
      // Parameter values (PHI) through $n placeholders, and one literal written into the SQL text.
      await pool.query(`INSERT INTO ${table} (ssn, name, email) VALUES ($1, $2, $3)`, [ssn, name, email])
      const found = await pool.query(`SELECT id, name FROM ${table} WHERE ssn = '${SSN}' AND name = $1`, [
        name,
      ])
      audit.access({
        action: 'patient-record-read',
        resource: { type: 'patient', id: MRN },
        details: { note: EMAIL },
      })
      res.status(201).json({ rows: found.rowCount })
    })
    server.get('/boom', () => {
      throw new Error(`failed for ${EMAIL}`)
    })
    app = createServer(server)
    app.listen(0, '127.0.0.1')
    await once(app, 'listening')
    base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await pool?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await pool?.end()
    await stopPg?.()
    app?.close()
    receiver?.server.close()
    await sdk?.shutdown().catch(() => {})
    logs.disable()
    trace.disable()
    context.disable()
  })

  it('exports each request and query as a log record with EventName, semconv attributes and the HTTP span ids', async () => {
    const res = await fetch(`${base}/patients/${SSN}/notes?ssn=${SSN}&email=${encodeURIComponent(EMAIL)}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        cookie: `sid=${TOKEN}`,
        'x-patient-name': NAME,
        'user-agent': `test-agent (${EMAIL})`,
        'x-forwarded-for': '203.0.113.9',
      },
      body: JSON.stringify({ ssn: SSN, name: NAME, email: EMAIL, phone: PHONE }),
    })
    expect(res.status).toBe(201)
    expect((await fetch(`${base}/boom?mrn=${MRN}`)).status).toBe(500)

    // The documented way to lose nothing: flush the audit logger, then the SDK's LoggerProvider.
    await audit.flush()
    await (logs.getLoggerProvider() as LoggerProvider).forceFlush()

    const got = receiver.records
    const ours = got.filter((r) => r.scope.name === '@boundary-audit/core')
    expect(ours.length).toBe(got.length)
    expect(ours[0]!.scope.schemaUrl).toBe(SCHEMA_URL)
    expect(ours[0]!.resource['service.name']).toBe('otel-export-test')

    const httpEvents = ours.filter((r) => r.eventName === 'http-request')
    const dbEvents = ours.filter((r) => r.eventName === 'db-query')
    const reads = ours.filter((r) => r.eventName === 'patient-record-read')
    expect(httpEvents).toHaveLength(2)
    expect(dbEvents.length).toBeGreaterThanOrEqual(2)
    expect(reads).toHaveLength(1)

    const [post, boom] = [
      httpEvents.find((r) => r.attributes['http.request.method'] === 'POST')!,
      httpEvents.find((r) => r.attributes['http.request.method'] === 'GET')!,
    ]
    expect(post.attributes).toMatchObject({
      'http.route': '/patients/:id/notes',
      'http.response.status_code': 201,
      'user.id': 'clin-42',
      'user.roles': ['clinician'],
      'audit.outcome': 'success',
      'audit.category': ['web'],
      'audit.type': ['access'],
    })
    expect(post.attributes['url.path']).toMatch(/^\/patients\/[^/]+\/notes$/)
    expect(String(post.attributes['url.query']).split('&').sort()).toEqual(['email=', 'ssn='])
    expect(post.attributes['client.address']).toEqual(expect.any(String))
    expect(post.attributes['user_agent.original']).toMatch(/^test-agent/)
    expect(post.attributes['audit.event_id']).toEqual(expect.any(String))
    expect(post.severityText).toBe('info')
    expect(post.severityNumber).toBe(9)
    expect(post.body).toBe('POST /patients/:id/notes 201')
    expect(boom.attributes).toMatchObject({ 'http.response.status_code': 500, 'audit.outcome': 'failure' })
    expect(boom.attributes['error.type']).toEqual(expect.any(String))
    expect(boom.severityText).toBe('error')
    expect(boom.severityNumber).toBe(17)

    const insert = dbEvents.find((r) => r.attributes['db.operation.name'] === 'INSERT')!
    const select = dbEvents.find(
      (r) => r.attributes['db.operation.name'] === 'SELECT' && r.attributes['db.collection.name'] === table,
    )!
    expect(insert.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.collection.name': table,
      'audit.outcome': 'success',
      'audit.type': ['change'],
    })
    expect(insert.attributes['db.query.text']).toMatch(/^INSERT INTO/)
    expect(insert.attributes['db.namespace']).toEqual(expect.any(String))
    expect(select.attributes['db.query.text']).not.toContain(SSN) // the literal was normalised away
    expect(select.attributes['db.response.returned_rows']).toBeGreaterThanOrEqual(1)
    expect(reads[0]!.attributes).toMatchObject({ 'audit.resource.type': 'patient', 'user.id': 'clin-42' })
    expect(JSON.parse(String(reads[0]!.attributes['audit.details']))).toEqual({ note: expect.any(String) })

    // Trace correlation: each record points at the server span of its request.
    const serverSpans = spans.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)
    expect(serverSpans).toHaveLength(2)
    const postSpan = serverSpans.find(
      (s) => s.attributes['http.method'] === 'POST' || s.name.startsWith('POST'),
    )!
    const ids = { traceId: postSpan.spanContext().traceId, spanId: postSpan.spanContext().spanId }
    expect({ traceId: post.traceId, spanId: post.spanId }).toEqual(ids)
    expect({ traceId: insert.traceId, spanId: insert.spanId }).toEqual(ids)
    expect({ traceId: select.traceId, spanId: select.spanId }).toEqual(ids)
    expect({ traceId: reads[0]!.traceId, spanId: reads[0]!.spanId }).toEqual(ids)
    const boomSpan = serverSpans.find((s) => s !== postSpan)!
    expect(boom.traceId).toBe(boomSpan.spanContext().traceId)

    // And the ECS line of each event says the same trace.
    const lineOf = (id: unknown) => lines.map((l) => JSON.parse(l)).find((l) => l.event?.id === id)
    expect(lineOf(post.attributes['audit.event_id']).trace.id).toBe(ids.traceId)

    // No planted identifier anywhere in what reached the collector.
    const everything = receiver.raw.join('\n')
    expect(everything).toContain('clin-42') // the check below looks at real payloads
    for (const phi of PLANTED) expect(everything, `${phi} reached the collector`).not.toContain(phi)
  })

  it('loses nothing on shutdown: audit.close() then sdk.shutdown() delivers every event written', async () => {
    const before = receiver.records.length
    for (let i = 0; i < 25; i++) {
      audit.event({
        action: 'export-batch',
        category: 'process',
        type: 'info',
        outcome: 'success',
        details: { i },
      })
    }
    // Nothing was exported yet: the batch processor waits 60 s.
    expect(receiver.records.length).toBe(before)
    await audit.close()
    await sdk.shutdown()
    const batch = receiver.records.filter((r) => r.eventName === 'export-batch')
    expect(batch).toHaveLength(25)
    // Every line written has its log record (chain records included), matched by event id or seq.
    const written = lines.map((l) => JSON.parse(l))
    expect(receiver.records.length).toBe(written.length)
    const exportedIds = new Set(receiver.records.map((r) => r.attributes['audit.event_id']).filter(Boolean))
    for (const line of written) if (line.event?.id) expect(exportedIds.has(line.event.id)).toBe(true)
  })
})
