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
  alreadyCanonical,
  canonicalize,
  expandKeys,
  isDotted,
  isWritten,
  macInputOf,
  quoteKey,
  quoteString,
  SHIPPER_OWNED,
  sortKeys,
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
  /** The top-level fields the record was written with (dotted keys expanded), sorted. */
  fields: string[]
  mark?: Mark
  interval?: number
  alg?: 'hmac-sha256' | 'sha256'
  key?: SealedKey
  previous?: PreviousStream
  mac?: string
}

const oneShotHash = (crypto as unknown as { hash?: (alg: string, data: string | Buffer, enc: string) => any })
  .hash

/** k[i+1] = SHA-256(k[i]). The caller zeroes k[i]. */
export function nextKey(key: Buffer): Buffer {
  // Both return a fresh buffer (not from Buffer's shared pool), so zeroing it later really erases it.
  return oneShotHash ? oneShotHash('sha256', key, 'buffer') : crypto.createHash('sha256').update(key).digest()
}

// HMAC scratch space, reused: the padded key blocks are zeroed right after each use, so no key
// material outlives the record it was for.
let inner = Buffer.alloc(2048)
const outer = Buffer.alloc(96)

/**
 * HMAC-SHA-256 (RFC 2104) for a 32-byte key, computed with two one-shot SHA-256 calls into reused
 * buffers: same result as createHmac('sha256', key) (tested), at about half its cost, which matters
 * on the per-event hot path.
 */
export function hmacSha256(key: Buffer, input: string): string {
  if (!oneShotHash || key.length !== 32)
    return crypto.createHmac('sha256', key).update(input).digest('base64url')
  const need = 64 + input.length * 3
  if (inner.length < need) inner = Buffer.alloc(Math.max(need, inner.length * 2))
  for (let i = 0; i < 32; i++) {
    const b = key[i]!
    inner[i] = b ^ 0x36
    outer[i] = b ^ 0x5c
  }
  inner.fill(0x36, 32, 64)
  outer.fill(0x5c, 32, 64)
  const n = inner.write(input, 64, 'utf8')
  const innerHash: Buffer = oneShotHash('sha256', inner.subarray(0, 64 + n), 'buffer')
  inner.fill(0, 0, 64)
  innerHash.copy(outer, 64)
  const mac: string = oneShotHash('sha256', outer, 'base64url')
  outer.fill(0, 0, 64)
  return mac
}

/** MAC of one record: HMAC-SHA-256 with the record's key, or plain SHA-256 for an unkeyed chain. */
export function macOf(key: Buffer | undefined, input: string): string {
  if (key === undefined) {
    return oneShotHash
      ? (oneShotHash('sha256', input, 'base64url') as string)
      : crypto.createHash('sha256').update(input).digest('base64url')
  }
  return hmacSha256(key, input)
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
    const integrity: IntegrityFields = { v: INTEGRITY_VERSION, stream: streamId, seq, fields: [] }
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
    let integrity = integrityFor(mark)
    let mac: string
    let line: string
    let sealed: Record<string, unknown> = record
    try {
      let built = assemble(record, integrity)
      mac = macOf(key, built.macInput)
      line = built.line(mac)
      if (shrink && tooLong(line, maxLineBytes)) {
        try {
          shrink(record, Math.max(1024, maxLineBytes - built.integrityBytes - 64))
          const again = integrityFor(mark)
          built = assemble(record, again)
          integrity = again
          mac = macOf(key, built.macInput)
          line = built.line(mac)
        } catch {
          // keep the long line: better than none
        }
      }
    } catch (err) {
      sealed = unsealable(iso(), err)
      integrity = integrityFor(undefined)
      const built = assemble(sealed, integrity)
      mac = macOf(key, built.macInput)
      line = built.line(mac)
    }
    commit(mac, mark)
    integrity.mac = mac
    attach(sealed, integrity)
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

/**
 * Leaves audit.integrity (with its mac) on the record object too, so that whoever handles the same
 * object next (the OpenTelemetry emitter) can carry the chain fields of the line.
 */
function attach(record: Record<string, unknown>, integrity: IntegrityFields): void {
  try {
    if (record === null || typeof record !== 'object') return
    const audit = record.audit
    if (isPlainObject(audit)) audit.integrity = integrity
    else record.audit = { integrity }
  } catch {
    // a frozen record: the line is what counts
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
  const keys = Object.keys(value)
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    for (const o of owned) {
      if (k === o || (k.length > o.length && k.startsWith(o) && k[o.length] === '.')) return true
    }
  }
  return false
}

/**
 * Builds the MAC input and the line from one canonical serialisation of each top-level value.
 * `integrity.fields` is filled in here. Fast path for the shape the logger writes (no dotted
 * top-level keys but `log.level` and `ecs.version`, no dotted keys directly under `audit`);
 * anything else goes through the generic expansion.
 */
function assemble(record: Record<string, unknown>, integrity: IntegrityFields): Built {
  return assembleSorted(record, integrity) ?? assemblePieces(record, integrity)
}

/**
 * Stand-in serialised in place of `audit.integrity`, then swapped for its real text. Its JSON form
 * `"\u0000I"` cannot come from anywhere else: redaction strips NUL from every string, and a string
 * holding a literal backslash is written with the backslash doubled.
 */
const SLOT = '\u0000I'
const SLOT_TEXT = `"integrity":${JSON.stringify(SLOT)}`

/** Top-level name as the canonical form sees it: the two dotted ECS keys expand to their first segment. */
function canonicalName(key: string): string {
  return key === 'log.level' ? 'log' : key === 'ecs.version' ? 'ecs' : key
}

/**
 * The common case, at the cost of one native JSON.stringify of the record (each call also has a
 * fixed cost, so one call matters more than its size). The logger builds its records with every
 * object's keys in sorted order, top level included (log.level and ecs.version sitting where log
 * and ecs sort), so JSON.stringify(record) is the canonical text but for three spots, fixed by
 * splicing: `"ecs.version":…` becomes `"ecs":{}` (shipper-owned), `"log.level":x` becomes
 * `"log":{"level":x}`, and audit.integrity (a stand-in) gets its text without the mac. The line is
 * the same text with the mac in its sorted place. Returns undefined for any other shape (unsorted
 * objects, other dotted keys, shipper-owned keys present): those take the general path.
 */
function assembleSorted(record: Record<string, unknown>, integrity: IntegrityFields): Built | undefined {
  const auditIn = record.audit
  if (auditIn !== undefined && !isPlainObject(auditIn)) return undefined
  if (typeof record['log.level'] !== 'string' || typeof record['ecs.version'] !== 'string') return undefined
  if (!('audit' in record)) return undefined
  const event = record.event
  if (isPlainObject(event)) {
    for (const owned of SHIPPER_OWNED.event!) if (event[owned] !== undefined) return undefined
  }
  const names: string[] = []
  let prev = ''
  for (const k in record) {
    const name = canonicalName(k)
    if (!(prev < name)) return undefined
    prev = name
    if (name.indexOf('.') !== -1 || name === 'log' || name === 'ecs') {
      if (k !== 'log.level' && k !== 'ecs.version') return undefined
      names.push(name)
      continue
    }
    const v = record[k]
    if (k === 'audit') {
      names.push(k)
      continue
    }
    if (!isWritten(v)) continue
    if (typeof v === 'object' && v !== null && !alreadyCanonical(v, 1)) return undefined
    names.push(k)
  }
  integrity.fields = names

  // audit, sorted, with the stand-in where integrity goes. The record is the logger's own: replacing
  // its audit object is fine (seal() attaches the real integrity object afterwards).
  const auditSrc = (auditIn ?? {}) as Record<string, unknown>
  const auditKeys: string[] = []
  for (const k in auditSrc) {
    if (k.indexOf('.') !== -1) return undefined
    if (k !== 'integrity') auditKeys.push(k)
  }
  auditKeys.push('integrity')
  sortKeys(auditKeys)
  const audit: Record<string, unknown> = {}
  for (let i = 0; i < auditKeys.length; i++) {
    const k = auditKeys[i]!
    const v = k === 'integrity' ? SLOT : auditSrc[k]
    if (typeof v === 'object' && v !== null && !alreadyCanonical(v, 2)) return undefined
    audit[k] = v
  }
  record.audit = audit

  const text = JSON.stringify(record)
  const ecsText = `"ecs.version":${quoteString(record['ecs.version'] as string)}`
  const level = quoteString(record['log.level'] as string)
  const levelText = `"log.level":${level}`
  // Sorted order: audit (holding the stand-in), then ecs.version, then log.level, each once. What
  // lies between them is ours (fixed keys, escaped strings), so the first match after is the one.
  const n = text.indexOf(SLOT_TEXT)
  const e = text.indexOf(ecsText, n)
  const l = text.indexOf(levelText, e)
  if (n < 0 || e < 0 || l < 0) return undefined
  const p0 = text.slice(0, n)
  const p1 = text.slice(n + SLOT_TEXT.length, e)
  const p2 = text.slice(e + ecsText.length, l)
  const p3 = text.slice(l + levelText.length)
  const ints = integrityStrings(integrity)
  return {
    macInput: `${p0}"integrity":${ints.noMac}${p1}"ecs":{}${p2}"log":{"level":${level}}${p3}`,
    integrityBytes: ints.noMac.length + ints.macBytes,
    line(mac: string) {
      return `${p0}"integrity":${ints.withMac(mac)}${p1}${ecsText}${p2}${levelText}${p3}`
    },
  }
}

function assemblePieces(record: Record<string, unknown>, integrity: IntegrityFields): Built {
  const recordKeys = Object.keys(record)
  const auditIn = record.audit
  const auditSrc: Record<string, unknown> | undefined = isPlainObject(auditIn) ? auditIn : undefined

  // Which canonical field each top-level key feeds, in record order.
  const names: string[] = []
  const values: unknown[] = []
  let logLevel: unknown
  let ecsVersion: unknown
  let hasLog = false
  let hasEcs = false
  let fast = true
  for (let i = 0; i < recordKeys.length; i++) {
    const k = recordKeys[i]!
    if (k === 'audit') continue
    const v = record[k]
    if (!isWritten(v)) continue
    if (k.indexOf('.') !== -1 && isDotted(k)) {
      if (k === 'log.level') logLevel = v
      else if (k === 'ecs.version') ecsVersion = v
      else fast = false
      continue
    }
    if (k === 'log') hasLog = true
    else if (k === 'ecs') hasEcs = true
    names.push(k)
    values.push(v)
  }
  if ((logLevel !== undefined && hasLog) || (ecsVersion !== undefined && hasEcs)) fast = false
  const auditKeys = auditSrc ? Object.keys(auditSrc) : []
  for (let i = 0; i < auditKeys.length && fast; i++) {
    const k = auditKeys[i]!
    if (k.indexOf('.') !== -1 && isDotted(k)) fast = false
  }
  if (!fast) {
    const audit: Record<string, unknown> = auditSrc ? { ...auditSrc } : {}
    audit.integrity = integrity
    return assembleSlow(record, recordKeys, audit, integrity)
  }

  // Canonical piece of every top-level value, serialised once.
  const pieces: string[] = new Array(names.length)
  for (let i = 0; i < names.length; i++) pieces[i] = writeValue(values[i], 1, SHIPPER_OWNED[names[i]!])

  const fieldNames = names.slice()
  fieldNames.push('audit')
  if (logLevel !== undefined) fieldNames.push('log')
  if (ecsVersion !== undefined) fieldNames.push('ecs')
  sortKeys(fieldNames)
  integrity.fields = fieldNames

  // audit: every member but integrity once; integrity by hand, with and without mac.
  if (!auditKeys.includes('integrity')) auditKeys.push('integrity')
  sortKeys(auditKeys)
  let auditBefore = ''
  let auditAfter = ''
  let seenIntegrity = false
  for (let i = 0; i < auditKeys.length; i++) {
    const k = auditKeys[i]!
    if (k === 'integrity') {
      seenIntegrity = true
      continue
    }
    const v = auditSrc![k]
    if (!isWritten(v)) continue
    if (seenIntegrity) auditAfter += `,${quoteKey(k)}:${writeValue(v, 2)}`
    else auditBefore += `${quoteKey(k)}:${writeValue(v, 2)},`
  }
  const ints = integrityStrings(integrity)
  const auditNoMac = `{${auditBefore}"integrity":${ints.noMac}${auditAfter}}`

  let macInput = '{'
  for (let i = 0; i < fieldNames.length; i++) {
    const k = fieldNames[i]!
    let piece: string
    if (k === 'audit') piece = auditNoMac
    else if (k === 'log' && logLevel !== undefined) piece = `{"level":${writeValue(logLevel, 2)}}`
    else if (k === 'ecs' && ecsVersion !== undefined)
      piece = '{}' // ecs.version is shipper-owned
    else piece = pieces[names.indexOf(k)]!
    if (i > 0) macInput += ','
    macInput += quoteKey(k)
    macInput += ':'
    macInput += piece
  }
  macInput += '}'

  // The line: the record's own order and dotted keys; each canonical piece reused.
  let head = '{'
  let tail = ''
  let afterAudit = false
  let sawAudit = false
  let j = 0
  for (let i = 0; i < recordKeys.length; i++) {
    const k = recordKeys[i]!
    let entry: string
    if (k === 'audit') {
      afterAudit = true
      sawAudit = true
      continue
    }
    const v = record[k]
    if (!isWritten(v)) continue
    if (j < names.length && names[j] === k) {
      entry = `${quoteKey(k)}:${hasShipperOwned(k, v) ? writeValue(v, 1) : pieces[j]}`
      j++
    } else {
      entry = `${quoteKey(k)}:${writeValue(v, 1)}`
    }
    if (afterAudit) tail += `,${entry}`
    else head += head.length > 1 ? `,${entry}` : entry
  }
  if (!sawAudit) afterAudit = false
  const sep = head.length > 1 ? ',' : ''
  return {
    macInput,
    integrityBytes: ints.noMac.length + ints.macBytes,
    line(mac: string) {
      return `${head}${sep}"audit":{${auditBefore}"integrity":${ints.withMac(mac)}${auditAfter}}${tail}}`
    },
  }
}

/** Rare shapes (other dotted top-level keys, dotted keys under audit): the line is the canonical form itself. */
function assembleSlow(
  record: Record<string, unknown>,
  recordKeys: string[],
  audit: Record<string, unknown>,
  integrity: IntegrityFields,
): Built {
  const flat: Record<string, unknown> = Object.create(null)
  for (const k of recordKeys) {
    const v = k === 'audit' ? audit : record[k]
    if (isWritten(v)) flat[k] = v
  }
  if (!('audit' in flat)) flat.audit = audit
  const top = expandKeys(flat)
  const fields = Object.keys(top).sort()
  integrity.fields = fields
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

/**
 * The integrity object's canonical text without the mac, and with it in its sorted place. Written by
 * hand (its keys are ours and known) because it is rebuilt for every record; the key order here is
 * the sorted order: alg, fields, interval, key, mac, mark, prev, previous, seq, stream, v.
 */
function integrityStrings(i: IntegrityFields) {
  let before = ''
  // alg, mark, prev (a MAC) and stream are base64url or fixed words: nothing to escape.
  if (i.alg !== undefined) before += `"alg":"${i.alg}",`
  let fields = ''
  for (let n = 0; n < i.fields.length; n++)
    fields += n === 0 ? quoteKey(i.fields[n]!) : `,${quoteKey(i.fields[n]!)}`
  before += `"fields":[${fields}],`
  if (i.interval !== undefined) before += `"interval":${writeValue(i.interval, 3)},`
  if (i.key !== undefined) before += `"key":${writeValue(i.key, 3)},`
  let after = ''
  if (i.mark !== undefined) after += `,"mark":"${i.mark}"`
  if (i.prev !== undefined) after += `,"prev":"${i.prev}"`
  if (i.previous !== undefined) after += `,"previous":${writeValue(i.previous, 3)}`
  after += `,"seq":${i.seq},"stream":"${i.stream}","v":${i.v}`
  return {
    noMac: `{${before}${after.slice(1)}}`,
    macBytes: 52,
    withMac: (mac: string) => `{${before}"mac":"${mac}"${after}}`,
  }
}
