import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ATTRIBUTE_TABLE, SCHEMA_URL, SEMCONV_VERSION, toAttributes } from './attributes'

// Records shaped as the event builders write them (see src/events/*).
const httpRecord = {
  '@timestamp': '2026-11-29T01:02:03.456Z',
  'log.level': 'warn',
  message: 'GET /patients/:id 404',
  'ecs.version': '8.17.0',
  event: {
    kind: 'event',
    category: ['web'],
    type: ['access'],
    action: 'http-request',
    outcome: 'failure',
    id: '5f1c8a0e-2f5d-4b7e-9a63-0c3c1f1a2b3c',
    duration: 1234567,
  },
  service: { name: 'ehr-api', node: { name: 'pod-1' } },
  user: { id: 'u-17', roles: ['clinician', 'admin'], domain: 'https://idp.example', name: 'drwho' },
  source: { ip: '10.0.0.7' },
  client: { ip: '10.0.0.7' },
  user_agent: { original: 'curl/8.0' },
  http: {
    request: { id: 'req-1', method: 'GET', bytes: 12, headers: { 'x-forwarded-proto': 'https' } },
    response: { status_code: 404, bytes: 99 },
    route: '/patients/:id',
  },
  url: { path: '/patients/[REDACTED:id]', query: 'q=&page=' },
  trace: { id: '0af7651916cd43dd8448eb211c80319c' },
  span: { id: 'b7ad6b7169203331' },
  error: { type: 'NotFoundError', message: 'no such patient', code: 'E404' },
  audit: {
    integrity: { stream: 's-1', seq: 7, prev: 'abc', mac: 'def' },
    details: { reason: 'chart', nested: { a: [1, 2] } },
    resource: { type: 'patient', id: 'pz_0123456789abcdef' },
    truncated: true,
  },
}

const dbRecord = {
  '@timestamp': '2026-11-29T01:02:03.456Z',
  'log.level': 'info',
  message: 'SELECT patients',
  'ecs.version': '8.17.0',
  event: {
    kind: 'event',
    category: ['database'],
    type: ['access'],
    action: 'db-query',
    outcome: 'success',
    id: 'x',
  },
  service: { name: 'ehr-api', node: { name: 'pod-1' } },
  db: {
    system: { name: 'postgresql' },
    namespace: 'test',
    operation: { name: 'SELECT' },
    collection: { name: 'patients' },
    query: { summary: 'SELECT patients', text: 'SELECT * FROM patients WHERE id = $1' },
    response: { returned_rows: 1, status_code: '00000' },
  },
  server: { address: '127.0.0.1', port: 5432 },
  audit: { db: { fingerprint: 'fp1', slow: true } },
}

describe('toAttributes', () => {
  it('maps an http-request record to semantic-convention names and audit.* for the rest', () => {
    expect(toAttributes(httpRecord)).toEqual({
      'audit.category': ['web'],
      'audit.type': ['access'],
      'audit.outcome': 'failure',
      'audit.event_id': '5f1c8a0e-2f5d-4b7e-9a63-0c3c1f1a2b3c',
      'audit.duration_ns': 1234567,
      'user.id': 'u-17',
      'user.roles': ['clinician', 'admin'],
      'user.name': 'drwho',
      'audit.user.domain': 'https://idp.example',
      'client.address': '10.0.0.7',
      'user_agent.original': 'curl/8.0',
      'audit.request_id': 'req-1',
      'http.request.method': 'GET',
      'http.request.body.size': 12,
      'http.request.header.x-forwarded-proto': ['https'],
      'http.response.status_code': 404,
      'http.response.body.size': 99,
      'http.route': '/patients/:id',
      'url.path': '/patients/[REDACTED:id]',
      'url.query': 'q=&page=',
      'error.type': 'NotFoundError',
      'audit.error.message': 'no such patient',
      'audit.error.code': 'E404',
      'audit.integrity.stream': 's-1',
      'audit.integrity.seq': 7,
      'audit.integrity.prev': 'abc',
      'audit.integrity.mac': 'def',
      'audit.details': '{"reason":"chart","nested":{"a":[1,2]}}',
      'audit.resource.type': 'patient',
      'audit.resource.id': 'pz_0123456789abcdef',
      'audit.truncated': true,
    })
  })

  it('maps a db-query record', () => {
    expect(toAttributes(dbRecord)).toEqual({
      'audit.category': ['database'],
      'audit.type': ['access'],
      'audit.outcome': 'success',
      'audit.event_id': 'x',
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'patients',
      'db.query.summary': 'SELECT patients',
      'db.query.text': 'SELECT * FROM patients WHERE id = $1',
      'db.response.returned_rows': 1,
      'db.response.status_code': '00000',
      'server.address': '127.0.0.1',
      'server.port': 5432,
      'audit.db.fingerprint': 'fp1',
      'audit.db.slow': true,
    })
  })

  it('keeps what the LogRecord or the Resource carries out of the attributes', () => {
    const attrs = toAttributes(httpRecord)
    for (const name of Object.keys(attrs)) {
      expect(name).not.toMatch(/^(service|trace|span|source|ecs|event|log|message|@timestamp)\b/)
    }
    expect(attrs).not.toHaveProperty('event.name') // deprecated: EventName is on the record
  })

  it('gives unknown fields an audit. prefix and flattens nested ones', () => {
    const attrs = toAttributes({
      event: { action: 'x', severity: 3 },
      labels: { team: 'ehr' },
      user: { id: 'u', effective: { id: 'v', roles: ['r'] } },
      tags: ['a', 'b'],
      mixed: ['a', 1],
      nothing: null,
    })
    expect(attrs).toEqual({
      'audit.event.severity': 3,
      'audit.labels.team': 'ehr',
      'user.id': 'u',
      'audit.user.effective.id': 'v',
      'audit.user.effective.roles': ['r'],
      'audit.tags': ['a', 'b'],
      'audit.mixed': '["a",1]',
    })
  })

  it('turns very deep objects into one JSON string instead of recursing without end', () => {
    let deep: Record<string, unknown> = { leaf: 'x' }
    for (let i = 0; i < 20; i++) deep = { d: deep }
    const attrs = toAttributes({ audit: { deep } })
    const [name, value] = Object.entries(attrs)[0]!
    expect(name.startsWith('audit.deep.d.d.d')).toBe(true)
    expect(typeof value).toBe('string')
    expect(value).toContain('"leaf":"x"')
  })

  it('keeps audit.details as one string even when redaction replaced it with text', () => {
    expect(toAttributes({ audit: { details: '[Truncated]' } })).toEqual({ 'audit.details': '[Truncated]' })
  })

  it('pins one semantic-conventions version', () => {
    expect(SEMCONV_VERSION).toMatch(/^1\.\d+\.\d+$/)
    expect(SCHEMA_URL).toBe(`https://opentelemetry.io/schemas/${SEMCONV_VERSION}`)
  })

  it('only uses names the pinned semantic conventions define, none of them deprecated', () => {
    // @opentelemetry/semantic-conventions carries the version of the spec it is generated from; its
    // declaration files mark deprecated names with @deprecated in the doc comment before each constant.
    const require = createRequire(import.meta.url)
    const dist = dirname(require.resolve('@opentelemetry/semantic-conventions'))
    const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string }
    expect(pkg.version).toBe(SEMCONV_VERSION)
    const docs = new Map<string, string>()
    for (const file of ['stable_attributes.d.mts', 'experimental_attributes.d.mts']) {
      const text = readFileSync(join(dist, file), 'utf8')
      const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*declare const ATTR_[A-Z0-9_]+: "([^"]+)";/g
      for (const m of text.matchAll(re)) docs.set(m[2]!, m[1]!)
    }
    expect(docs.get('event.name')).toContain('@deprecated') // the check itself works
    const targets = ATTRIBUTE_TABLE.map(([, to]) => to).filter((to): to is string => typeof to === 'string')
    for (const name of targets) {
      if (name.startsWith('audit.')) continue
      const doc = docs.get(name)
      expect(doc, `${name} is not defined in semantic conventions ${SEMCONV_VERSION}`).toBeDefined()
      expect(doc, `${name} is deprecated in ${SEMCONV_VERSION}`).not.toContain('@deprecated')
    }
    // http.request.header.<key> is a template attribute (a function in the JS package).
    expect(readFileSync(join(dist, 'stable_attributes.d.mts'), 'utf8')).toContain(
      'ATTR_HTTP_REQUEST_HEADER: (key: string) => string',
    )
  })
})
