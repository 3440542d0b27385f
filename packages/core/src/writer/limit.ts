/** Container runtimes split longer lines (Docker and CRI at 16 KiB), which breaks JSON parsing downstream. */
export const MAX_LINE_BYTES = 16 * 1024

/** UTF-8 size of a string without encoding it when the answer is obvious. */
export function byteLength(s: string): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes; most lines are far under the limit.
  if (s.length * 3 <= MAX_LINE_BYTES) return s.length
  return Buffer.byteLength(s, 'utf8')
}

interface Leaf {
  parent: Record<string, unknown> | unknown[]
  key: string | number
  length: number
}

/**
 * Shrinks a record until its JSON fits in `budget` bytes: the longest strings are cut first, then
 * long lists (a caller's 100,000 roles or categories), then the caller-supplied `audit.details` and
 * `message` are reduced, then only the skeleton of the event is kept, and last a minimal record
 * made of a few short strings, which fits any budget of 4 KiB or more whatever the input was.
 * Marks the record `audit.truncated: true`. Works on the record in place.
 */
export function shrinkToFit(record: Record<string, unknown>, budget: number): string {
  markTruncated(record)
  let json = JSON.stringify(record)
  // Lists past what the redaction walk keeps (100 items) only come from a caller's data: cutting them
  // first keeps the rounds below cheap.
  if (!fits(json, budget)) {
    capLists(record, 100, 0)
    json = JSON.stringify(record)
  }
  for (let round = 0; round < 8 && !fits(json, budget); round++) {
    const excess = Buffer.byteLength(json, 'utf8') - budget
    const leaves: Leaf[] = []
    collect(record, leaves, 0)
    leaves.sort((a, b) => b.length - a.length)
    let toCut = excess + 64
    for (const leaf of leaves) {
      if (toCut <= 0) break
      const value = (leaf.parent as Record<string, unknown>)[leaf.key as string] as string
      // Removing n UTF-16 units removes at least n UTF-8 bytes; keep 48 so the field stays readable
      // (and a pseudonym, `ps_<kid>_<24 hex>`, whole).
      const keep = Math.max(48, value.length - toCut - 3)
      if (keep >= value.length) continue
      ;(leaf.parent as Record<string, unknown>)[leaf.key as string] = `${cut(value, keep)}…`
      toCut -= value.length - keep
    }
    json = JSON.stringify(record)
  }
  // Many short entries: lists keep their first few.
  for (const items of [32, 8, 2]) {
    if (fits(json, budget)) return json
    capLists(record, items, 0)
    json = JSON.stringify(record)
  }
  if (!fits(json, budget)) {
    // Many small fields: drop the free-form parts wholesale; the event itself must still be written.
    const audit = record.audit as Record<string, unknown>
    if (audit.details !== undefined) audit.details = '[Truncated]'
    if (typeof record.message === 'string') record.message = cut(record.message, 256)
    if (record.error && typeof record.error === 'object') {
      const e = record.error as Record<string, unknown>
      if (typeof e.message === 'string') e.message = cut(e.message, 256)
    }
    json = JSON.stringify(record)
  }
  if (!fits(json, budget)) {
    // Keep only the skeleton of the event.
    for (const key of Object.keys(record)) if (!SKELETON.has(key)) delete record[key]
    const audit = record.audit as Record<string, unknown>
    for (const key of Object.keys(audit)) if (key !== 'truncated' && key !== 'resource') delete audit[key]
    json = JSON.stringify(record)
  }
  // Last resort, for what nothing above could bound (an object with thousands of keys in user or
  // event): a few strings of the event, each at most `n` characters.
  for (let n = 256; !fits(json, budget) && n >= 8; n >>= 2) {
    minimal(record, n)
    json = JSON.stringify(record)
  }
  return json
}

const SKELETON = new Set([
  '@timestamp',
  'log.level',
  'message',
  'ecs.version',
  'event',
  'service',
  'user',
  'audit',
  'trace',
])

function fits(json: string, budget: number): boolean {
  return json.length * 3 <= budget || Buffer.byteLength(json, 'utf8') <= budget
}

/** The first `n` UTF-16 units of `s`, without splitting a surrogate pair. */
function cut(s: string, n: number): string {
  if (s.length <= n) return s
  const c = s.charCodeAt(n - 1)
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n)
}

/** Cuts every list in the record to its first `items` entries (in place). */
function capLists(node: unknown, items: number, depth: number): void {
  if (depth > 64 || node === null || typeof node !== 'object') return
  if (Array.isArray(node)) {
    if (node.length > items) node.length = items
    for (const v of node) capLists(v, items, depth + 1)
    return
  }
  const obj = node as Record<string, unknown>
  for (const key of Object.keys(obj)) capLists(obj[key], items, depth + 1)
}

/** Replaces the record's fields with a minimal record: what happened, to what, by whom, when. */
function minimal(record: Record<string, unknown>, n: number): void {
  const event = asObject(record.event)
  const service = asObject(record.service)
  const user = asObject(record.user)
  const resource = asObject(asObject(record.audit).resource)
  const out: Record<string, unknown> = {
    '@timestamp': str(record['@timestamp'], 32),
    audit: {
      resource:
        record.audit && resource !== EMPTY
          ? { id: str(resource.id, 64), type: str(resource.type, n) }
          : undefined,
      truncated: true,
    },
    'ecs.version': str(record['ecs.version'], 16),
    event: {
      action: str(event.action, n),
      category: strs(event.category, n),
      id: str(event.id, 36),
      kind: str(event.kind, 16),
      outcome: str(event.outcome, 16),
      type: strs(event.type, n),
    },
    'log.level': str(record['log.level'], 8),
    message: str(record.message, n),
    service: { name: str(service.name, n) },
    user: user.id !== undefined ? { id: str(user.id, n) } : undefined,
  }
  for (const key of Object.keys(record)) delete record[key]
  Object.assign(record, out)
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : EMPTY
}

function str(v: unknown, n: number): string | undefined {
  return typeof v === 'string' ? cut(v, n) : undefined
}

function strs(v: unknown, n: number): string[] | undefined {
  if (!Array.isArray(v)) return undefined
  const out: string[] = []
  for (let i = 0; i < v.length && out.length < 2; i++) if (typeof v[i] === 'string') out.push(cut(v[i], n))
  return out
}

function markTruncated(record: Record<string, unknown>): void {
  const audit = record.audit
  if (audit === null || typeof audit !== 'object' || Array.isArray(audit)) record.audit = {}
  ;(record.audit as Record<string, unknown>).truncated = true
}

function collect(node: unknown, out: Leaf[], depth: number): void {
  if (depth > 64 || node === null || typeof node !== 'object') return
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const v = node[i]
      if (typeof v === 'string') out.push({ parent: node, key: i, length: v.length })
      else collect(v, out, depth + 1)
    }
    return
  }
  const obj = node as Record<string, unknown>
  for (const key of Object.keys(obj)) {
    if (key === '@timestamp' || key === 'id') continue
    const v = obj[key]
    if (typeof v === 'string') out.push({ parent: obj, key, length: v.length })
    else collect(v, out, depth + 1)
  }
}
