// The walk: a JSON-safe deep copy of anything a caller passes, with the key layer applied to every
// key and the value layer to every string. It is also the sanitiser for hostile input, so every read
// is guarded and every dimension (depth, width, length, total work) is bounded; it never throws.

import { sortKeys } from '../sort-keys'
import { describeWith } from './errors'
import { MAX_DEPTH, MAX_ITEMS, MAX_KEY, MAX_KEYS, MAX_NODES, MAX_TOTAL_CHARS } from './limits'
import { type Compiled, internal, type Policy, PSEUDONYMIZE, REMOVE } from './policy'
import { hmacPseudonym } from './pseudonymize'
import { scrub } from './scrub'

const CIRCULAR = '[Circular]'
const TRUNCATED = '[Truncated]'
const UNREADABLE = '[Unreadable]'

interface Walk {
  c: Compiled
  /** Objects on the current path by depth (cycle detection; a shared, non-circular reference is fine). */
  stack: object[]
  nodes: number
  chars: number
}

/** Returns a redacted, JSON-safe deep copy of `value` with sorted object keys. Never throws. */
export function redact(value: unknown, policy: Policy): unknown {
  try {
    // A lone string (a reason, a role, a user agent) needs no walk state: the hot path of every event.
    if (typeof value === 'string') return scrub(value, internal(policy))
    return walk(value, { c: internal(policy), stack: [], nodes: MAX_NODES, chars: MAX_TOTAL_CHARS }, 0, false)
  } catch {
    return UNREADABLE
  }
}

function str(s: string, w: Walk): string {
  if (w.chars <= 0) return TRUNCATED
  w.chars -= Math.min(s.length, 4096)
  return scrub(s, w.c)
}

function walk(v: unknown, w: Walk, depth: number, person: boolean): unknown {
  if (--w.nodes < 0) return TRUNCATED
  switch (typeof v) {
    case 'string':
      // A string right under a person key, or in a list under one, names or identifies that person.
      return person ? keyLayer(v, 'person', w.c) : str(v, w)
    case 'number':
      return Number.isFinite(v) ? v : null
    case 'boolean':
      return v
    case 'bigint':
      return v.toString()
    case 'object':
      if (v === null) return null
      return walkObject(v, w, depth, person)
    default:
      return undefined // undefined, functions and symbols are not data
  }
}

function walkObject(o: object, w: Walk, depth: number, person: boolean): unknown {
  // The objects on the path from the root sit at stack[0 .. depth-1]: a cycle is one of them again.
  const stack = w.stack
  for (let i = 0; i < depth; i++) if (stack[i] === o) return CIRCULAR
  if (depth >= MAX_DEPTH) return TRUNCATED
  stack[depth] = o
  try {
    if (Array.isArray(o)) return walkArray(o, w, depth, person)
    const proto = Object.getPrototypeOf(o)
    if (proto === Object.prototype || proto === null) return walkKeys(o, w, depth, person)
    return walkSpecial(o, w, depth, person)
  } catch {
    return UNREADABLE // Proxy traps, revoked proxies, hostile iterators
  }
}

function walkArray(a: readonly unknown[], w: Walk, depth: number, person: boolean): unknown[] {
  const length = Number(a.length) || 0
  const n = Math.min(length, MAX_ITEMS)
  const out: unknown[] = new Array(n)
  for (let i = 0; i < n; i++) {
    if (w.nodes <= 0) {
      // Out of budget: say so once instead of visiting the rest.
      out.length = i
      out.push(TRUNCATED)
      return out
    }
    let item: unknown
    try {
      item = a[i]
    } catch {
      out[i] = UNREADABLE
      continue
    }
    const r = walk(item, w, depth + 1, person)
    out[i] = r === undefined || r === REMOVED ? null : r
  }
  if (length > n) out.push(`[+${length - n} items]`)
  return out
}

function walkSpecial(o: object, w: Walk, depth: number, person: boolean): unknown {
  if (o instanceof Date) {
    const t = Date.prototype.getTime.call(o)
    return Number.isNaN(t) ? null : new Date(t).toISOString()
  }
  if (ArrayBuffer.isView(o)) return `[Binary ${o.byteLength} bytes]` // never the content
  if (
    o instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer === 'function' && o instanceof SharedArrayBuffer)
  ) {
    return `[Binary ${o.byteLength} bytes]`
  }
  if (o instanceof Error) return sorted(describeWith(o, w.c))
  if (o instanceof Map) return walkMap(o, w, depth, person)
  if (o instanceof Set) {
    const items: unknown[] = []
    for (const item of o) {
      if (items.length >= MAX_ITEMS) break
      items.push(item)
    }
    const out = walkArray(items, w, depth, person)
    if (o.size > MAX_ITEMS) out.push(`[+${o.size - MAX_ITEMS} items]`)
    return out
  }
  if (o instanceof String || o instanceof Number || o instanceof Boolean) {
    return walk(o.valueOf(), w, depth, person)
  }
  const toJSON = (o as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    // URL, Decimal, ObjectId, Luxon ... : what JSON.stringify would have written, walked again.
    const json = toJSON.call(o)
    if (json !== o) return walk(json, w, depth + 1, person)
  }
  return walkKeys(o, w, depth, person)
}

function walkMap(m: Map<unknown, unknown>, w: Walk, depth: number, person: boolean): unknown {
  const obj: Record<string, unknown> = Object.create(null)
  let n = 0
  for (const [k, v] of m) {
    if (n++ >= MAX_ITEMS) break
    const t = typeof k
    const key =
      t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' ? String(k) : `[key ${n}]`
    if (!Object.hasOwn(obj, key)) obj[key] = v
  }
  const out = walkKeys(obj, w, depth, person) as Record<string, unknown>
  if (m.size > MAX_ITEMS) setKey(out, '…', `[+${m.size - MAX_ITEMS} entries]`)
  return out
}

/** What the key layer returns in remove mode: the caller leaves the value out. */
const REMOVED: unique symbol = Symbol('removed')

/** The key layer's replacement for a whole value: a mask, a pseudonym, or REMOVED. */
function keyLayer(v: unknown, category: string, c: Compiled): unknown {
  const mode = c.modeFor(category)
  if (mode === REMOVE) return REMOVED
  const t = typeof v
  if (mode === PSEUDONYMIZE && c.key && (t === 'string' || t === 'number' || t === 'bigint')) {
    return hmacPseudonym(c.key, category, String(v))
  }
  return c.maskFor(category)
}

function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

function sorted(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(o).sort()) setKey(out, k, (o as Record<string, unknown>)[k])
  return out
}

// Keys with a digit, '@', control or non-ASCII character go through the detectors and the cleaner.
const KEY_NEEDS_WORK = /[0-9@\x00-\x1f\x7f-\uffff]/

/** The key as written: sanitised, capped, and through the detectors when it could hold one. */
function outputKey(k: string, c: Compiled): string {
  if (k.length <= MAX_KEY && !KEY_NEEDS_WORK.test(k)) return k
  return scrub(k, c, MAX_KEY)
}

const PERSON_RESOURCES = new Set(['Patient', 'Person', 'RelatedPerson'])

function isPersonResource(o: object): boolean {
  try {
    return PERSON_RESOURCES.has((o as { resourceType?: unknown }).resourceType as string)
  } catch {
    return false
  }
}

function walkKeys(o: object, w: Walk, depth: number, person: boolean): Record<string, unknown> {
  const c = w.c
  let keys = Object.keys(o)
  const total = keys.length
  if (total > MAX_KEYS) keys = keys.slice(0, MAX_KEYS)
  sortKeys(keys)
  // A FHIR Patient / Person / RelatedPerson logged as is: its name, identifier ... identify the person.
  if (!person && keys.includes('resourceType')) person = isPersonResource(o)
  const out: Record<string, unknown> = {}
  let renamed = false
  for (let i = 0; i < keys.length; i++) {
    if (w.nodes <= 0) {
      setKey(out, '…', TRUNCATED)
      return renamed ? sorted(out) : out
    }
    const k = keys[i]!
    let v: unknown
    try {
      v = (o as Record<string, unknown>)[k]
    } catch {
      v = UNREADABLE
    }
    const t = typeof v
    if (t === 'undefined' || t === 'function' || t === 'symbol') continue
    const verdict = c.keyVerdict(k)
    const category = person ? verdict.personCategory : verdict.category
    let key = verdict.out
    if (key === undefined) {
      key = outputKey(k, c)
      if (k.length <= 64) verdict.out = key
    }
    if (key !== k) {
      renamed = true
      // Two keys that redact to the same text must not overwrite each other.
      if (Object.hasOwn(out, key)) key = `${key}#${i}`
    }
    if (category !== null || (verdict.person && !verdict.plural && (t === 'number' || t === 'bigint'))) {
      // Key layer: booleans and null say nothing about who; anything else is replaced whole.
      if (v === null || t === 'boolean') {
        setKey(out, key, v)
        continue
      }
      const r = keyLayer(v, category ?? 'person', c)
      if (r !== REMOVED) setKey(out, key, r)
      continue
    }
    const r = walk(v, w, depth + 1, verdict.person)
    if (r !== undefined && r !== REMOVED) setKey(out, key, r)
  }
  if (total > MAX_KEYS) setKey(out, '…', `[+${total - MAX_KEYS} keys]`)
  return renamed ? sorted(out) : out
}
