/**
 * The canonical form that MACs cover (RFC 8785 style, plus dotted-key expansion).
 *
 * A line goes through Fluentd / Fluent Bit, Filebeat and Elasticsearch before anyone verifies it.
 * Those may reorder keys, change whitespace, re-print numbers, expand `"log.level"` into
 * `{"log":{"level":…}}` and add fields of their own. The canonical form is therefore defined on the
 * parsed value, not on the bytes:
 *
 * - object keys sorted by UTF-16 code units (RFC 8785 §3.2.3), no whitespace;
 * - strings and numbers printed as ECMAScript JSON.stringify prints them (RFC 8785 uses the same
 *   number form); non-finite numbers become null, BigInt a decimal string;
 * - a key containing dots (`"a.b"`) is expanded into nested objects and merged with its siblings,
 *   as Elasticsearch and Filebeat's `expand_keys` do. A dotted key that would collide with a value
 *   that is not an object (`{"a":1,"a.b":2}`) stays as it is; the outcome never depends on key order;
 * - only the top-level fields the record commits to (`audit.integrity.fields`) are covered, so
 *   fields added by shippers (`kubernetes`, `stream`, `time`, `tag`, `agent`, `host`, ...) are ignored;
 * - inside those, a few paths that shippers and ingest pipelines own are ignored too (SHIPPER_OWNED);
 *   the logger must not put anything that matters there.
 *
 * Invariant (tested): canonicalize(JSON.parse(line)) equals what the sealer computed.
 */

import { sortKeys } from '../sort-keys'

export { sortKeys }

/** Paths inside our top-level objects that shippers or ingest pipelines set or overwrite. */
export const SHIPPER_OWNED: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, readonly string[]>, {
    // Filebeat / Elastic Agent overwrite ecs.version with their own.
    ecs: ['version'],
    // Elastic ingest pipelines add event.ingested, event.agent_id_status and (preserve_original_event)
    // event.original; Filebeat modules and data streams set event.module and event.dataset.
    event: ['ingested', 'dataset', 'agent_id_status', 'original', 'module'],
    // Filebeat adds log.file.path, log.offset and log.flags to every line it reads.
    log: ['file', 'offset', 'flags'],
  }),
)

/** Beyond this depth a value is written as a marker string (also stops cycles). */
const MAX_DEPTH = 64
const TOO_DEEP = '"[Too deep]"'

type Obj = Record<string, unknown>

/** JSON string literal of an object key (a key is a string like any other; the name says where it goes). */
export function quoteKey(key: string): string {
  return quoteString(key)
}

/**
 * JSON string literal, as JSON.stringify writes it. Short strings without anything to escape (the
 * common case) are quoted directly: calling JSON.stringify per field is a large part of the cost.
 */
export function quoteString(s: string): string {
  const n = s.length
  if (n > 64) return JSON.stringify(s)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return `"${s}"`
}

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A key such as `log.level`: expandable only when every segment is non-empty. */
export function isDotted(key: string): boolean {
  const i = key.indexOf('.')
  if (i === -1) return false
  return i > 0 && !key.endsWith('.') && !key.includes('..')
}

/**
 * Own enumerable keys with dotted keys expanded and merged, in no particular order.
 * Returns the input itself when it has no dotted key (the common case), otherwise a new object
 * (plain when nothing merges, see simpleExpansion; else null-prototype); the input is never modified.
 */
export function expandKeys(obj: Obj): Obj {
  let dotted: string[] | undefined
  const all = Object.keys(obj)
  for (let i = 0; i < all.length; i++) {
    const key = all[i]!
    if (key.indexOf('.') === -1 || !isDotted(key)) continue
    if (dotted === undefined) dotted = []
    dotted.push(key)
  }
  if (dotted === undefined) return obj
  return simpleExpansion(obj, all, dotted) ?? generalExpansion(obj, all, dotted)
}

/** expandKeys without its common-case path (simpleExpansion): what the tests compare it with. */
export function expandKeysGeneral(obj: Obj): Obj {
  const all = Object.keys(obj)
  const dotted = all.filter(isDotted)
  return dotted.length === 0 ? obj : generalExpansion(obj, all, dotted)
}

/** Dotted keys merged into null-prototype objects, whatever collides. */
function generalExpansion(obj: Obj, all: readonly string[], dotted: string[]): Obj {
  const out: Obj = Object.create(null)
  for (const key of all) {
    if (!isDotted(key)) out[key] = obj[key]
  }
  // Sorted so that the result, including which keys stay literal on a collision, is independent of key order.
  dotted.sort()
  for (const key of dotted) {
    const value = obj[key]
    if (value === undefined) continue
    if (!mergePath(out, key.split('.'), value)) {
      // A literal dotted key can itself collide with an earlier literal one only if keys repeat, which
      // objects cannot; keep the first (sorted) one.
      if (!Object.hasOwn(out, key)) out[key] = value
    }
  }
  return out
}

/** Names a plain object answers without holding them (Object.prototype's). */
const INHERITED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype))

/**
 * expandKeys in the common case, as the SDK writes records (`ecs.version`, `log.level`): each
 * dotted key opens a path of its own (no sibling or other dotted key shares its first segment), so
 * nothing merges and nothing collides, and no name is one an object inherits. The result is then the
 * general path's (same members, same nesting) but made of plain objects, in the input's key order
 * with a dotted key's path where the key was: V8 keeps those in fast mode, where the null-prototype
 * objects of the general path are dictionaries, slower to read, list and stringify for everyone
 * after (finding the record, its canonical form, the report's facts). Undefined when the case is
 * not this one.
 */
function simpleExpansion(obj: Obj, all: readonly string[], dotted: readonly string[]): Obj | undefined {
  for (let i = 0; i < all.length; i++) if (INHERITED.has(all[i]!)) return undefined
  const heads: string[] = []
  for (const key of dotted) {
    const path = key.split('.')
    for (const seg of path) if (INHERITED.has(seg)) return undefined
    const head = path[0]!
    if (Object.hasOwn(obj, head) || heads.includes(head) || obj[key] === undefined) return undefined
    heads.push(head)
  }
  const out: Obj = {}
  for (const key of all) {
    if (!isDotted(key)) {
      out[key] = obj[key]
      continue
    }
    const path = key.split('.')
    let cur = out
    for (let i = 0; i < path.length - 1; i++) {
      const next: Obj = {}
      cur[path[i]!] = next
      cur = next
    }
    cur[path[path.length - 1]!] = obj[key]
  }
  return out
}

/**
 * `top[key]` as the general expansion's null-prototype objects answer it: a name inherited from
 * Object.prototype is not a member unless the object holds it (see simpleExpansion).
 */
function member(top: Obj, key: string): unknown {
  return INHERITED.has(key) && !Object.hasOwn(top, key) ? undefined : top[key]
}

/** Puts `value` at `path` under `target`, copying (never mutating) objects met on the way. */
function mergePath(target: Obj, path: string[], value: unknown): boolean {
  // First a read-only pass: a collision must leave `target` untouched.
  let node: unknown = target
  for (let i = 0; i < path.length - 1; i++) {
    const next = (node as Obj)[path[i]!]
    if (next === undefined) {
      node = undefined
      break
    }
    if (!isPlainObject(next)) return false
    node = expandKeys(next)
  }
  if (node !== undefined) {
    const last = (node as Obj)[path[path.length - 1]!]
    if (last !== undefined && !(isPlainObject(last) && isPlainObject(value) && canMerge(last, value)))
      return false
  }
  let cur = target
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!
    const next = cur[seg]
    const copy: Obj = Object.create(null)
    if (next !== undefined) Object.assign(copy, expandKeys(next as Obj))
    cur[seg] = copy
    cur = copy
  }
  const seg = path[path.length - 1]!
  const existing = cur[seg]
  cur[seg] = existing === undefined ? value : mergeObjects(existing as Obj, value as Obj)
  return true
}

function canMerge(a: Obj, b: Obj): boolean {
  const ea = expandKeys(a)
  const eb = expandKeys(b)
  for (const key of Object.keys(eb)) {
    if (eb[key] === undefined) continue
    const av = ea[key]
    if (av === undefined) continue
    const bv = eb[key]
    if (!(isPlainObject(av) && isPlainObject(bv) && canMerge(av, bv))) return false
  }
  return true
}

function mergeObjects(a: Obj, b: Obj): Obj {
  const out: Obj = Object.create(null)
  Object.assign(out, expandKeys(a))
  const eb = expandKeys(b)
  for (const key of Object.keys(eb)) {
    const bv = eb[key]
    if (bv === undefined) continue
    const av = out[key]
    out[key] = av === undefined ? bv : mergeObjects(av as Obj, bv as Obj)
  }
  return out
}

/** Canonical JSON text of any value. `skip` names keys of this (top) object to leave out. */
export function canonicalize(value: unknown, skip?: readonly string[]): string {
  return write(value, 0, skip)
}

function write(value: unknown, depth: number, skip?: readonly string[]): string {
  switch (typeof value) {
    case 'string':
      return quoteString(value)
    case 'number':
      return Number.isFinite(value) ? String(value === 0 ? 0 : value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return `"${value.toString()}"`
    case 'object':
      break
    default:
      // undefined, functions and symbols: JSON.stringify leaves them out of objects and writes null in arrays
      return 'null'
  }
  if (value === null) return 'null'
  if (depth >= MAX_DEPTH) return TOO_DEEP
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    let replaced: unknown
    try {
      replaced = (value as { toJSON: () => unknown }).toJSON()
    } catch {
      replaced = null
    }
    return write(replaced, depth, skip)
  }
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      out += write(value[i], depth + 1)
    }
    return `${out}]`
  }
  return writeObject(value as Obj, depth, skip)
}

function writeObject(obj: Obj, depth: number, skip?: readonly string[]): string {
  let keys = Object.keys(obj)
  let expanded = obj
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]!.indexOf('.') !== -1) {
      expanded = expandKeys(obj)
      keys = Object.keys(expanded)
      break
    }
  }
  if (keys.length > 1) sortKeys(keys)
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const v = expanded[key]
    const t = typeof v
    if (t === 'undefined' || t === 'function' || t === 'symbol') continue
    if (skip?.includes(key)) continue
    if (out.length > 1) out += ','
    out += quoteKey(key)
    out += ':'
    out += t === 'string' ? quoteString(v as string) : write(v, depth + 1)
  }
  return `${out}}`
}

/** Canonical text of a value found at `depth` (top-level values are at depth 1). */
export function writeValue(value: unknown, depth: number, skip?: readonly string[]): string {
  if (
    typeof value === 'object' &&
    value !== null &&
    (skip === undefined || !hasAnyKey(value, skip)) &&
    alreadyCanonical(value, depth)
  ) {
    // The logger builds its records with sorted keys, so most values need no rewriting at all: the
    // engine's own JSON.stringify then writes exactly the canonical text, flat and much faster.
    return JSON.stringify(value)
  }
  return write(value, depth, skip)
}

function hasAnyKey(value: object, keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) if ((value as Obj)[keys[i]!] !== undefined) return true
  return false
}

/**
 * True when JSON.stringify(value) is exactly its canonical text: plain objects and arrays only, every
 * object's keys (in the engine's own order, which puts integer-like keys first) already sorted by
 * UTF-16 code units, no dotted key, no BigInt, no toJSON, within the depth limit. Builds nothing.
 */
export function alreadyCanonical(value: unknown, depth: number): boolean {
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i]
      const t = typeof v
      if (t === 'bigint') return false
      if (t === 'object' && v !== null && !alreadyCanonical(v, depth + 1)) return false
    }
    return true
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false
  // for...in, not Object.keys: same order for a plain object's own keys, and no array per object.
  let prev: string | undefined
  for (const key in value as Obj) {
    if (prev !== undefined && !(prev < key)) return false
    if (key.indexOf('.') !== -1) return false
    prev = key
    const v = (value as Obj)[key]
    const t = typeof v
    if (t === 'bigint') return false
    if (t === 'object' && v !== null && !alreadyCanonical(v, depth + 1)) return false
  }
  return true
}

/** Whether a value would be written (JSON.stringify drops these object members). */
export function isWritten(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol'
}

/**
 * What a verifier MACs for a parsed record: the committed top-level fields, dotted keys expanded,
 * shipper-owned paths and `audit.integrity.mac` left out. Returns undefined when the record has no
 * integrity object.
 *
 * The fields go into one object written at once (writeValue: one JSON.stringify when the record is
 * in canonical order, as the logger writes it): half the cost of writing them one by one, which a
 * verifier pays for every record. A field list naming a field twice writes it twice (macInputParts).
 */
export function macInputOf(record: Obj, fields: readonly string[], version = 1): string {
  const top = expandKeys(record)
  const { names, repeated, proto } = sortedFields(fields)
  if (repeated) return macInputParts(top, top !== record, names, version)
  const view: Obj = proto ? Object.create(null) : {}
  for (const key of names) {
    const v = top === record ? top[key] : member(top, key)
    if (!isWritten(v)) continue
    if (key === 'audit' && isPlainObject(v))
      view[key] = withoutMac(v, version === 2 ? SEAL_ONLY_V2 : SEAL_ONLY_V1)
    else {
      const owned = SHIPPER_OWNED[key]
      view[key] = isPlainObject(v) ? withoutOwned(v, owned ?? NONE) : v
    }
  }
  return writeValue(view, 0)
}

interface SortedFields {
  names: readonly string[]
  /** A name comes twice. */
  repeated: boolean
  /** `__proto__` is one of them. */
  proto: boolean
}

let lastFields: readonly string[] | undefined
let lastSorted: SortedFields | undefined

/**
 * The field list sorted, once per list: format 2's lists come from namesOfFieldsV2, one array per
 * `fields` value, so a stream's records share one and sorting it again per record is waste.
 */
function sortedFields(fields: readonly string[]): SortedFields {
  if (fields === lastFields && lastSorted !== undefined) return lastSorted
  const names = [...fields].sort()
  let repeated = false
  for (let i = 1; i < names.length; i++) if (names[i] === names[i - 1]) repeated = true
  const sorted = { names, repeated, proto: names.includes('__proto__') }
  // Only lists nobody can change afterwards are remembered (namesOfFieldsV2 freezes its own).
  if (Object.isFrozen(fields)) {
    lastFields = fields
    lastSorted = sorted
  }
  return sorted
}

/**
 * `v` without the shipper-owned members it has (dotted keys expanded). A plain object: expandKeys
 * makes null-prototype ones (`log` of `log.level`), and one such object anywhere sends the whole
 * JSON.stringify down V8's slow path.
 */
function withoutOwned(v: Obj, owned: readonly string[]): Obj {
  const e = expandKeys(v)
  return hasAnyKey(e, owned) || Object.getPrototypeOf(e) === null
    ? fastCopy(e, undefined, undefined, owned)
    : e
}

const NONE: readonly string[] = []

/** macInputOf field by field, in the given (sorted) order: a field named twice is written twice. */
function macInputParts(top: Obj, expanded: boolean, names: readonly string[], version: number): string {
  let out = '{'
  let first = true
  for (const key of names) {
    let v = expanded ? member(top, key) : top[key]
    if (!isWritten(v)) continue
    if (key === 'audit' && isPlainObject(v)) v = withoutMac(v, version === 2 ? SEAL_ONLY_V2 : SEAL_ONLY_V1)
    if (!first) out += ','
    first = false
    out += quoteKey(key)
    out += ':'
    out += write(v, 1, SHIPPER_OWNED[key])
  }
  return `${out}}`
}

/** Members of audit.integrity that the canonical form leaves out: the MAC itself (v1); the epoch's seal (v2). */
const SEAL_ONLY_V1 = ['mac']
const SEAL_ONLY_V2 = ['mac', 'epoch', 'from']

/**
 * Chain format v2 names the top-level fields a record commits to by a bitmask over this registry
 * (bit i = ROOTS_V2[i]), written as lowercase hex: `"fields":"8e3"`. Roots outside it follow the mask
 * in an array: `"fields":["8e3","custom"]`. Append only: a name's bit never changes once written.
 */
export const ROOTS_V2: readonly string[] = Object.freeze([
  '@timestamp',
  'audit',
  'client',
  'db',
  'destination',
  'ecs',
  'error',
  'event',
  'http',
  'labels',
  'log',
  'message',
  'network',
  'server',
  'service',
  'source',
  'span',
  'trace',
  'url',
  'user',
  'user_agent',
  // Appended: the privacy monitor's alerts (ECS rule.name, rule.ruleset).
  'rule',
])
const ROOT_BIT: ReadonlyMap<string, number> = new Map(ROOTS_V2.map((name, i) => [name, i]))

/** The JSON text of a v2 `fields` value for these top-level names. */
export function fieldsValueV2(names: readonly string[]): string {
  let mask = 0
  let extra = ''
  for (const name of names) {
    const bit = ROOT_BIT.get(name)
    if (bit === undefined) extra += `,${quoteString(name)}`
    else mask |= 1 << bit
  }
  const hex = `"${mask.toString(16)}"`
  return extra === '' ? hex : `[${hex}${extra}]`
}

let lastHex: string | undefined
let lastNames: readonly string[] | undefined

/**
 * The top-level names a v2 `fields` value stands for; undefined when it is not one. Frozen, and the
 * same array for the same mask as the last call's: a stream's records mostly carry one value, and
 * this runs twice per record (finding it, its MAC input).
 */
export function namesOfFieldsV2(value: unknown): readonly string[] | undefined {
  if (typeof value === 'string' && value === lastHex) return lastNames
  const names = namesOfFieldsV2Uncached(value)
  if (typeof value === 'string' && names !== undefined) {
    lastHex = value
    lastNames = Object.freeze(names)
    return lastNames
  }
  return names
}

function namesOfFieldsV2Uncached(value: unknown): string[] | undefined {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) return undefined
  const hex = list[0] as string
  if (!/^[0-9a-f]{1,8}$/.test(hex)) return undefined
  const mask = Number.parseInt(hex, 16)
  if (mask >= 2 ** ROOTS_V2.length) return undefined
  const names: string[] = []
  for (let i = 0; i < ROOTS_V2.length; i++) if (mask & (1 << i)) names.push(ROOTS_V2[i]!)
  for (let i = 1; i < list.length; i++) names.push(list[i] as string)
  return names
}

function withoutMac(audit: Obj, leave: readonly string[]): Obj {
  const a = expandKeys(audit)
  const integrity = a.integrity
  if (!isPlainObject(integrity)) return a
  const i = expandKeys(integrity)
  return fastCopy(a, 'integrity', fastCopy(i, undefined, undefined, leave))
}

/**
 * A copy of `o` with `key` replaced by `value` (when given) and the keys in `leave` left out. A plain
 * object, filled in order rather than with `delete`: both a null-prototype object and deleting make
 * V8 store the object as a dictionary, which JSON.stringify (writeValue) then walks several times
 * slower. A key `__proto__` cannot be set on a plain object: such input gets a null-prototype copy.
 */
function fastCopy(o: Obj, key: string | undefined, value: unknown, leave?: readonly string[]): Obj {
  const keys = Object.keys(o)
  const plain = !keys.includes('__proto__')
  const out: Obj = plain ? {} : Object.create(null)
  for (let k = 0; k < keys.length; k++) {
    const name = keys[k]!
    if (leave?.includes(name)) continue
    out[name] = name === key ? value : o[name]
  }
  return out
}
