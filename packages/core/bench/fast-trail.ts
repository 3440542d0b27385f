/**
 * A large keyed stream, fast: the bulk records are written straight in canonical form (sorted keys,
 * so the line minus its MAC is exactly the MAC input) and sealed with the chain's own primitives
 * (sealKey for k[0], hmacSha256, nextKey), a few µs each instead of a logger's full path. The
 * genesis and closing records go through macInputOf like any record. Used by the verify benchmark
 * and the verifier's large-input test; that test checks the result verifies intact.
 */
import { randomBytes } from 'node:crypto'
import { macInputOf } from '../src/integrity/canonical'
import { hmacSha256, newStreamId, nextKey } from '../src/integrity/chain'
import { loadVerifierPublicKey, sealKey } from '../src/integrity/keys'

export interface FastTrailOptions {
  records: number
  /** Verifier public key (PEM). */
  publicKey: string
  start?: number
  /** ms between records. */
  step?: number
  streamId?: string
  /** Seals a closing record at the end (default true). */
  closed?: boolean
}

const INTERVAL = 60
const SERVICE = '"service":{"name":"patient-api","node":{"name":"pod-1"},"version":"1.0.0"}'
const FIELDS = '"fields":["@timestamp","audit","ecs","event","log","message","service","user"]'

/** Lines of one stream (no newlines), genesis first. */
export function* fastTrail(o: FastTrailOptions): Generator<string> {
  const stream = o.streamId ?? newStreamId()
  let key: Buffer = randomBytes(32)
  const sealed = sealKey(key, loadVerifierPublicKey(o.publicKey), stream)
  let t = o.start ?? Date.parse('2026-11-01T00:00:00Z')
  const step = o.step ?? 1
  let seq = 0
  let prev = ''

  const sealObject = (record: Record<string, unknown>, integrity: Record<string, unknown>) => {
    const fields = Object.keys(record).concat('audit').sort()
    const full = { ...record, audit: { integrity: { ...integrity, fields, stream, seq, v: 1 } } }
    const mac = hmacSha256(key, macInputOf(full, fields))
    ;(full.audit.integrity as Record<string, unknown>).mac = mac
    return { line: JSON.stringify(full), mac }
  }
  const advance = (mac: string) => {
    prev = mac
    const next = nextKey(key)
    key.fill(0)
    key = next
    seq++
  }
  const chainRecord = (action: string, type: string, mark: string) => ({
    '@timestamp': new Date(t).toISOString(),
    ecs: { version: '8.17.0' },
    event: { action, category: ['process'], kind: 'event', outcome: 'success', type: [type] },
    log: { level: 'info' },
    message: action,
    service: { name: 'patient-api', node: { name: 'pod-1' }, version: '1.0.0' },
    _mark: mark,
  })

  const g = chainRecord('audit-stream-start', 'start', 'start')
  delete (g as { _mark?: string })._mark
  const genesis = sealObject(g, { alg: 'hmac-sha256', interval: INTERVAL, key: sealed, mark: 'start' })
  yield genesis.line
  advance(genesis.mac)

  for (let i = 0; i < o.records; i++) {
    t += step
    const patient = `ps_${(i % 50_000).toString(16).padStart(24, '0')}`
    const head = `{"@timestamp":"${new Date(t).toISOString()}","audit":{"integrity":{${FIELDS},"`
    const integrityTail = `prev":"${prev}","seq":${seq},"stream":"${stream}","v":1}`
    const resource = `,"resource":{"id":"${patient}","type":"patient"}},"ecs":{`
    // ecs.version is shipper-owned (canonical.ts SHIPPER_OWNED): in the line, not in the MAC input.
    const rest = `},"event":{"action":"patient-record-read","category":["database"],"kind":"event","outcome":"success","type":["access"]},"log":{"level":"info"},"message":"patient-record-read patient success",${SERVICE},"user":{"id":"clinician-${i % 7}","roles":["clinician"]}}`
    const mac = hmacSha256(key, `${head}${integrityTail}${resource}${rest}`)
    yield `${head}mac":"${mac}","${integrityTail}${resource}"version":"8.17.0"${rest}`
    advance(mac)
  }

  if (o.closed !== false) {
    t += step
    const c = chainRecord('audit-stream-end', 'end', 'end')
    delete (c as { _mark?: string })._mark
    const closing = sealObject(c, { interval: INTERVAL, mark: 'end', prev })
    yield closing.line
    advance(closing.mac)
  }
  key.fill(0)
}
