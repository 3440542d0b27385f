/**
 * The forward-secure integrity chain (Schneier & Kelsey style), one per logger instance.
 *
 * Format 2 (the default; docs/design.md "Chain format v2"): the key evolves per EPOCH, one sealed
 * batch of records (the sealer's chunk, at most 1,000 records; the chain's own records end one).
 * Every record carries audit.integrity = { v: 2, stream, seq, prev, fields } where prev is the LINK
 * of the record before it: the first 22 characters (132 bits) of base64url SHA-256 of its canonical
 * form (integrity included, without mac, epoch and from). The last record of epoch e also carries
 * epoch: e, from: its first seq, and mac = HMAC-SHA-256(k[e], "2.<e>.<from>.<SHA-256 of its canonical
 * form, base64url>"); through the links that MAC covers every record of the epoch, and binds its
 * place (a batch cannot be re-sealed with a later key as if it were another). k[e+1] = SHA-256(k[e]),
 * and k[e] is zeroed as the epoch is sealed, before any of its lines is handed to the output.
 *
 * Format 1 (still verified; written with `version: 1`): every record is its own epoch and carries
 * prev = the previous record's mac, mac = HMAC-SHA-256(k[i], canonical(record i without mac)), and
 * the list of its top-level fields.
 *
 * k[0] is random and travels in the genesis record, sealed to the verifier's X25519 public key.
 * Without a verifier key the chain is unkeyed: SHA-256 in place of HMAC, which shows accidental
 * damage only (anyone can recompute it); the verifier says so.
 *
 * `fields` names the top-level fields the record was written with (dotted keys expanded), so a
 * verifier ignores whatever shippers add later (v2: a bitmask over canonical.ts ROOTS_V2). See
 * canonical.ts for the canonical form.
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
import { checkpointRecord, closingRecord, genesisRecord, internalErrorRecord, type Mark } from './records'
import { type PreviousStream, readPrevious, writeState } from './state'

export const INTEGRITY_VERSION = 2

/** Most records in one epoch (DESIGN.md: one sealed batch, at most 1,000 records). */
export const MAX_EPOCH_RECORDS = 1000
/** Characters of a v2 link: 132 bits of the base64url SHA-256. */
export const LINK_CHARS = 22

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
  /** Chain format to write (1 only for tests of the verifier's v1 support). Default 2. */
  version?: 1 | 2
}

export interface Chain {
  readonly streamId: string
  /** False: unauthenticated SHA-256 chain (no verifier key). */
  readonly keyed: boolean
  /** Number of records sealed so far (the next seq). */
  readonly seq: number
  /** Chain format written (1 or 2). */
  readonly version: 1 | 2
  /** Records in the open epoch (sealed, the epoch not yet). */
  readonly open: number
  /** The finished line (no trailing newline) with audit.integrity added, as an epoch of its own. Never throws. */
  seal(record: Record<string, unknown>): string
  /** Lines of records sealed as one epoch (tests, one-off writers). */
  sealBatch(records: Record<string, unknown>[]): string[]
  /** The same for a record prepared elsewhere (prepareRecord, possibly on another thread), as an epoch of its own. */
  sealPrepared(prepared: Prepared): string
  /**
   * A prepared record's line in parts, for a writer of bytes (the sealing thread), in the open epoch:
   * its integrity text has no mac. Before the line is written, either another record is sealed (the
   * text stands) or endEpoch() gives the text to write instead.
   */
  sealParts(prepared: Prepared): SealedParts
  /**
   * Seals the open epoch: the integrity text (with epoch, from and mac) for the record sealed last,
   * in place of the one sealParts gave; the epoch's key is erased. Undefined when nothing is open
   * (and always for format 1, whose records are sealed one by one).
   */
  endEpoch(): string | undefined
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
  /** v2, on the last record of an epoch: the epoch's number and its first seq. */
  epoch?: number
  from?: number
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

  const version = options.version ?? INTEGRITY_VERSION
  const macOfParts = createMacer()
  const prepare = createPreparer({
    maxLineBytes,
    shrink,
    stringify,
    serializeSorted: options.serializeSorted,
    version,
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
  /** v1: the previous record's mac; v2: its link. */
  let prev: string | undefined
  /** v2: the open epoch's number, its first seq, and the record sealed last in it. */
  let epoch = 0
  let epochFrom = 0
  let last: { integrity: IntegrityFields; ints: IntegrityStrings; digest: string } | undefined

  const iso = () => {
    const t = now()
    return new Date(Number.isFinite(t) ? t : Date.now()).toISOString()
  }

  const integrityFor = (mark: Mark | undefined): IntegrityFields => {
    const integrity: IntegrityFields = { v: version, stream: streamId, seq, fields: [] }
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

  /** k[next] = SHA-256(k), the old key zeroed. */
  const evolve = () => {
    if (!key) return
    const next = nextKey(key)
    key.fill(0)
    key = next
  }

  /** The instance's state (for its next stream's genesis) at a chain record and at the first. */
  const saveState = (integrity: IntegrityFields, mac: string) => {
    if (!stateFile || (integrity.mark === undefined && integrity.seq !== 0)) return
    writeState(stateFile, {
      v: 1,
      service: service.name,
      instance: service.instance,
      stream: streamId,
      seq: integrity.seq,
      mac,
      time: iso(),
      closed: integrity.mark === 'end',
    })
  }

  /** The prepared record's template; a stand-in saying what went wrong when it has none. */
  const templateFor = (prepared: Prepared): { p: Prepared; t: Template } => {
    try {
      return { p: prepared, t: templateOf(prepared) }
    } catch (err) {
      // Should not happen (prepared texts are ours); the sequence must not have a hole, so the
      // record's place is taken by one saying what went wrong.
      const p = prepareRecord(unsealable(iso(), err), { maxLineBytes, version })
      return { p, t: templateOf(p) }
    }
  }

  /** Format 1: every record sealed on its own, with its own key. */
  const sealPartsV1 = (prepared: Prepared): SealedParts => {
    const { p, t } = templateFor(prepared)
    const integrity = integrityFor(p.mark)
    const ints = integrityStrings(integrity, p.fields)
    const mac = macOfParts(key, t.macHead, ints.noMac, t.macTail)
    evolve()
    saveState(integrity, mac)
    prev = mac
    seq++
    integrity.mac = mac
    if (p.names) integrity.fields = p.names
    return { head: t.lineHead, integrity: withMac(ints, mac), tail: t.lineTail, fields: integrity }
  }

  /** Format 2: linked into the open epoch; endEpoch() seals it. */
  const sealPartsV2 = (prepared: Prepared): SealedParts => {
    const { p, t } = templateFor(prepared)
    const integrity = integrityFor(p.mark)
    const ints = integrityStrings(integrity, p.fields)
    const digest = sha256Text(`${t.macHead}${ints.noMac}${t.macTail}`)
    prev = digest.slice(0, LINK_CHARS)
    seq++
    if (p.names) integrity.fields = p.names
    last = { integrity, ints, digest }
    return { head: t.lineHead, integrity: ints.noMac, tail: t.lineTail, fields: integrity }
  }

  const sealParts = version === 1 ? sealPartsV1 : sealPartsV2

  const endEpoch = (): string | undefined => {
    const l = last
    if (l === undefined) return undefined
    last = undefined
    const input = `2.${epoch}.${epochFrom}.${l.digest}`
    // One-shot HMAC into the chain's scratch buffers (createMacer): half the cost of createHmac.
    const mac = macOfParts(key, input, '', '')
    evolve()
    l.integrity.epoch = epoch
    l.integrity.from = epochFrom
    l.integrity.mac = mac
    saveState(l.integrity, mac)
    epoch++
    epochFrom = seq
    return withSeal(l.ints, mac, l.integrity.epoch, l.integrity.from)
  }

  /** Parts of one record sealed as an epoch of its own (format 1: as it always is). */
  const sealAlone = (prepared: Prepared): SealedParts => {
    const parts = sealParts(prepared)
    const integrity = endEpoch()
    return integrity === undefined ? parts : { ...parts, integrity }
  }

  const prepareOrStandIn = (
    record: Record<string, unknown>,
  ): { prepared: Prepared; target: Record<string, unknown> } => {
    try {
      return { prepared: prepare(record), target: record }
    } catch (err) {
      const target = unsealable(iso(), err)
      return { prepared: prepareRecord(target, { maxLineBytes, version }), target }
    }
  }

  const seal = (record: Record<string, unknown>): string => {
    const { prepared, target } = prepareOrStandIn(record)
    const sealedParts = sealAlone(prepared)
    attach(target, sealedParts.fields)
    return `${sealedParts.head}${sealedParts.integrity}${sealedParts.tail}`
  }

  const sealBatch = (records: Record<string, unknown>[]): string[] => {
    const parts = records.map((record) => {
      const { prepared, target } = prepareOrStandIn(record)
      const sealedParts = sealParts(prepared)
      attach(target, sealedParts.fields)
      return sealedParts
    })
    const end = endEpoch()
    if (end !== undefined && parts.length > 0) parts[parts.length - 1]!.integrity = end
    return parts.map((x) => `${x.head}${x.integrity}${x.tail}`)
  }

  return {
    streamId,
    keyed: key !== undefined,
    version,
    get seq() {
      return seq
    },
    get open() {
      return version === 2 ? seq - epochFrom : 0
    },
    seal,
    sealBatch,
    sealPrepared: (p: Prepared) => {
      const sealedParts = sealAlone(p)
      return `${sealedParts.head}${sealedParts.integrity}${sealedParts.tail}`
    },
    sealParts,
    endEpoch,
    genesis: () => genesisRecord(iso(), key !== undefined, kid),
    checkpoint: () => checkpointRecord(iso()),
    closing: (reason?: string) => closingRecord(iso(), reason),
  }
}

/** SHA-256 of a text, base64url. */
export function sha256Text(text: string): string {
  return oneShotHash
    ? oneShotHash('sha256', text, 'base64url')
    : crypto.createHash('sha256').update(text).digest('base64url')
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
  const type = err instanceof Error ? err.name : typeof err
  return internalErrorRecord(time, 'audit record could not be serialised for sealing', type)
}

interface IntegrityStrings {
  /** The canonical text without mac (and, v2, without epoch and from). */
  noMac: string
  /** The pieces withMac and withSeal put the mac (and epoch, from) between (rest and after start with a comma). */
  alg: string
  fields: string
  rest: string
  after: string
}

/**
 * The integrity object's canonical text without the mac, and the pieces to write it with the mac in
 * its sorted place. Written by hand (its keys are ours and known) because it is rebuilt for every
 * record; the key order here is the sorted order: alg, epoch, fields, from, interval, key, mac, mark,
 * prev, previous, seq, stream, v. Plain data, no closures: one object per record.
 */
function integrityStrings(i: IntegrityFields, fields: string): IntegrityStrings {
  // alg, mark, prev (a MAC or link) and stream are base64url or fixed words: nothing to escape.
  const alg = i.alg !== undefined ? `"alg":"${i.alg}",` : ''
  let rest = ''
  if (i.interval !== undefined) rest += `,"interval":${writeValue(i.interval, 3)}`
  if (i.key !== undefined) rest += `,"key":${writeValue(i.key, 3)}`
  // The common record: prev, seq, stream, v. (No slicing of a joined text: that would flatten it.)
  let after = i.prev !== undefined ? `,"prev":"${i.prev}","seq":${i.seq}` : `,"seq":${i.seq}`
  if (i.mark !== undefined || i.previous !== undefined) {
    after = ''
    if (i.mark !== undefined) after += `,"mark":"${i.mark}"`
    if (i.prev !== undefined) after += `,"prev":"${i.prev}"`
    if (i.previous !== undefined) after += `,"previous":${writeValue(i.previous, 3)}`
    after += `,"seq":${i.seq}`
  }
  after += `,"stream":"${i.stream}","v":${i.v}`
  return { noMac: `{${alg}"fields":${fields}${rest}${after}}`, alg, fields, rest, after }
}

/** v1: the text with its mac. */
function withMac(s: IntegrityStrings, mac: string): string {
  return `{${s.alg}"fields":${s.fields}${s.rest},"mac":"${mac}"${s.after}}`
}

/** v2: the text of the epoch's last record, with epoch, from and mac. */
function withSeal(s: IntegrityStrings, mac: string, epoch: number, from: number): string {
  return `{${s.alg}"epoch":${epoch},"fields":${s.fields},"from":${from}${s.rest},"mac":"${mac}"${s.after}}`
}
