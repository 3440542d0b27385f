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
import { createPreparer, type Prepared, prepareRecord, type Template, templateOf } from './assemble'
import { writeValue } from './canonical'
import { keyId, loadVerifierPublicKey, type SealedKey, sealKey } from './keys'
import { checkpointRecord, closingRecord, genesisRecord, type Mark } from './records'
import { type PreviousStream, readPrevious, writeState } from './state'

export const INTEGRITY_VERSION = 1

export interface ChainOptions {
  service: { name: string; instance: string }
  /** The stream's id (newStreamId()); a fresh one when absent. */
  streamId?: string
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
  /** Serialiser with JSON.stringify's exact output (PrepareOptions.stringify). Default JSON.stringify. */
  stringify?: (record: Record<string, unknown>) => string
  /** The serialiser's order-checked text (PrepareOptions.serializeSorted). */
  serializeSorted?: (record: Record<string, unknown>) => string | undefined
}

export interface Chain {
  readonly streamId: string
  /** False: unauthenticated SHA-256 chain (no verifier key). */
  readonly keyed: boolean
  /** Number of records sealed so far (the next seq). */
  readonly seq: number
  /** The finished line (no trailing newline) with audit.integrity added. Never throws. */
  seal(record: Record<string, unknown>): string
  /** The same for a record prepared elsewhere (prepareRecord, possibly on another thread). */
  sealPrepared(prepared: Prepared): string
  /** sealPrepared's line in parts, for a writer of bytes (the sealing thread). */
  sealParts(prepared: Prepared): SealedParts
  genesis(): Record<string, unknown>
  checkpoint(): Record<string, unknown>
  closing(reason?: string): Record<string, unknown>
}

/** A sealed line: head + integrity + tail (no newline), and the integrity object it carries. */
export interface SealedParts {
  head: string
  integrity: string
  tail: string
  fields: IntegrityFields
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

/** 128 random bits, base64url: a stream id no other logger will ever pick. */
export function newStreamId(): string {
  return crypto.randomBytes(16).toString('base64url')
}

/** k[i+1] = SHA-256(k[i]). The caller zeroes k[i]. */
export function nextKey(key: Buffer): Buffer {
  // Both return a fresh buffer (not from Buffer's shared pool), so zeroing it later really erases it.
  return oneShotHash ? oneShotHash('sha256', key, 'buffer') : crypto.createHash('sha256').update(key).digest()
}

/** MAC of a + b + c (the sealer's MAC input comes in three pieces). */
type MacOfParts = (key: Buffer | undefined, a: string, b: string, c: string) => string

/**
 * HMAC-SHA-256 (RFC 2104) for a 32-byte key, computed with two one-shot SHA-256 calls into scratch
 * buffers of the chain's own: same result as createHmac('sha256', key) (tested), at about half its
 * cost, which matters on the per-event hot path. Without a key: SHA-256.
 *
 * Bytes [0, 64) of `inner` hold HMAC's inner key block, the input follows; key bytes are overwritten
 * with the plain padding right after each use, so no key material outlives the record it was for.
 * Bytes [32, 64) of both key blocks are the constant padding of a 32-byte key.
 */
function createMacer(): MacOfParts {
  if (!oneShotHash) {
    return (key, a, b, c) => {
      const h = key ? crypto.createHmac('sha256', key) : crypto.createHash('sha256')
      return h.update(a).update(b).update(c).digest('base64url')
    }
  }
  const hash = oneShotHash
  let inner = newInnerBlock(2048)
  const outer = Buffer.alloc(96, 0x5c)
  /**
   * Writes a + b + c (UTF-8) after the key block; returns where the input ends. One write of the
   * joined text: V8 joins it in one copy, cheaper than three trips into the encoder.
   */
  const writeInput = (a: string, b: string, c: string): number => {
    const need = 64 + (a.length + b.length + c.length) * 3
    if (inner.length < need) inner = newInnerBlock(Math.max(need, inner.length * 2))
    return 64 + inner.write(`${a}${b}${c}`, 64)
  }
  return (key, a, b, c) => {
    const n = writeInput(a, b, c)
    if (key === undefined) return hash('sha256', inner.subarray(64, n), 'base64url')
    if (key.length !== 32)
      return crypto.createHmac('sha256', key).update(inner.subarray(64, n)).digest('base64url')
    for (let i = 0; i < 32; i++) {
      const k = key[i]!
      inner[i] = k ^ 0x36
      outer[i] = k ^ 0x5c
    }
    // The inner hash as a latin1 string (one byte per character) rather than a Buffer: a new Buffer
    // costs a backing store of its own, about as much as the hash. It is no key material.
    const innerHash: string = hash('sha256', inner.subarray(0, n), 'latin1')
    for (let i = 0; i < 32; i++) inner[i] = 0x36
    outer.write(innerHash, 64, 'latin1')
    const mac: string = hash('sha256', outer, 'base64url')
    for (let i = 0; i < 32; i++) outer[i] = 0x5c
    return mac
  }
}

function newInnerBlock(size: number): Buffer {
  const b = Buffer.alloc(size)
  b.fill(0x36, 32, 64)
  return b
}

/** HMAC-SHA-256 of `input` with `key`, base64url (the verifier's side; node:crypto as it is). */
export function hmacSha256(key: Buffer, input: string): string {
  return crypto.createHmac('sha256', key).update(input).digest('base64url')
}

/**
 * macOf with scratch buffers of its own (createMacer's one-shot hashing, about half the cost of
 * createHmac): for a verifier that checks millions of records. One per walker or thread.
 */
export function createMacOf(): (key: Buffer | undefined, input: string) => string {
  const macOfParts = createMacer()
  return (key, input) => macOfParts(key, input, '', '')
}

/** MAC of one record: HMAC-SHA-256 with the record's key, or plain SHA-256 for an unkeyed chain. */
export function macOf(key: Buffer | undefined, input: string): string {
  if (key) return hmacSha256(key, input)
  return oneShotHash
    ? oneShotHash('sha256', input, 'base64url')
    : crypto.createHash('sha256').update(input).digest('base64url')
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
  const stringify = options.stringify
  const stateFile = options.stateFile

  const macOfParts = createMacer()
  const prepare = createPreparer({
    maxLineBytes,
    shrink,
    stringify,
    serializeSorted: options.serializeSorted,
  })

  const streamId = options.streamId ?? newStreamId()
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

  /**
   * Seals a prepared record: the line in three parts (line = head + integrity text + tail, so that
   * whoever writes bytes need not join them first), and the integrity object it carries.
   */
  const sealParts = (prepared: Prepared): SealedParts => {
    let p = prepared
    let integrity = integrityFor(p.mark)
    let t: Template
    try {
      t = templateOf(p)
    } catch (err) {
      // Should not happen (prepared texts are ours); the sequence must not have a hole, so the
      // record's place is taken by one saying what went wrong.
      p = prepareRecord(unsealable(iso(), err), { maxLineBytes })
      integrity = integrityFor(undefined)
      t = templateOf(p)
    }
    const ints = integrityStrings(integrity, p.fields)
    const mac = macOfParts(key, t.macHead, ints.noMac, t.macTail)
    commit(mac, p.mark)
    integrity.mac = mac
    if (p.names) integrity.fields = p.names
    return { head: t.lineHead, integrity: ints.withMac(mac), tail: t.lineTail, fields: integrity }
  }

  const seal = (record: Record<string, unknown>): string => {
    let prepared: Prepared
    let target = record
    try {
      prepared = prepare(record)
    } catch (err) {
      target = unsealable(iso(), err)
      prepared = prepareRecord(target, { maxLineBytes })
    }
    const sealed = sealParts(prepared)
    attach(target, sealed.fields)
    return `${sealed.head}${sealed.integrity}${sealed.tail}`
  }

  return {
    streamId,
    keyed: key !== undefined,
    get seq() {
      return seq
    },
    seal,
    sealPrepared: (p: Prepared) => {
      const sealed = sealParts(p)
      return `${sealed.head}${sealed.integrity}${sealed.tail}`
    },
    sealParts,
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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
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

/**
 * The integrity object's canonical text without the mac, and with it in its sorted place. Written by
 * hand (its keys are ours and known) because it is rebuilt for every record; the key order here is
 * the sorted order: alg, fields, interval, key, mac, mark, prev, previous, seq, stream, v.
 */
function integrityStrings(i: IntegrityFields, fields: string) {
  let before = ''
  // alg, mark, prev (a MAC) and stream are base64url or fixed words: nothing to escape.
  if (i.alg !== undefined) before += `"alg":"${i.alg}",`
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
    withMac: (mac: string) => `{${before}"mac":"${mac}"${after}}`,
  }
}
