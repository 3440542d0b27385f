/**
 * A large keyed stream, fast: the bulk records are written straight in canonical form (sorted keys)
 * and sealed with the chain's own primitives (sealKey for k[0], sha256Text for links, hmacSha256,
 * nextKey), a few µs each instead of a logger's full path. The genesis and closing records go
 * through macInputOf like any record. Used by the verify benchmark and the verifier's large-input
 * test; that test checks the result verifies intact.
 *
 * Chain format 2 (the default, what the SDK writes): the line is what the sealing thread writes for
 * an audit.access() record (dotted `ecs.version` and `log.level`, an event id, a request id), and
 * epochs hold `epochRecords` records (default 87: the sealing thread ends an epoch with every 64 KiB
 * chunk it writes, about 87 lines of this size under load; at most 1,000). The chain's own records
 * are epochs of their own, as the sealer writes them. Format 1 (`version: 1`): one key per record.
 */
import { randomBytes } from 'node:crypto'
import { fieldsValueV2, macInputOf } from '../src/integrity/canonical'
import {
  hmacSha256,
  LINK_CHARS,
  MAX_EPOCH_RECORDS,
  newStreamId,
  nextKey,
  sha256Text,
} from '../src/integrity/chain'
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
  /** Chain format (default 2). */
  version?: 1 | 2
  /** Format 2: records per epoch (default EPOCH_RECORDS). */
  epochRecords?: number
}

/** Lines of about 740 bytes in the sealing thread's 64 KiB chunks: the epoch size under load. */
export const EPOCH_RECORDS = 87

const INTERVAL = 60
const SERVICE = '"service":{"name":"patient-api","node":{"name":"pod-1"},"version":"1.0.0"}'
const FIELDS = '"fields":["@timestamp","audit","ecs","event","log","message","service","user"]'

/** Lines of one stream (no newlines), genesis first. */
export function fastTrail(o: FastTrailOptions): Generator<string> {
  return o.version === 1 ? fastTrailV1(o) : fastTrailV2(o)
}

function* fastTrailV1(o: FastTrailOptions): Generator<string> {
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

const NAMES_V2 = [
  '@timestamp',
  'audit',
  'client',
  'ecs',
  'event',
  'http',
  'log',
  'message',
  'service',
  'user',
]
const CHAIN_NAMES_V2 = ['@timestamp', 'audit', 'ecs', 'event', 'log', 'message', 'service']

/** A 36-character id (an event or request id) from a counter: unique, the shape of a UUID. */
function uuidOf(n: number, salt: number): string {
  const h = (n * 2654435761 + salt) >>> 0
  const x = `${h.toString(16).padStart(8, '0')}${n.toString(16).padStart(24, '0')}`
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-a${x.slice(17, 20)}-${x.slice(20, 32)}`
}

function* fastTrailV2(o: FastTrailOptions): Generator<string> {
  const stream = o.streamId ?? newStreamId()
  const perEpoch = Math.max(1, Math.min(MAX_EPOCH_RECORDS, o.epochRecords ?? EPOCH_RECORDS))
  let key: Buffer = randomBytes(32)
  const sealed = sealKey(key, loadVerifierPublicKey(o.publicKey), stream)
  let t = o.start ?? Date.parse('2026-11-01T00:00:00Z')
  const step = o.step ?? 1
  let seq = 0
  let epoch = 0
  let from = 0
  let prev = ''
  const seal = (digest: string): string => {
    const mac = hmacSha256(key, `2.${epoch}.${from}.${digest}`)
    const next = nextKey(key)
    key.fill(0)
    key = next
    return mac
  }
  const endEpoch = () => {
    epoch++
    from = seq
  }

  /** A chain record (genesis, closing) as an epoch of its own. */
  const chainLine = (action: string, type: string, mark: string, extra: Record<string, unknown>) => {
    const integrity: Record<string, unknown> = {
      ...extra,
      fields: JSON.parse(fieldsValueV2(CHAIN_NAMES_V2)),
      mark,
      seq,
      stream,
      v: 2,
    }
    if (prev !== '') integrity.prev = prev
    const record = {
      '@timestamp': new Date(t).toISOString(),
      audit: { integrity },
      'ecs.version': '8.17.0',
      event: { action, category: ['process'], kind: 'event', outcome: 'success', type: [type] },
      'log.level': 'info',
      message: action,
      service: { name: 'patient-api', node: { name: 'pod-1' }, version: '1.0.0' },
    }
    const digest = sha256Text(macInputOf(record, CHAIN_NAMES_V2, 2))
    integrity.epoch = epoch
    integrity.from = from
    integrity.mac = seal(digest)
    prev = digest.slice(0, LINK_CHARS)
    seq++
    endEpoch()
    return JSON.stringify(record)
  }

  yield chainLine('audit-stream-start', 'start', 'start', {
    alg: 'hmac-sha256',
    interval: INTERVAL,
    key: sealed,
  })

  const fields = fieldsValueV2(NAMES_V2)
  for (let i = 0; i < o.records; i++) {
    t += step
    const patient = `ps_4e1a7c_${(i % 50_000).toString(16).padStart(24, '0')}`
    const head = `{"@timestamp":"${new Date(t).toISOString()}","audit":{"integrity":{`
    const ints = `"fields":${fields},"prev":"${prev}","seq":${seq},"stream":"${stream}","v":2}`
    const mid = `,"purpose":"treatment","resource":{"id":"${patient}","type":"patient"}},"client":{"ip":"10.2.${(i >> 8) & 255}.${i & 255}"},`
    const event = `"event":{"action":"patient-record-read","category":["database"],"id":"${uuidOf(i, 1)}","kind":"event","outcome":"success","type":["access"]},"http":{"request":{"id":"${uuidOf(i, 2)}"}},`
    const rest = `"message":"patient-record-read patient success",${SERVICE},"user":{"id":"clinician-${i % 7}","roles":["clinician"]}}`
    const digest = sha256Text(`${head}${ints}${mid}"ecs":{},${event}"log":{"level":"info"},${rest}`)
    prev = digest.slice(0, LINK_CHARS)
    seq++
    const tail = `${mid}"ecs.version":"8.17.0",${event}"log.level":"info",${rest}`
    if (seq - from >= perEpoch || i === o.records - 1) {
      const sealedInts = `"epoch":${epoch},"fields":${fields},"from":${from},"mac":"${seal(digest)}",${ints.slice(ints.indexOf('"prev"'))}`
      endEpoch()
      yield `${head}${sealedInts}${tail}`
    } else yield `${head}${ints}${tail}`
  }

  if (o.closed !== false) {
    t += step
    yield chainLine('audit-stream-end', 'end', 'end', { interval: INTERVAL })
  }
  key.fill(0)
}
