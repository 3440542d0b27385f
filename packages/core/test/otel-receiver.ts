// An OTLP/HTTP logs receiver for the OpenTelemetry tests: listens on 127.0.0.1, keeps every raw
// request body (for PHI checks) and every log record decoded from OTLP/JSON.

import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** One decoded OTLP/JSON log record with its scope and resource, attributes as a plain object. */
export interface Received {
  resource: Record<string, unknown>
  scope: { name: string; version?: string; schemaUrl?: string }
  eventName?: string
  severityNumber?: number
  severityText?: string
  body?: unknown
  timeUnixNano?: string
  traceId?: string
  spanId?: string
  attributes: Record<string, unknown>
}

/** The OTLP/HTTP logs endpoint: keeps every raw body (for the PHI check) and every decoded record. */
export async function startReceiver() {
  const raw: string[] = []
  const records: Received[] = []
  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    if (req.method !== 'POST' || req.url !== '/v1/logs') {
      res.writeHead(404).end()
      return
    }
    raw.push(body)
    records.push(...decode(JSON.parse(body)))
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/v1/logs`, raw, records, server }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const buf = Buffer.concat(chunks)
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(buf) : buf).toString('utf8')
}

type OtlpValue = Record<string, unknown>
function value(v: OtlpValue | undefined): unknown {
  if (!v) return undefined
  if ('stringValue' in v) return v.stringValue
  if ('intValue' in v) return Number(v.intValue)
  if ('doubleValue' in v) return v.doubleValue
  if ('boolValue' in v) return v.boolValue
  if ('arrayValue' in v) return ((v.arrayValue as { values?: OtlpValue[] }).values ?? []).map(value)
  if ('kvlistValue' in v) return attrs((v.kvlistValue as { values?: OtlpKv[] }).values)
  return undefined
}
type OtlpKv = { key: string; value?: OtlpValue }
function attrs(kvs: OtlpKv[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, value(kv.value)]))
}

function decode(payload: any): Received[] {
  const out: Received[] = []
  for (const rl of payload.resourceLogs ?? []) {
    const resource = attrs(rl.resource?.attributes)
    for (const sl of rl.scopeLogs ?? []) {
      const scope = { name: sl.scope?.name, version: sl.scope?.version, schemaUrl: sl.schemaUrl }
      for (const r of sl.logRecords ?? []) {
        out.push({
          resource,
          scope,
          eventName: r.eventName,
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          body: value(r.body),
          timeUnixNano: r.timeUnixNano === undefined ? undefined : String(r.timeUnixNano),
          traceId: r.traceId || undefined,
          spanId: r.spanId || undefined,
          attributes: attrs(r.attributes),
        })
      }
    }
  }
  return out
}
