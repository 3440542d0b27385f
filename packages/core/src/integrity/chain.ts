/**
 * The forward-secure integrity chain (Schneier & Kelsey style), one per logger instance.
 *
 * Record i carries audit.integrity = { v, stream, seq: i, prev: mac[i-1], fields, mac[i] } where
 * mac[i] = HMAC-SHA-256(k[i], canonical(record i without mac)) and k[i+1] = SHA-256(k[i]); k[i] is
 * zeroed as soon as k[i+1] exists, so whoever takes the process later holds only keys for records
 * not yet written. k[0] is random and travels in the genesis record, sealed to the verifier's
 * X25519 public key. Without a verifier key the chain is unkeyed: mac[i] = SHA-256(canonical), which
 * shows accidental damage only (anyone can recompute it); the verifier says so.
 *
 * `fields` lists the top-level fields the record was written with (dotted keys expanded), so a
 * verifier ignores whatever shippers add later. See canonical.ts for the canonical form.
 *
 * Hot path: each top-level value is serialised once, in canonical form; the MAC input and the line
 * are assembled from the same pieces. The line keeps the record's own top-level order and dotted
 * keys (`@timestamp`, `log.level`, `message` first, as the ECS logging spec asks); nested objects
 * come out with sorted keys, which is still the same JSON.
 */

import type { KeyObject } from 'node:crypto'
import * as crypto from 'node:crypto'
import {
  canonicalize,
  expandKeys,
  isDotted,
  isWritten,
  macInputOf,
  quoteKey,
  SHIPPER_OWNED,
  writeValue,
} from './canonical'
import { keyId, loadVerifierPublicKey, type SealedKey, sealKey } from './keys'
import { checkpointRecord, closingRecord, genesisRecord, type Mark, markOf } from './records'
import { type PreviousStream, readPrevious, writeState } from './state'

export const INTEGRITY_VERSION = 1

export interface ChainOptions {
  service: { name: string; instance: string }
  /** Verifier X25519 public key: PEM text or the path of a PEM file. Absent: unkeyed chain. */
  verifierKey?: string
  checkpointIntervalSeconds: number
  /** Remembers this instance's stream between restarts. */
  stateFile?: string
  /** Clock for the chain's own records (tests). Default Date.now. */
  now?: () => number
  /** Most UTF-8 bytes a line may have (without the newline). Default 16383. */
  maxLineBytes?: number
  /** Called when a sealed line would exceed maxLineBytes: must shrink `record` in place to about `budget` bytes of JSON. */
  shrink?: (record: Record<string, unknown>, budget: number) => unknown
}

export interface Chain {
  readonly streamId: string
  /** False: unauthenticated SHA-256 chain (no verifier key). */
  readonly keyed: boolean
  /** Number of records sealed so far (the next seq). */
  readonly seq: number
  /** The finished line (no trailing newline) with audit.integrity added. Never throws. */
  seal(record: Record<string, unknown>): string
  genesis(): Record<string, unknown>
  checkpoint(): Record<string, unknown>
  closing(reason?: string): Record<string, unknown>
}

/** The integrity object as written (mac added last). */
export interface IntegrityFields {
  v: number
  stream: string
  seq: number
  prev?: string
  fields: string
  mark?: Mark
  interval?: number
  alg?: 'hmac-sha256' | 'sha256'
  key?: SealedKey
  previous?: PreviousStream
  mac?: string
}

const oneShotHash = (crypto as unknown as { hash?: (alg: string, data: string | Buffer, enc: string) => any })
  .hash

/** k[i+1] = SHA-256(k[i]). */
export function nextKey(key: Buffer): Buffer {
  const next = Buffer.alloc(32)
  const digest: Buffer = oneShotHash
    ? oneShotHash('sha256', key, 'buffer')
    : crypto.createHash('sha256').update(key).digest()
  digest.copy(next)
  digest.fill(0)
  return next
}

/** MAC of one record: HMAC-SHA-256 with the record's key, or plain SHA-256 for an unkeyed chain. */
export function macOf(key: Buffer | undefined, input: string): string {
  if (key === undefined) {
    return oneShotHash
      ? (oneShotHash('sha256', input, 'base64url') as string)
      : crypto.createHash('sha256').update(input).digest('base64url')
  }
  return crypto.createHmac('sha256', key).update(input).digest('base64url')
}

const DEFAULT_MAX_LINE_BYTES = 16 * 1024 - 1

export function createChain(options: ChainOptions): Chain {
  if (!options || typeof options !== 'object')
    throw new TypeError('boundary-audit: createChain needs options')
  const service = options.service
  if (!service || typeof service.name !== 'string' || typeof service.instance !== 'string') {
    throw new TypeError('boundary-audit: integrity chain needs service.name and service.instance strings')
  }
  const interval = options.checkpointIntervalSeconds
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw new TypeError(
      `boundary-audit: integrity.checkpointIntervalSeconds must be a number of seconds >= 0; got ${String(interval)}`,
    )
  }
  const verifier: KeyObject | undefined =
    options.verifierKey !== undefined && options.verifierKey !== ''
      ? loadVerifierPublicKey(options.verifierKey)
      : undefined
  const now = options.now ?? Date.now
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  const shrink = options.shrink
  const stateFile = options.stateFile

  const streamId = crypto.randomBytes(16).toString('base64url')
  let key: Buffer | undefined
  let sealed: SealedKey | undefined
  if (verifier) {
    // Not from Buffer's shared pool, so that fill(0) below really is the only copy we made.
    key = Buffer.alloc(32)
    crypto.randomFillSync(key)
    sealed = sealKey(key, verifier, streamId)
  }
  const kid = verifier ? keyId(verifier) : undefined
  const previous = stateFile ? readPrevious(stateFile, service.name, service.instance) : undefined

  let seq = 0
  let prev: string | undefined

  const iso = () => {
    const t = now()
    return new Date(Number.isFinite(t) ? t : Date.now()).toISOString()
  }

  const integrityFor = (mark: Mark | undefined): IntegrityFields => {
    const integrity: IntegrityFields = { v: INTEGRITY_VERSION, stream: streamId, seq, fields: '' }
    if (prev !== undefined) integrity.prev = prev
    if (mark !== undefined) {
      integrity.mark = mark
      integrity.interval = interval
    }
    if (seq === 0) {
      // Whatever record comes first carries what the verifier needs to start.
      integrity.interval = interval
      integrity.alg = key ? 'hmac-sha256' : 'sha256'
      if (sealed) integrity.key = sealed
      if (previous) integrity.previous = previous
    }
    return integrity
  }

  const commit = (mac: string, mark: Mark | undefined) => {
    if (key) {
      const next = nextKey(key)
      key.fill(0)
      key = next
    }
    if (stateFile && (mark !== undefined || seq === 0)) {
      writeState(stateFile, {
        v: 1,
        service: service.name,
        instance: service.instance,
        stream: streamId,
        seq,
        mac,
        time: iso(),
        closed: mark === 'end',
      })
    }
    prev = mac
    seq++
  }

  const seal = (record: Record<string, unknown>): string => {
    const mark = record !== null && typeof record === 'object' ? markOf(record) : undefined
    let mac: string
    let line: string
    try {
      let built = assemble(record, integrityFor(mark))
      mac = macOf(key, built.macInput)
      line = built.line(mac)
      if (shrink && tooLong(line, maxLineBytes)) {
        try {
          shrink(record, Math.max(1024, maxLineBytes - built.integrityBytes - 64))
          built = assemble(record, integrityFor(mark))
          mac = macOf(key, built.macInput)
          line = built.line(mac)
        } catch {
          // keep the long line: better than none
        }
      }
    } catch (err) {
      const built = assemble(unsealable(iso(), err), integrityFor(undefined))
      mac = macOf(key, built.macInput)
      line = built.line(mac)
    }
    commit(mac, mark)
    return line
  }

  return {
    streamId,
    keyed: key !== undefined,
    get seq() {
      return seq
    },
    seal,
    genesis: () => genesisRecord(iso(), key !== undefined, kid),
    checkpoint: () => checkpointRecord(iso()),
    closing: (reason?: string) => closingRecord(iso(), reason),
  }
}

function tooLong(line: string, limit: number): boolean {
  // Every UTF-16 unit is at most 3 UTF-8 bytes; most lines are far under the limit.
  if (line.length * 3 <= limit) return false
  return Buffer.byteLength(line, 'utf8') > limit
}

/** Stand-in for a record that could not be serialised at all (it should not happen: records are plain). */
function unsealable(time: string, err: unknown): Record<string, unknown> {
  return {
    '@timestamp': time,
    'log.level': 'error',
    message: 'audit record could not be serialised for sealing',
    event: {
      kind: 'event',
      category: ['process'],
      type: ['error'],
      action: 'audit-internal-error',
      outcome: 'unknown',
    },
    error: { type: err instanceof Error ? err.name : typeof err },
  }
}

interface Built {
  macInput: string
  line: (mac: string) => string
  /** Length of the integrity object as written. */
  integrityBytes: number
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function hasShipperOwned(key: string, value: unknown): boolean {
  const owned = SHIPPER_OWNED[key]
  if (owned === undefined || !isPlainObject(value)) return false
  for (const k in value) {
    for (const o of owned) {
      if (k === o || (k.length > o.length && k.startsWith(o) && k[o.length] === '.')) return true
    }
  }
  return false
}

/**
 * Builds the MAC input and the line from one canonical serialisation of each top-level value.
 * `integrity.fields` is filled in here.
 */
function assemble(record: Record<string, unknown>, integrity: IntegrityFields): Built {
  const recordKeys = Object.keys(record)
  const auditIn = record.audit
  const audit: Record<string, unknown> = isPlainObject(auditIn) ? { ...auditIn } : {}
  audit.integrity = integrity

  // Top level as written (audit replaced by the copy that holds integrity), then expanded.
  const flat: Record<string, unknown> = Object.create(null)
  let auditAppended = true
  for (const k of recordKeys) {
    if (k === 'audit') {
      flat.audit = audit
      auditAppended = false
      continue
    }
    const v = record[k]
    if (isWritten(v)) flat[k] = v
  }
  if (auditAppended) flat.audit = audit
  const top = expandKeys(flat)
  const fields = Object.keys(top).sort()
  integrity.fields = fields.join(',')

  let auditFast = top.audit === audit
  if (auditFast) {
    for (const k in audit) {
      if (isDotted(k)) {
        auditFast = false
        break
      }
    }
  }
  if (!auditFast) return assembleSlow(top, integrity)

  // audit: serialise every member but integrity once; integrity twice (with and without mac) by hand.
  const auditKeys = Object.keys(audit).sort()
  let auditBefore = ''
  let auditAfter = ''
  let seenIntegrity = false
  for (const k of auditKeys) {
    if (k === 'integrity') {
      seenIntegrity = true
      continue
    }
    const v = audit[k]
    if (!isWritten(v)) continue
    const entry = `${quoteKey(k)}:${writeValue(v, 2)}`
    if (seenIntegrity) auditAfter += `,${entry}`
    else auditBefore += `${entry},`
  }
  const ints = integrityStrings(integrity)
  const auditNoMac = `{${auditBefore}"integrity":${ints.noMac}${auditAfter}}`

  const pieces: Record<string, string> = Object.create(null)
  let macInput = '{'
  for (let i = 0; i < fields.length; i++) {
    const k = fields[i]!
    const piece = k === 'audit' ? auditNoMac : writeValue(top[k], 1, SHIPPER_OWNED[k])
    pieces[k] = piece
    if (i > 0) macInput += ','
    macInput += quoteKey(k)
    macInput += ':'
    macInput += piece
  }
  macInput += '}'

  // Line pieces in the record's own order; reuse the canonical piece whenever it is the same value.
  let tailStart = -1
  const parts: string[] = []
  const emitKeys = auditAppended ? [...recordKeys, 'audit'] : recordKeys
  for (const k of emitKeys) {
    if (k === 'audit') {
      tailStart = parts.length
      parts.push('')
      continue
    }
    const v = record[k]
    if (!isWritten(v)) continue
    const piece = !isDotted(k) && top[k] === v && !hasShipperOwned(k, v) ? pieces[k]! : writeValue(v, 1)
    parts.push(`${quoteKey(k)}:${piece}`)
  }
  return {
    macInput,
    integrityBytes: ints.noMac.length + ints.macBytes,
    line(mac: string) {
      parts[tailStart] = `"audit":{${auditBefore}"integrity":${ints.withMac(mac)}${auditAfter}}`
      return `{${parts.join(',')}}`
    },
  }
}

/** Rare shapes (dotted keys under audit, `audit.*` keys at the top): the line is the canonical form itself. */
function assembleSlow(top: Record<string, unknown>, integrity: IntegrityFields): Built {
  const fields = integrity.fields.split(',')
  // Serialise with the expanded top; the verifier reads it back the same way.
  const macInput = macInputOf(top, fields)
  const ints = integrityStrings(integrity)
  return {
    macInput,
    integrityBytes: ints.noMac.length + ints.macBytes,
    line(mac: string) {
      integrity.mac = mac
      try {
        return canonicalize(top)
      } finally {
        delete integrity.mac
      }
    },
  }
}

/** The integrity object's canonical text without the mac, and a function that inserts it in sorted place. */
function integrityStrings(integrity: IntegrityFields) {
  const keys = Object.keys(integrity)
    .filter((k) => k !== 'mac' && isWritten((integrity as unknown as Record<string, unknown>)[k]))
    .sort()
  let before = ''
  let after = ''
  for (const k of keys) {
    const entry = `${quoteKey(k)}:${writeValue((integrity as unknown as Record<string, unknown>)[k], 3)}`
    if (k < 'mac') before += `${entry},`
    else after += `,${entry}`
  }
  const noMac = before.length > 0 ? `{${before.slice(0, -1)}${after}}` : `{${after.slice(1)}}`
  return {
    noMac,
    macBytes: 52,
    withMac: (mac: string) => `{${before}"mac":"${mac}"${after}}`,
  }
}
