// Runs the clinic API as a container would run it (stdout captured byte for byte), drives the
// scripted session plus hostile input, and checks every line against what Fluent Bit and
// Elasticsearch will do with it, and that no planted PHI, password or token reaches it.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { compilePolicy, pseudonymize } from '@boundary-audit/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { built, builtOf } from '../../../packages/core/test/built'
import { clearValuesNextToPseudonyms } from '../../../scripts/clear-ids.mjs'
import { ensurePostgres } from '../../../scripts/postgres.mjs'
import { startClinic } from '../src/launch.mjs'
import { plantedSecrets, runSession } from '../src/session.mjs'
import {
  CRI_MAX_LINE,
  criParse,
  criWrap,
  fluentBitDocument,
  fluentdDocument,
  mappedPaths,
  mappingProblems,
  parseStrictJson,
  SCALAR_TYPES,
} from './shipping-rules'

const root = join(import.meta.dirname, '../../..')
const template = JSON.parse(
  readFileSync(join(root, 'examples/k8s/elasticsearch/index-template.json'), 'utf8'),
)
const properties = template.template.mappings.properties
// The app and the CLI run on the built packages, as a container runs them (`npm test` builds first;
// a dist/ older than its src/ is refused): no TypeScript loader in the children.
const cli = built('cli.js')
for (const adapter of ['express', 'pg']) builtOf(join(root, 'packages', adapter), 'index.js')
const run = promisify(execFile)

let work: string
let pgServer: { connectionString: string; stop(): Promise<void> }
let schema: string
let raw: Buffer
let lines: Buffer[]
let tokens: string[]
let patientId: string
let privateKey: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'clinic-shipping-'))
  await run(process.execPath, [cli, 'keygen', '--out', join(work, 'keys')])
  privateKey = join(work, 'keys/verifier-private.pem')
  pgServer = await ensurePostgres()
  schema = `clinic_ship_${randomBytes(4).toString('hex')}`
  const logFile = join(work, 'audit.ndjson')
  const clinic = await startClinic({
    args: [join(root, 'examples/clinic-express/src/server.mjs')],
    cwd: root,
    stdoutFile: logFile,
    env: {
      DATABASE_URL: pgServer.connectionString,
      CLINIC_DB_SCHEMA: schema,
      BOUNDARY_AUDIT_VERIFIER_KEY: join(work, 'keys/verifier-public.pem'),
      BOUNDARY_AUDIT_PSEUDONYM_KEY: join(work, 'keys/pseudonym.key'),
      NODE_NO_WARNINGS: '1',
    },
  })
  try {
    const session = await runSession(clinic.url)
    tokens = session.tokens
    patientId = session.patientId
    await hostileRequests(clinic.url, session.patientId)
  } finally {
    const code = await clinic.stop('SIGTERM')
    expect(code, clinic.stderr()).toBe(0)
  }
  raw = readFileSync(logFile)
  const body = raw.subarray(0, raw.length - 1)
  lines = raw.length === 0 ? [] : splitLines(body)
}, 120_000)

afterAll(async () => {
  if (pgServer) {
    const client = new pg.Client({ connectionString: pgServer.connectionString })
    await client.connect()
    await client.query(`drop schema if exists ${schema} cascade`)
    await client.end()
    await pgServer.stop()
  }
  if (work) rmSync(work, { recursive: true, force: true })
})

/** Input an attacker or a careless client can send: control characters, huge values, bad encodings. */
async function hostileRequests(base: string, patientId: string) {
  const login = await fetch(new URL('/auth/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'gregory.house', password: 'vicodin-and-lupus' }),
  })
  const { access_token: token } = (await login.json()) as { access_token: string }
  tokens.push(token)
  const auth = { authorization: `Bearer ${token}` }
  const requests: [string, RequestInit?][] = [
    // newlines, ANSI escapes and a lone surrogate's UTF-8 in a path; PHI-looking values in the query
    [`/patients/${encodeURIComponent('x\n{"forged":true}\u001b[31m')}`],
    ['/patients/%ED%A0%80%C3%28'],
    [
      `/patients?family_name=${encodeURIComponent('Nakamura\n"},{"event":{"kind":"forged"}}')}&ssn=512-43-7788`,
    ],
    // a path and a header near Node's 16 KiB header limit (longer ones never reach the app)
    [`/patients/${'a'.repeat(12_000)}`],
    [`/patients/${patientId}`, { headers: { 'user-agent': `curl/${'9'.repeat(12_000)} 512-43-7788` } }],
    // a body that is not JSON and one that is too big
    [
      `/patients/${patientId}`,
      { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"phone":' },
    ],
    [
      `/patients/${patientId}`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ phone: '617-555-0142', note: 'x'.repeat(40_000) }),
      },
    ],
    ['/no-such-route/MRN-0012347'],
  ]
  for (const [path, init] of requests) {
    const res = await fetch(new URL(path, base), { ...init, headers: { ...auth, ...(init?.headers ?? {}) } })
    await res.arrayBuffer()
    expect(res.status).toBeGreaterThanOrEqual(200)
  }
}

/** `boundary-audit verify --key ... FILE`: exit code and report, never throws. */
async function verifyFile(file: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [cli, 'verify', '--key', privateKey, file])
    return { code: 0, stdout }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = []
  let start = 0
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      out.push(buf.subarray(start, i))
      start = i + 1
    }
  }
  out.push(buf.subarray(start))
  return out
}

describe('the lines the clinic API writes, as Fluent Bit reads them', () => {
  it('is a stream of newline-terminated lines, one JSON object each, with no duplicate keys', () => {
    expect(lines.length).toBeGreaterThan(30)
    expect(raw[raw.length - 1]).toBe(0x0a)
    for (const line of lines) {
      expect(line.length).toBeGreaterThan(0)
      expect(line.includes(0x0d)).toBe(false) // no \r either: Fluent Bit keeps it in the value
      const parsed = parseStrictJson(line.toString('utf8'))
      expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true)
    }
  })

  it('keeps every line within 16 KiB, so the runtime never splits one', () => {
    const longest = Math.max(...lines.map((l) => l.length))
    expect(longest).toBeLessThanOrEqual(CRI_MAX_LINE)
    // the 12 000-character path and user agent were recorded, and bounded
    const events = lines.map((l) => JSON.parse(l.toString('utf8')))
    const longPath = events.find((e) => e.url?.path?.startsWith('/patients/aaaa'))
    expect(longPath).toBeDefined()
    expect(longPath.url.path.length).toBeLessThan(12_000)
    const longAgent = events.find((e) => e.user_agent?.original?.startsWith('curl/999'))
    expect(longAgent).toBeDefined()
    expect(longAgent.user_agent.original.length).toBeLessThan(12_000)
  })

  it('is valid UTF-8', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true })
    for (const line of lines) expect(() => decoder.decode(line)).not.toThrow()
  })

  it('survives the CRI round trip: one F record per line, content unchanged', () => {
    for (const line of lines) {
      const cri = criWrap(line)
      expect(cri).toHaveLength(1)
      const [record] = criParse(cri)
      expect(record!.pieces).toBe(1)
      expect(record!.log).toBe(line.toString('utf8'))
    }
    // and the parser is the real thing: a 40 KiB line comes back from three pieces
    const big = Buffer.from(`{"m":"${'x'.repeat(40 * 1024)}"}`)
    const pieces = criWrap(big)
    expect(pieces.map((p) => p.split(' ')[2])).toEqual(['P', 'P', 'F'])
    expect(criParse(pieces)[0]!.log).toBe(big.toString('utf8'))
  })

  it('carries the forged newline only as an escaped string, never as a second event', () => {
    const events = lines.map((l) => JSON.parse(l.toString('utf8')))
    expect(events.some((e) => e.forged !== undefined || e.event?.kind === 'forged')).toBe(false)
    expect(events.filter((e) => e.event?.kind !== 'event' && e.event?.kind !== 'state')).toEqual([])
  })
})

describe('the documents Fluent Bit sends, against the Elasticsearch index template', () => {
  it('uses only mapping types the template check understands, and no field twice', () => {
    const paths = mappedPaths(properties)
    for (const [path, type] of paths) {
      if (type !== 'object') expect(SCALAR_TYPES.has(type), `${path}: ${type}`).toBe(true)
    }
    expect(template.index_patterns).toEqual(['boundary-audit-*'])
    expect(template.template.mappings.dynamic).toBe(false)
    expect(paths.get('@timestamp')).toBe('date')
    expect(paths.get('event.duration')).toBe('long')
    expect(paths.get('source.ip')).toBe('ip')
    expect(paths.get('client.ip')).toBe('ip')
    expect(paths.get('audit.details')).toBe('flattened')
  })

  it('maps every field of every document, with values of the mapped kind', () => {
    const problems: string[] = []
    const seen = new Set<string>()
    for (const line of lines) {
      const [cri] = criParse(criWrap(line))
      const doc = fluentBitDocument(cri!.log, cri!)
      expect(doc).toBeDefined()
      for (const p of mappingProblems(doc!, properties)) problems.push(p)
      for (const key of Object.keys(doc!)) seen.add(key)
    }
    expect([...new Set(problems)]).toEqual([])
    // the documents did exercise the interesting parts of the template
    for (const top of ['user', 'db', 'http', 'url', 'audit', 'source', 'kubernetes', 'event.ingested']) {
      expect(seen.has(top), top).toBe(true)
    }
  })

  it('finds a wrong kind of value or an unmapped field (the check is not vacuous)', () => {
    const doc = {
      '@timestamp': 'yesterday',
      event: { duration: 1.5, kind: 'event' },
      source: { ip: 'not-an-ip' },
      user: 'bob',
      surprise: 1,
    }
    const problems = mappingProblems(doc, properties)
    expect(problems).toEqual([
      expect.stringContaining('@timestamp: not an ISO 8601 date'),
      expect.stringContaining('event.duration: long expects an integer'),
      expect.stringContaining('source.ip: not an IP address'),
      expect.stringContaining('user: mapped as an object'),
      expect.stringContaining('surprise: not in the index template'),
    ])
  })

  it('maps every field of the documents Fluentd sends too', () => {
    const problems: string[] = []
    for (const line of lines) {
      const [criLine] = criWrap(line)
      const doc = fluentdDocument(criLine!)
      expect(doc).toBeDefined()
      expect(doc!['@timestamp']).toBeTypeOf('string') // keep_time_key: the chain covers it
      problems.push(...mappingProblems(doc!, properties))
    }
    expect([...new Set(problems)]).toEqual([])
  })

  it('verifies an Elasticsearch export (search response, documents in any order) as intact', async () => {
    const hits = lines.map((line, i) => {
      const [cri] = criParse(criWrap(line))
      return {
        _index: '.ds-boundary-audit-clinic-2026.11.29-000001',
        _id: `d${i}`,
        _source: fluentBitDocument(cri!.log, cri!),
      }
    })
    // Elasticsearch returns documents in its own order: shuffle deterministically
    const shuffled = hits
      .map((h, i) => ({ h, k: (i * 7919) % hits.length }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.h)
    const file = join(work, 'export.json')
    writeFileSync(
      file,
      JSON.stringify({ took: 3, timed_out: false, hits: { total: { value: hits.length }, hits: shuffled } }),
    )
    const result = await verifyFile(file)
    expect(result.code, result.stdout).toBe(0)
    expect(result.stdout).toMatch(/intact/)
    // and the same export with one document's actor changed is caught
    const forged = structuredClone(shuffled)
    const read = forged.find((h) => (h._source as any)?.event?.action === 'patient-record-read')!
    ;(read._source as any).user.id = 'someone-else'
    writeFileSync(file, JSON.stringify({ hits: { hits: forged } }))
    const tampered = await verifyFile(file)
    expect(tampered.code, tampered.stdout).toBe(1)
    expect(tampered.stdout).toMatch(/MODIFIED/)
  })

  it('still verifies as intact after Fluent Bit reshaped every record', async () => {
    const docs = lines.map((line) => {
      const [cri] = criParse(criWrap(line))
      return JSON.stringify(fluentBitDocument(cri!.log, cri!))
    })
    const file = join(work, 'as-shipped.ndjson')
    writeFileSync(file, `${docs.join('\n')}\n`)
    const result = await verifyFile(file)
    expect(result.code, result.stdout).toBe(0)
    expect(result.stdout).toMatch(/intact/)
  })
})

describe('PHI planted in the session', () => {
  it('never appears in the captured log', () => {
    const log = raw.toString('utf8').toLowerCase()
    const leaked = plantedSecrets().filter((s) => log.includes(s.toLowerCase()))
    expect(leaked).toEqual([])
  })

  it('nor does a patient id in clear, even on requests refused before the handler', () => {
    expect(patientId).toMatch(/^[0-9a-f-]{36}$/)
    expect(raw.toString('utf8').includes(patientId)).toBe(false)
  })

  it('nor a clear value next to its pseudonym, in any field of any request', () => {
    const policy = compilePolicy({ pseudonymKey: join(work, 'keys/pseudonym.key') }, {})
    const text = raw.toString('utf8').trim().split('\n')
    expect(text.join('\n')).toMatch(/ps_[0-9a-f]{6}_[0-9a-f]{24}/)
    expect(clearValuesNextToPseudonyms(text, (v) => pseudonymize(v, policy, 'resource'))).toEqual([])
  })

  it('nor do the bearer tokens, or any part of them', () => {
    const log = raw.toString('utf8')
    expect(tokens.length).toBeGreaterThan(2)
    for (const token of tokens) {
      for (const part of token.split('.')) expect(log.includes(part)).toBe(false)
    }
  })
})
