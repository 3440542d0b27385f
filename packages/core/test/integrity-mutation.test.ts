/**
 * Mutation test of the integrity chain (issue 7): a log of thousands of events across several
 * streams (synthetic streams from createChain, plus one from the real logger), then every kind of
 * tampering, each of which must be detected and named, and every benign transformation a logging
 * stack performs, none of which may be reported.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuditLogger } from '../src/index'
import { expandKeys } from '../src/integrity/canonical'
import {
  type Chain,
  createChain,
  generateVerifierKeyPair,
  hmacSha256,
  loadVerifierPrivateKey,
  loadVerifierPublicKey,
  macInputOf,
  nextKey,
  sealKey,
  unsealKey,
} from '../src/integrity/index'
import { type Finding, type VerifyReport, verifyLines } from '../src/integrity/verify'

const pair = generateVerifierKeyPair()
const privateKey = pair.privateKeyPem
const INTERVAL = 60
const dir = mkdtempSync(join(tmpdir(), 'ba-mutation-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type Obj = Record<string, any>

interface Stream {
  id: string
  lines: string[]
}

/** A synthetic stream: `events` records about 0.5 s apart, checkpoints every INTERVAL s, closed unless `crash`. */
function makeStream(opts: {
  instance: string
  start: number
  events: number
  stateFile?: string
  crash?: boolean
  keyed?: boolean
}): Stream {
  let t = opts.start
  const chain: Chain = createChain({
    service: { name: 'patient-api', instance: opts.instance },
    verifierKey: opts.keyed === false ? undefined : pair.publicKeyPem,
    checkpointIntervalSeconds: INTERVAL,
    stateFile: opts.stateFile,
    now: () => t,
    // Format 1 (one key per record): this suite re-MACs records by hand; format 2 has its own (integrity-v2.test.ts).
    version: 1,
  })
  const service = {
    name: 'patient-api',
    node: { name: opts.instance },
    version: '1.4.2',
    environment: 'prod',
  }
  const finish = (r: Obj) => ({ ...r, 'ecs.version': '8.17.0', service })
  const lines = [chain.seal(finish(chain.genesis()))]
  let nextCheckpoint = t + INTERVAL * 1000
  for (let i = 0; i < opts.events; i++) {
    t += 300 + ((i * 7919) % 400)
    while (t >= nextCheckpoint) {
      const saved = t
      t = nextCheckpoint
      lines.push(chain.seal(finish(chain.checkpoint())))
      t = saved
      nextCheckpoint += INTERVAL * 1000
    }
    lines.push(chain.seal(event(i, t, service)))
  }
  if (!opts.crash) {
    t += 200
    lines.push(chain.seal(finish(chain.closing())))
  }
  return { id: chain.streamId, lines }
}

function event(i: number, t: number, service: Obj): Obj {
  const kind = i % 4
  const base: Obj = {
    '@timestamp': new Date(t).toISOString(),
    'log.level': kind === 3 ? 'warn' : 'info',
    message: '',
    'ecs.version': '8.17.0',
    event: { kind: 'event', id: `evt-${i}`, outcome: kind === 3 ? 'failure' : 'success' },
    service,
    user: { id: `clinician-${i % 13}`, roles: ['clinician'], domain: 'https://idp.example.org' },
    trace: { id: (i * 2654435761).toString(16).padStart(32, '0').slice(-32) },
  }
  if (kind === 0) {
    base.message = `GET /patients/:id 200`
    Object.assign(base.event, {
      category: ['web'],
      type: ['access'],
      action: 'http-request',
      duration: 1_250_000 + i,
    })
    base.http = {
      request: { method: 'GET', id: `req-${i}` },
      response: { status_code: 200 },
      route: '/patients/:id',
    }
    base.url = { path: '/patients/[REDACTED:id]' }
    base.source = { ip: '10.0.0.7' }
  } else if (kind === 1) {
    base.message = 'SELECT patients'
    Object.assign(base.event, { category: ['database'], type: ['access'], action: 'db-query' })
    base.db = {
      system: { name: 'postgresql' },
      operation: { name: 'SELECT' },
      collection: { name: 'patients' },
      query: { text: 'SELECT * FROM patients WHERE id = $1', summary: 'SELECT patients' },
      response: { returned_rows: 1 },
    }
  } else if (kind === 2) {
    base.message = 'patient-record-read'
    Object.assign(base.event, { category: ['database'], type: ['access'], action: 'patient-record-read' })
    base.audit = { resource: { type: 'patient', id: `psn_${i}` }, purpose: 'treatment' }
  } else {
    base.message = 'login failed: bad password ünïcødé "quoted" \\ \u2028'
    Object.assign(base.event, {
      category: ['authentication'],
      type: ['start'],
      action: 'user-login',
      reason: 'bad-password',
    })
  }
  return base
}

/** Merges streams into one log ordered by time, as an export sorted on @timestamp would be. */
function merge(streams: Stream[]): string[] {
  const all = streams.flatMap((s, si) =>
    s.lines.map((line, i) => ({ line, t: Date.parse(JSON.parse(line)['@timestamp']), si, i })),
  )
  all.sort((a, b) => a.t - b.t || a.si - b.si || a.i - b.i)
  return all.map((x) => x.line)
}

const seqOf = (line: string) => JSON.parse(line).audit.integrity.seq as number
const streamOf = (line: string) => JSON.parse(line).audit.integrity.stream as string
const markOf = (line: string) => JSON.parse(line).audit.integrity.mark as string | undefined

function verify(lines: string[], opts: Obj = {}): VerifyReport {
  return verifyLines(lines, { privateKey, ...opts })
}

function kinds(report: VerifyReport, stream?: string): string[] {
  return report.findings.filter((f) => stream === undefined || f.stream === stream).map((f) => f.kind)
}

/** Findings on stream B, after checking the other streams show only the baseline (A never closed). */
function onB(report: VerifyReport): Finding[] {
  const other = report.findings.filter((f) => f.stream !== B.id).map((f) => [f.stream, f.kind])
  expect(other, 'untouched streams keep their baseline').toEqual([[A.id, 'never-closed']])
  return report.findings.filter((f) => f.stream === B.id)
}

/**
 * What an attacker holding only the public key can do: build a whole new chain under an existing
 * stream id (fresh k[0] sealed to the verifier key), from the given records.
 */
function forgeStream(id: string, records: Obj[]): string[] {
  let k: Buffer = randomBytes(32)
  const sealed = sealKey(k, loadVerifierPublicKey(pair.publicKeyPem), id)
  let prev: string | undefined
  return records.map((rec, seq) => {
    const integrity: Obj = { v: 1, stream: id, seq }
    if (seq === 0)
      Object.assign(integrity, { alg: 'hmac-sha256', key: sealed, interval: INTERVAL, mark: 'start' })
    else integrity.prev = prev
    rec.audit = { ...rec.audit, integrity }
    const fields = Object.keys(expandKeys(rec)).sort()
    integrity.fields = fields
    integrity.mac = hmacSha256(k, macInputOf(rec, fields))
    prev = integrity.mac
    k = nextKey(k)
    return JSON.stringify(rec)
  })
}

let A: Stream // instance a, crashed (never closed)
let A2: Stream // instance a after the restart: names A as previous
let B: Stream
let C: Stream
let L: Stream // from the real logger
let log: string[]
let T0: number

beforeAll(async () => {
  T0 = Date.now() - 2 * 3600_000
  const state = join(dir, 'a.state')
  A = makeStream({ instance: 'pod-a', start: T0, events: 900, stateFile: state, crash: true })
  A2 = makeStream({ instance: 'pod-a', start: T0 + 600_000, events: 900, stateFile: state })
  B = makeStream({ instance: 'pod-b', start: T0 + 1000, events: 1200 })
  C = makeStream({ instance: 'pod-c', start: T0 + 2000, events: 1000 })

  const captured: string[] = []
  const audit = createAuditLogger({
    service: { name: 'patient-api', instance: 'pod-d' },
    destination: { write: (l: string) => captured.push(l) },
    integrity: { verifierKey: pair.publicKeyPem, checkpointIntervalSeconds: INTERVAL },
  })
  for (let i = 0; i < 300; i++) {
    audit.access({
      action: 'patient-record-read',
      resource: { type: 'patient', id: `mrn-${i}` },
      outcome: 'success',
      actor: { id: `u${i % 5}` },
    })
  }
  await audit.close()
  const lines = captured.join('').split('\n').filter(Boolean)
  L = { id: streamOf(lines[0]!), lines }
  log = merge([A, A2, B, C, L])
})

describe('the untouched log', () => {
  it('holds thousands of records in five streams', () => {
    expect(log.length).toBeGreaterThan(4000)
    expect(new Set(log.map(streamOf)).size).toBe(5)
  })

  it('verifies intact, apart from the crashed stream, which is named as never closed', () => {
    const r = verify(log)
    expect(r.findings.map((f) => [f.stream === A.id, f.kind])).toEqual([[true, 'never-closed']])
    const a = r.streams.find((s) => s.stream === A.id)!
    expect(a.findings[0]!.message).toContain(A2.id)
    const a2 = r.streams.find((s) => s.stream === A2.id)!
    expect(a2.previous).toMatchObject({ stream: A.id, closed: false, present: true })
    for (const s of r.streams.filter((s) => s.stream !== A.id)) {
      expect(s.status).toBe('intact')
      expect(s.authenticated).toBe(true)
      expect(s.intact).toEqual([[0, s.lastSeq]])
    }
    expect(r.streams.find((s) => s.stream === L.id)).toMatchObject({
      service: 'patient-api',
      instance: 'pod-d',
    })
  })

  it('verifies exit 0 without the crashed stream', () => {
    const r = verify(merge([B, C, L]))
    expect(r.findings).toEqual([])
    expect(r.exitCode).toBe(0)
    expect(r.ok).toBe(true)
  })
})

/** Index in `log` of the n-th record (by seq) of a stream. */
function at(stream: Stream, seq: number): number {
  const line = stream.lines.find((l) => seqOf(l) === seq)!
  return log.indexOf(line)
}

describe('tampering is detected and named', () => {
  const seqMid = 500

  it('an edited field: modified', () => {
    const m = [...log]
    const i = at(B, seqMid)
    const r0 = JSON.parse(m[i]!)
    r0.user.id = 'someone-else'
    m[i] = JSON.stringify(r0)
    const r = verify(m)
    const f = onB(r)
    expect(f.map((x) => [x.kind, x.seq])).toEqual([['modified', seqMid]])
    expect(f[0]!.message).toContain('changed after it was written')
    expect(f[0]!.lines).toEqual([i + 1])
    expect(r.exitCode).toBe(1)
  })

  it('a deleted record: deleted, with its seq', () => {
    const drop = at(B, seqMid)
    const m = log.filter((_, i) => i !== drop)
    const f = onB(verify(m))
    expect(f.map((x) => [x.kind, x.from, x.to])).toEqual([['deleted', seqMid, seqMid]])
  })

  it('a deleted range: deleted, with the range', () => {
    const drop = new Set(B.lines.filter((l) => seqOf(l) >= 300 && seqOf(l) <= 340))
    const f = onB(verify(log.filter((l) => !drop.has(l))))
    expect(f.map((x) => x.kind)).toContain('deleted')
    expect(f.find((x) => x.kind === 'deleted')).toMatchObject({ from: 300, to: 340 })
  })

  it('two records swapped: reordered, naming both', () => {
    const m = [...log]
    const i = at(B, 200)
    const j = at(B, 260)
    ;[m[i], m[j]] = [m[j]!, m[i]!]
    const f = onB(verify(m))
    expect(f.map((x) => x.kind)).toEqual(['reordered'])
    expect(f[0]!.message).toMatch(/seq 200, 260/)
  })

  it('a forged record with an existing seq: inserted', () => {
    const m = [...log]
    const i = at(B, seqMid)
    const forged = JSON.parse(m[i]!)
    forged.message = 'logout'
    forged.event.action = 'user-logout'
    m.splice(i + 1, 0, JSON.stringify(forged))
    const f = onB(verify(m))
    expect(f.map((x) => [x.kind, x.seq])).toEqual([['inserted', seqMid]])
  })

  it('a forged record after the closing record: inserted', () => {
    const last = B.lines[B.lines.length - 1]!
    const forged = JSON.parse(last)
    forged.audit.integrity.seq += 1
    forged.audit.integrity.prev = forged.audit.integrity.mac
    forged.message = 'after the end'
    const f = onB(verify([...log, JSON.stringify(forged)]))
    expect(f.map((x) => x.kind)).toEqual(['inserted'])
  })

  it('a record modified and re-MACed with a later key (process taken over later): remacked', () => {
    // The attacker took the process at seq 900 and so holds k[900]; it rewrites seq 500.
    const genesis = JSON.parse(B.lines[0]!)
    let k: Buffer = unsealKey(genesis.audit.integrity.key, loadVerifierPrivateKey(privateKey), B.id)
    for (let s = 0; s < 900; s++) k = nextKey(k)
    const m = [...log]
    const i = at(B, seqMid)
    const rec = JSON.parse(m[i]!)
    rec.user.id = 'cover-up'
    rec.audit.integrity.mac = hmacSha256(k, macInputOf(rec, rec.audit.integrity.fields))
    m[i] = JSON.stringify(rec)
    const f = onB(verify(m))
    expect(f.map((x) => [x.kind, x.seq, x.keySeq])).toEqual([['remacked', seqMid, 900]])
  })

  it('a record re-MACed with a recomputed unkeyed hash: modified', () => {
    const m = [...log]
    const i = at(B, seqMid)
    const rec = JSON.parse(m[i]!)
    rec.user.id = 'cover-up'
    rec.audit.integrity.mac = createHash('sha256')
      .update(macInputOf(rec, rec.audit.integrity.fields))
      .digest('base64url')
    m[i] = JSON.stringify(rec)
    const f = onB(verify(m))
    expect(f.map((x) => [x.kind, x.seq])).toEqual([['modified', seqMid]])
    expect(f[0]!.message).toContain('content and MAC were changed')
  })

  it('a truncated tail: truncated-tail', () => {
    const cut = new Set(B.lines.slice(-150))
    const f = onB(verify(log.filter((l) => !cut.has(l))))
    expect(f.map((x) => x.kind)).toEqual(['truncated-tail'])
    expect(f[0]!.seq).toBe(seqOf(B.lines[B.lines.length - 151]!))
  })

  it('a truncated tail of a single-stream export, with --until: truncated-tail', () => {
    const lines = C.lines.slice(0, -300)
    expect(verify(lines).findings).toEqual([]) // nothing after it in the input: looks live
    const until = Date.parse(JSON.parse(C.lines[C.lines.length - 1]!)['@timestamp'])
    expect(kinds(verify(lines, { until }))).toEqual(['truncated-tail'])
  })

  it('a dropped checkpoint: deleted, and checkpoint-missing', () => {
    const cp = B.lines.filter((l) => markOf(l) === 'checkpoint')[3]!
    const f = onB(verify(log.filter((l) => l !== cp)))
    expect(f.map((x) => x.kind).sort()).toEqual(['checkpoint-missing', 'deleted'])
    expect(f.find((x) => x.kind === 'deleted')).toMatchObject({ from: seqOf(cp), to: seqOf(cp) })
  })

  it('a deleted genesis: genesis-missing (cannot be authenticated)', () => {
    const f = onB(verify(log.filter((l) => l !== B.lines[0])))
    expect(f.map((x) => x.kind)).toContain('genesis-missing')
  })

  it('an altered sealed key: genesis-invalid', () => {
    const m = [...log]
    const i = log.indexOf(B.lines[0]!)
    const g = JSON.parse(m[i]!)
    const ct = Buffer.from(g.audit.integrity.key.ct, 'base64url')
    ct[3]! ^= 1
    g.audit.integrity.key.ct = ct.toString('base64url')
    m[i] = JSON.stringify(g)
    expect(kinds(verify(m), B.id)).toContain('genesis-invalid')
  })

  it('the tail of a crashed stream deleted up to its last checkpoint: deleted (the successor knows how far it got)', () => {
    const lastCp = A.lines.filter((l) => markOf(l) === 'checkpoint').at(-1)!
    const cut = new Set(A.lines.slice(A.lines.indexOf(lastCp) - 5))
    const f = verify(log.filter((l) => !cut.has(l))).findings.filter((x) => x.stream === A.id)
    expect(f.map((x) => x.kind).sort()).toEqual(['deleted', 'never-closed'])
    expect(f.find((x) => x.kind === 'deleted')!.to).toBe(seqOf(lastCp))
  })

  it('a whole stream rewritten under a fresh key sealed to the public key: lineage-mismatch on its successor', () => {
    // Every MAC of the forged stream checks out (the public key is public); the next stream of the
    // same instance still names the MAC the real stream had at its last checkpoint.
    const records = A.lines.map((l) => {
      const r = JSON.parse(l)
      delete r.audit.integrity
      if (Object.keys(r.audit).length === 0) delete r.audit
      return r
    })
    records[200].user.id = 'cover-up'
    const forged = forgeStream(A.id, records)
    const m = log.filter((l) => !A.lines.includes(l)).concat(forged)
    const r = verify(m)
    const a = r.streams.find((s) => s.stream === A.id)!
    expect(a.authenticated).toBe(true)
    expect(kinds(r, A2.id)).toEqual(['lineage-mismatch'])
    expect(r.exitCode).toBe(1)
  })
})

describe('benign transformations are not reported', () => {
  const clean = () => merge([B, C, L])

  function expectClean(lines: string[], opts: Obj = {}) {
    const r = verify(lines, opts)
    expect(r.findings).toEqual([])
    expect(r.exitCode).toBe(0)
    expect(r.input.records - r.input.duplicates).toBe(clean().length)
    return r
  }

  function deepReverse(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(deepReverse)
    if (v && typeof v === 'object') {
      const out: Obj = {}
      for (const k of Object.keys(v).reverse()) out[k] = deepReverse((v as Obj)[k])
      return out
    }
    return v
  }

  it('re-serialisation with other whitespace', () => {
    expectClean(clean().map((l) => JSON.stringify(JSON.parse(l), null, 2).replace(/\n\s*/g, ' ')))
  })

  it('keys re-ordered at every level', () => {
    expectClean(clean().map((l) => JSON.stringify(deepReverse(JSON.parse(l)))))
  })

  it('dotted keys expanded and Filebeat / ingest fields added (log.file, log.offset, ecs.version, event.ingested)', () => {
    expectClean(
      clean().map((l) => {
        const r = JSON.parse(l)
        const level = r['log.level']
        delete r['log.level']
        delete r['ecs.version']
        r.log = { level, file: { path: '/var/log/containers/x.log' }, offset: 1234 }
        r.ecs = { version: '8.0.0' }
        r.event.ingested = '2026-11-29T03:00:00Z'
        r.agent = { type: 'filebeat' }
        r.host = { name: 'node-1' }
        return JSON.stringify(r)
      }),
    )
  })

  it('duplicated lines (at-least-once delivery), including late redeliveries', () => {
    const lines = clean()
    const dup: string[] = []
    lines.forEach((l, i) => {
      dup.push(l)
      if (i % 10 === 0) dup.push(l)
    })
    dup.push(...lines.slice(100, 160))
    const r = expectClean(dup)
    expect(r.input.duplicates).toBe(Math.ceil(lines.length / 10) + 60)
  })

  it('Kubernetes metadata and shipper fields added at the top level', () => {
    expectClean(
      clean().map((l, i) =>
        JSON.stringify({
          ...JSON.parse(l),
          kubernetes: {
            pod_name: 'patient-api-7d9f',
            namespace_name: 'clinical',
            labels: { app: 'patient-api' },
          },
          stream: 'stdout',
          time: '2026-11-29T01:00:00.000000001Z',
          tag: 'kube.var.log.containers.patient-api',
          _id: `doc-${i}`,
        }),
      ),
    )
  })

  it('Fluent Bit Merge_Log with Keep_Log On (record merged, raw line kept under "log"), event.original added', () => {
    expectClean(
      clean().map((l) => {
        const r = JSON.parse(l)
        return JSON.stringify({ ...r, log: `${l}\n`, event: { ...r.event, original: l }, stream: 'stdout' })
      }),
    )
  })

  it('CRI log lines, long lines split into partial (P) lines', () => {
    const cri = clean().flatMap((l, i) => {
      const ts = '2026-11-29T01:00:00.123456789Z'
      if (i % 7 !== 0) return [`${ts} stdout F ${l}`]
      const a = l.slice(0, 100)
      const b = l.slice(100, 250)
      const c = l.slice(250)
      return [`${ts} stdout P ${a}`, `${ts} stdout P ${b}`, `${ts} stdout F ${c}`]
    })
    expectClean(cri)
  })

  it('Fluentd / Docker json-file wrapping (JSON string under "log"), with Docker partial lines', () => {
    const wrapped = clean().flatMap((l, i) => {
      const time = '2026-11-29T01:00:00.123456789Z'
      if (i % 11 !== 0) return [JSON.stringify({ log: `${l}\n`, stream: 'stdout', time })]
      return [
        JSON.stringify({ log: l.slice(0, 120), stream: 'stdout', time }),
        JSON.stringify({ log: `${l.slice(120)}\n`, stream: 'stdout', time }),
      ]
    })
    expectClean(wrapped)
    // Fluentd out_file: time<TAB>tag<TAB>record
    expectClean(
      clean().map(
        (l) => `2026-11-29T01:00:00+00:00\tkube.patient-api\t${JSON.stringify({ log: l, stream: 'stdout' })}`,
      ),
    )
  })

  it('Elasticsearch export: hits with _source, in any order, and a pretty-printed search response', () => {
    const hits = clean().map((l, i) => ({
      _index: 'audit-2026.11.29',
      _id: `id${i}`,
      _score: null,
      _source: JSON.parse(l),
    }))
    const shuffled = hits
      .map((h, i) => ({ h, k: (i * 7919) % 1009 }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.h)
    expectClean(shuffled.map((h) => JSON.stringify(h)))
    const response = JSON.stringify(
      { took: 5, timed_out: false, hits: { total: { value: hits.length }, hits: shuffled } },
      null,
      2,
    )
    expectClean(response.split('\n'))
  })

  it('non-audit lines in between are skipped and counted', () => {
    const lines = clean().flatMap((l, i) =>
      i % 50 === 0 ? [l, 'plain text from another container', '{"level":30,"msg":"pino"}'] : [l],
    )
    const r = expectClean(lines)
    expect(r.input.skipped).toBe(Math.ceil(clean().length / 50))
    expect(r.input.unparsable).toBe(Math.ceil(clean().length / 50))
  })
})

describe('unkeyed chains', () => {
  it('verify says unauthenticated, and still catches accidental damage', () => {
    const U = makeStream({ instance: 'pod-u', start: Date.now() - 3600_000, events: 400, keyed: false })
    const r = verifyLines(U.lines)
    expect(r.exitCode).toBe(0)
    expect(r.streams[0]!.status).toBe('unauthenticated')
    expect(r.summary).toMatch(/unauthenticated/)
    const m = [...U.lines]
    m[100] = m[100]!.replace('"clinician"', '"nurse"')
    expect(kinds(verifyLines(m))).toEqual(['modified'])
    // With a verifier key in hand, an unkeyed stream is itself a finding.
    expect(kinds(verifyLines(U.lines, { privateKey }))).toEqual(['unauthenticated'])
  })
})
