/**
 * Turning a record into the text the chain seals, in two steps that may run on different threads:
 *
 * 1. a preparer (createPreparer, one per logger; prepareRecord for a one-off), where the record is
 *    (the caller's thread): checks its shape, lists the top-level fields it commits to, caps its
 *    size and serialises it once, split where `audit.integrity` goes. The result is plain strings,
 *    cheap to hand to a worker thread.
 * 2. templateOf(prepared), where the chain is: the line and the MAC input, each as the text before
 *    and after the integrity object, which only the chain can write (it holds seq, prev and the key).
 *
 * Nothing is taken on trust: every record's shape is checked here, whoever built it; a record of
 * any other shape takes the general path, which is slower, never wrong.
 *
 * The line keeps the record's own top-level order and dotted keys (`@timestamp`, `log.level`, ...
 * as ECS logging asks); the MAC input is the canonical form (canonical.ts). For the records the
 * logger writes, both come from one JSON.stringify of the record and a few splices.
 */

import { randomBytes } from 'node:crypto'
import {
  alreadyCanonical,
  canonicalize,
  expandKeys,
  fieldsValueV2,
  isDotted,
  isWritten,
  macInputOf,
  quoteKey,
  SHIPPER_OWNED,
  sortKeys,
  writeValue,
} from './canonical'
import { type Mark, markOf } from './records'

/** A record ready for sealing: plain strings, so that it can cross to a worker thread as they are. */
export interface Prepared {
  mark: Mark | undefined
  /** The value of `audit.integrity.fields` as JSON text: v2 `"8e3"`, v1 `["@timestamp","audit",...]`. */
  fields: string
  /** The same names, for whoever wants them as an array (not sent to a worker). */
  names?: string[]
  /**
   * The common shape: JSON.stringify of the record (keys sorted, `log.level` and `ecs.version`
   * dotted), split where audit.integrity's value goes: line = head + integrity + tail. templateOf
   * derives the MAC input from it.
   */
  sorted?: { head: string; tail: string; at?: KeyOffsets }
  /** Any other shape: the texts around the integrity object, already split. */
  template?: Template
}

/**
 * Where the serialiser wrote `"ecs.version":` and `"log.level":` (offsets of their opening quote):
 * in the serialiser's text (events/serialize.ts fills them for the text it returned last), or, in a
 * Prepared, in its tail. -1: not known. templateOf checks them before it relies on them.
 */
export interface KeyOffsets {
  ecs: number
  level: number
}

/** Line = lineHead + integrity (with mac) + lineTail; MAC input = macHead + integrity (no mac) + macTail. */
export interface Template {
  lineHead: string
  lineTail: string
  macHead: string
  macTail: string
}

export interface PrepareOptions {
  /** Most UTF-8 bytes a sealed line may have (without the newline). */
  maxLineBytes: number
  /** Shrinks `record` in place to about `budget` bytes of JSON (writer/limit.ts). */
  shrink?: (record: Record<string, unknown>, budget: number) => unknown
  /**
   * Serialiser for the common shape; must return exactly what JSON.stringify returns. The logger
   * passes its own (events/serialize.ts), several times cheaper than JSON.stringify on its records.
   */
  stringify?: (record: Record<string, unknown>) => string
  /**
   * The same text, but only when the serialiser found, while writing it, every object below the top
   * level in sorted key order without dotted keys (events/serialize.ts `sorted`); undefined when it
   * cannot say. Given, the common shape needs no walk of its own to check that order.
   */
  serializeSorted?: (record: Record<string, unknown>) => string | undefined
  /**
   * The same text with audit's keys sorted and `"integrity":` written among them without a value,
   * which goes at `sortedOffsets.integrity` (events/serialize.ts split), for a record whose top-level
   * keys are in canonical order; undefined when it cannot say. Given, the common shape needs neither
   * a sorted copy of audit with a stand-in value nor a search for it.
   */
  serializeSplit?: (record: Record<string, unknown>) => string | undefined
  /**
   * Filled by serializeSorted and serializeSplit for the text they returned last
   * (events/serialize.ts): saves templateOf two searches per record for the keys it rewrites, and
   * says where split() left audit.integrity's value out.
   */
  sortedOffsets?: KeyOffsets & { integrity?: number }
  /** Chain format the record is prepared for (how `fields` is written). Default 2. */
  version?: 1 | 2
}

/**
 * Room kept for audit.integrity besides its field list: mac and prev (43 characters each), seq,
 * stream, v, mark, interval; the genesis record's sealed key and previous stream (~500). Generous on
 * purpose: a line that ends up a little short of the cap costs nothing, one over it is cut by shippers.
 */
const INTEGRITY_ROOM = 1024

/**
 * Stand-in serialised in place of `audit.integrity`, then split out. A plain string (nothing in it
 * to escape), random per process, so no record can hold it by chance; should one hold it all the
 * same, the stand-in is not found exactly once and the record takes the general path.
 */
export const SLOT = `~${randomBytes(12).toString('base64url')}~`
const SLOT_JSON = `"${SLOT}"`
const SLOT_KEY = '"integrity":"'

export type Preparer = (record: Record<string, unknown>) => Prepared

/**
 * A logger's preparer: options fixed once, and the last field list it wrote (consecutive records are
 * mostly of one kind, so the list's JSON text is usually the previous one's).
 */
export function createPreparer(options: PrepareOptions): Preparer {
  const stringify = options.stringify ?? JSON.stringify
  const fields = createFieldsText(options.version ?? 2)
  const text: Serialize = options.serializeSorted
    ? { checks: true, write: options.serializeSorted }
    : { checks: false, write: stringify }
  const offsets = options.sortedOffsets
  const split = options.serializeSplit
  const shape = (record: Record<string, unknown>, mark: Mark | undefined): Prepared =>
    (split !== undefined && offsets !== undefined
      ? prepareSplit(record, mark, split, fields, offsets)
      : undefined) ??
    prepareSorted(record, mark, text, fields, offsets) ??
    preparePieces(record, mark, fields)
  return (record) => {
    const mark = markOf(record)
    let prepared = shape(record, mark)
    const limit = options.maxLineBytes
    const room = prepared.fields.length + INTEGRITY_ROOM
    if (options.shrink && tooLong(prepared, limit - room)) {
      options.shrink(record, Math.max(1024, limit - room - 64))
      prepared = shape(record, mark)
    }
    return prepared
  }
}

/** One record's preparation (tests, rare paths); a logger keeps a preparer. */
export function prepareRecord(record: Record<string, unknown>, options: PrepareOptions): Prepared {
  return createPreparer(options)(record)
}

/** How the sorted path gets its text: `checks`: write() itself answers undefined unless the order holds. */
type Serialize = { checks: boolean; write: (record: Record<string, unknown>) => string | undefined }

function tooLong(p: Prepared, budget: number): boolean {
  const t = p.sorted ?? { head: p.template!.lineHead, tail: p.template!.lineTail }
  const text = t.head + t.tail
  // Every UTF-16 unit is at most 3 UTF-8 bytes; most lines are far under the limit.
  if (text.length * 3 <= budget) return false
  return Buffer.byteLength(text, 'utf8') > budget
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A string the splices can find the end of without parsing: nothing JSON would escape. */
function isPlainString(v: unknown): v is string {
  if (typeof v !== 'string') return false
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return false
  }
  return true
}

/** Top-level name as the canonical form sees it: the two dotted ECS keys expand to their first segment. */
function canonicalName(key: string): string {
  return key === 'log.level' ? 'log' : key === 'ecs.version' ? 'ecs' : key
}

type FieldsText = (names: string[]) => string

/**
 * The JSON text of a field list (v2: its mask, canonical.ts ROOTS_V2; v1: the names). The same few
 * lists repeat on every line: the previous one is checked first (consecutive records are mostly of
 * one kind); any other is written out.
 */
function createFieldsText(version: 1 | 2): FieldsText {
  let lastNames: string[] = []
  let lastText = ''
  return (names) => {
    if (names.length === lastNames.length) {
      let same = true
      for (let i = 0; i < names.length && same; i++) same = names[i] === lastNames[i]
      if (same) return lastText
    }
    let text = ''
    if (version === 2) text = fieldsValueV2(names)
    else {
      for (let i = 0; i < names.length; i++) text += i === 0 ? quoteKey(names[i]!) : `,${quoteKey(names[i]!)}`
      text = `[${text}]`
    }
    lastNames = names
    lastText = text
    return text
  }
}

/**
 * The common case, at the cost of one serialisation of the record (JSON.stringify, or the logger's
 * faster equivalent). The logger builds its records with every
 * object's keys in sorted order, top level included (log.level and ecs.version sitting where log
 * and ecs sort), so JSON.stringify(record) is the canonical text but for three spots, which
 * templateOf fixes by splicing. Returns undefined for any other shape (unsorted objects, other
 * dotted keys, shipper-owned keys present): those take the general path.
 */
function prepareSorted(
  record: Record<string, unknown>,
  mark: Mark | undefined,
  serialize: Serialize,
  fieldsText: FieldsText,
  offsets: KeyOffsets | undefined,
): Prepared | undefined {
  // Below the top level, the order is checked by the serialiser as it writes, or walked here.
  const walk = !serialize.checks
  const auditIn = record.audit
  if (auditIn !== undefined && !isPlainObject(auditIn)) return undefined
  if (!('audit' in record) || !sortedShapeKeys(record)) return undefined
  const names: string[] = []
  let prev = ''
  for (const k in record) {
    const name = canonicalName(k)
    if (!(prev < name)) return undefined
    prev = name
    if (k === 'log.level' || k === 'ecs.version') {
      names.push(name)
      continue
    }
    if (name.indexOf('.') !== -1 || name === 'log' || name === 'ecs') return undefined
    const v = record[k]
    if (k === 'audit') {
      names.push(k)
      continue
    }
    if (!isWritten(v)) continue
    if (walk && typeof v === 'object' && v !== null && !alreadyCanonical(v, 1)) return undefined
    names.push(k)
  }

  // audit, sorted, with the stand-in where integrity goes. The record is the logger's own: replacing
  // its audit object is fine (the sealer attaches the real integrity object afterwards).
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
    if (walk && typeof v === 'object' && v !== null && !alreadyCanonical(v, 2)) return undefined
    audit[k] = v
  }
  record.audit = audit
  const text = serialize.write(record)
  // The stand-in is searched for by itself, not with its key: it starts with `~`, rare in a record,
  // where `"integrity":` starts with a quote, which a search stops at every few characters (about
  // 1.6 µs per record against 0.1 µs).
  const slot = text === undefined ? -1 : text.indexOf(SLOT)
  const at = slot - SLOT_KEY.length
  // Out of order, or the stand-in not found once as audit.integrity's value (a record holding it,
  // or a serialiser that is not JSON.stringify's equal): the general path decides. The record's
  // audit object goes back as it was.
  if (
    text === undefined ||
    slot === -1 ||
    !text.startsWith(SLOT_KEY, at) ||
    text.charCodeAt(slot + SLOT.length) !== 0x22 ||
    text.indexOf(SLOT, slot + 1) !== -1
  ) {
    record.audit = auditIn
    return undefined
  }
  const head = text.slice(0, at + 12) // up to and including `"integrity":`
  const from = slot + SLOT.length + 1
  const sorted: { head: string; tail: string; at?: KeyOffsets } = { head, tail: text.slice(from) }
  if (offsets !== undefined && offsets.ecs > from && offsets.level > offsets.ecs) {
    sorted.at = { ecs: offsets.ecs - from, level: offsets.level - from }
  }
  return { mark, fields: fieldsText(names), names, sorted }
}

/**
 * The common shape through the logger's serialiser (serializeSplit): it writes the record's text
 * with audit in sorted order and a hole where audit.integrity's value goes, and says where; so no
 * copy of audit with a stand-in and no search for it. Undefined for any other shape.
 */
function prepareSplit(
  record: Record<string, unknown>,
  mark: Mark | undefined,
  split: (record: Record<string, unknown>) => string | undefined,
  fieldsText: FieldsText,
  offsets: KeyOffsets & { integrity?: number },
): Prepared | undefined {
  if (!sortedShapeKeys(record)) return undefined
  const text = split(record)
  const cut = offsets.integrity
  if (text === undefined || cut === undefined || cut < 0) return undefined
  const names = committedNames(record)
  if (names === undefined) return undefined
  const sorted: { head: string; tail: string; at?: KeyOffsets } = {
    head: text.slice(0, cut),
    tail: text.slice(cut),
  }
  if (offsets.ecs > cut && offsets.level > offsets.ecs) {
    sorted.at = { ecs: offsets.ecs - cut, level: offsets.level - cut }
  }
  return { mark, fields: fieldsText(names), names, sorted }
}

/**
 * The fields a record commits to (audit always; the dotted ECS keys as their first segment), in
 * canonical order; undefined when they are not in it. The serialiser answers only for records laid
 * out so; checked all the same, it is a few comparisons.
 */
function committedNames(record: Record<string, unknown>): string[] | undefined {
  const names: string[] = []
  for (const k in record) {
    if (k !== 'audit' && !isWritten(record[k])) continue
    const name = canonicalName(k)
    if (names.length > 0 && !(names[names.length - 1]! < name)) return undefined
    names.push(name)
  }
  return names
}

/**
 * What both sorted paths ask of a record first: the dotted ECS values are plain strings (templateOf
 * finds where each ends by the next quote), and its event holds none of the keys shippers own.
 */
function sortedShapeKeys(record: Record<string, unknown>): boolean {
  if (!isPlainString(record['log.level']) || !isPlainString(record['ecs.version'])) return false
  const event = record.event
  return !(isPlainObject(event) && hasShipperOwnedEvent(event))
}

/**
 * SHIPPER_OWNED.event present on the event: named reads (a loop over the names would be one
 * megamorphic keyed read each). The test keeps the two lists equal.
 */
export function hasShipperOwnedEvent(event: Record<string, unknown>): boolean {
  return (
    event.ingested !== undefined ||
    event.dataset !== undefined ||
    event.agent_id_status !== undefined ||
    event.original !== undefined ||
    event.module !== undefined
  )
}

const ECS_KEY = '"ecs.version":'
const LEVEL_KEY = '"log.level":'

/**
 * Line and MAC input around the integrity object. For the sorted shape: `"ecs.version":…` becomes
 * `"ecs":{}` in the MAC input (shipper-owned), `"log.level":x` becomes `"log":{"level":x}`. In sorted
 * order they come after audit (so in the tail), each once; what lies between is ours (fixed keys,
 * escaped strings), so the first match in the tail is the one; both values are plain strings
 * (prepareSorted checked), so their closing quote is the next quote.
 */
export function templateOf(p: Prepared): Template {
  if (p.template) return p.template
  const { head, tail, at } = p.sorted!
  // Where the serialiser says the keys are, when they are there; else searched for (`"` starts them,
  // so a search stops at every quote of the record: ~0.8 µs).
  const e = at !== undefined && tail.startsWith(ECS_KEY, at.ecs) ? at.ecs : tail.indexOf(ECS_KEY)
  const l =
    at !== undefined && at.level > e && tail.startsWith(LEVEL_KEY, at.level)
      ? at.level
      : tail.indexOf(LEVEL_KEY, e)
  if (e < 0 || l < 0) throw new Error('prepared text without its ECS keys')
  const eEnd = tail.indexOf('"', e + ECS_KEY.length + 1) + 1
  const lValue = l + LEVEL_KEY.length
  const lEnd = tail.indexOf('"', lValue + 1) + 1
  return {
    lineHead: head,
    lineTail: tail,
    macHead: head,
    macTail: `${tail.slice(0, e)}"ecs":{}${tail.slice(eEnd, l)}"log":{"level":${tail.slice(lValue, lEnd)}}${tail.slice(lEnd)}`,
  }
}

/** Splits a text holding the stand-in (exactly once) around it. */
function around(text: string, slot: string): [string, string] {
  const i = text.indexOf(slot)
  if (i < 0 || text.indexOf(slot, i + 1) !== -1) throw new Error('integrity stand-in not found once')
  return [text.slice(0, i), text.slice(i + slot.length)]
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

/** Raw NUL cannot occur in JSON text (it is escaped), so it marks where the integrity object goes. */
const HOLE = '\u0000'

/** Records of any other shape: each top-level value serialised once, in canonical form. */
function preparePieces(
  record: Record<string, unknown>,
  mark: Mark | undefined,
  fieldsText: FieldsText,
): Prepared {
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
    audit.integrity = SLOT
    return prepareCanonical(record, recordKeys, audit, mark, fieldsText)
  }

  // Canonical piece of every top-level value, serialised once.
  const pieces: string[] = new Array(names.length)
  for (let i = 0; i < names.length; i++) pieces[i] = writeValue(values[i], 1, SHIPPER_OWNED[names[i]!])

  const fieldNames = names.slice()
  fieldNames.push('audit')
  if (logLevel !== undefined) fieldNames.push('log')
  if (ecsVersion !== undefined) fieldNames.push('ecs')
  sortKeys(fieldNames)

  // audit: every member but integrity once; integrity is the hole.
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
  const auditText = `{${auditBefore}"integrity":${HOLE}${auditAfter}}`

  let macInput = '{'
  for (let i = 0; i < fieldNames.length; i++) {
    const k = fieldNames[i]!
    let piece: string
    if (k === 'audit') piece = auditText
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
  let j = 0
  for (let i = 0; i < recordKeys.length; i++) {
    const k = recordKeys[i]!
    if (k === 'audit') {
      afterAudit = true
      continue
    }
    const v = record[k]
    if (!isWritten(v)) continue
    let entry: string
    if (j < names.length && names[j] === k) {
      entry = `${quoteKey(k)}:${hasShipperOwned(k, v) ? writeValue(v, 1) : pieces[j]}`
      j++
    } else {
      entry = `${quoteKey(k)}:${writeValue(v, 1)}`
    }
    if (afterAudit) tail += `,${entry}`
    else head += head.length > 1 ? `,${entry}` : entry
  }
  const sep = head.length > 1 ? ',' : ''
  const [lineHead, lineTail] = around(`${head}${sep}"audit":${auditText}${tail}}`, HOLE)
  const [macHead, macTail] = around(macInput, HOLE)
  return {
    mark,
    fields: fieldsText(fieldNames),
    names: fieldNames,
    template: { lineHead, lineTail, macHead, macTail },
  }
}

/** Rare shapes (other dotted top-level keys, dotted keys under audit): the line is the canonical form itself. */
function prepareCanonical(
  record: Record<string, unknown>,
  recordKeys: string[],
  audit: Record<string, unknown>,
  mark: Mark | undefined,
  fieldsText: FieldsText,
): Prepared {
  const flat: Record<string, unknown> = Object.create(null)
  for (const k of recordKeys) {
    const v = k === 'audit' ? audit : record[k]
    if (isWritten(v)) flat[k] = v
  }
  if (!('audit' in flat)) flat.audit = audit
  const top = expandKeys(flat)
  const names = Object.keys(top).sort()
  const [lineHead, lineTail] = around(canonicalize(top), SLOT_JSON)
  const [macHead, macTail] = around(macInputOf(top, names), SLOT_JSON)
  return { mark, fields: fieldsText(names), names, template: { lineHead, lineTail, macHead, macTail } }
}

/*
 * Prepared records on their way to a worker thread: one string per record, parts joined by a
 * separator that JSON text never holds raw (control characters are always escaped in it).
 */
const SEP = '\u0001'

export function encodePrepared(p: Prepared): string {
  const mark = p.mark ?? ''
  const sorted = p.sorted
  if (sorted !== undefined) {
    // The key offsets last, after the tail: `ecs.level`, or nothing when not known.
    const at = sorted.at === undefined ? '' : `${sorted.at.ecs}.${sorted.at.level}`
    return `${mark}${SEP}${p.fields}${SEP}${sorted.head}${SEP}${sorted.tail}${SEP}${at}`
  }
  const t = p.template!
  return `${mark}${SEP}${p.fields}${SEP}${t.lineHead}${SEP}${t.lineTail}${SEP}${t.macHead}${SEP}${t.macTail}`
}

export function decodePrepared(s: string): Prepared {
  const a = s.indexOf(SEP)
  const b = s.indexOf(SEP, a + 1)
  const mark = (a === 0 ? undefined : s.slice(0, a)) as Mark | undefined
  const fields = s.slice(a + 1, b)
  const c = s.indexOf(SEP, b + 1)
  const d = s.indexOf(SEP, c + 1)
  const e = s.indexOf(SEP, d + 1)
  if (e === -1) {
    const sorted: { head: string; tail: string; at?: KeyOffsets } = {
      head: s.slice(b + 1, c),
      tail: s.slice(c + 1, d),
    }
    const dot = s.indexOf('.', d + 1)
    if (dot !== -1) sorted.at = { ecs: Number(s.slice(d + 1, dot)), level: Number(s.slice(dot + 1)) }
    return { mark, fields, sorted }
  }
  return {
    mark,
    fields,
    template: {
      lineHead: s.slice(b + 1, c),
      lineTail: s.slice(c + 1, d),
      macHead: s.slice(d + 1, e),
      macTail: s.slice(e + 1),
    },
  }
}
