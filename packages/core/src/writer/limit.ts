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
 * Shrinks a record until its JSON fits in `budget` bytes: the longest strings are cut first,
 * then, if still too big, the caller-supplied `audit.details` and `message` are reduced.
 * Marks the record `audit.truncated: true`. Works on the record in place.
 */
export function shrinkToFit(record: Record<string, unknown>, budget: number): string {
  markTruncated(record)
  let json = JSON.stringify(record)
  for (let round = 0; round < 8 && Buffer.byteLength(json, 'utf8') > budget; round++) {
    const excess = Buffer.byteLength(json, 'utf8') - budget
    const leaves: Leaf[] = []
    collect(record, leaves, 0)
    leaves.sort((a, b) => b.length - a.length)
    let toCut = excess + 64
    for (const leaf of leaves) {
      if (toCut <= 0) break
      const value = (leaf.parent as Record<string, unknown>)[leaf.key as string] as string
      // Removing n UTF-16 units removes at least n UTF-8 bytes; keep 32 so the field stays readable.
      const keep = Math.max(32, value.length - toCut - 3)
      if (keep >= value.length) continue
      ;(leaf.parent as Record<string, unknown>)[leaf.key as string] = `${value.slice(0, keep)}…`
      toCut -= value.length - keep
    }
    json = JSON.stringify(record)
  }
  if (Buffer.byteLength(json, 'utf8') > budget) {
    // Many small fields: drop the free-form parts wholesale; the event itself must still be written.
    const audit = record.audit as Record<string, unknown>
    if (audit.details !== undefined) audit.details = '[Truncated]'
    if (typeof record.message === 'string') record.message = record.message.slice(0, 256)
    if (record.error && typeof record.error === 'object') {
      const e = record.error as Record<string, unknown>
      if (typeof e.message === 'string') e.message = e.message.slice(0, 256)
    }
    json = JSON.stringify(record)
  }
  if (Buffer.byteLength(json, 'utf8') > budget) {
    // Last resort: keep only the skeleton of the event.
    for (const key of Object.keys(record)) {
      if (
        ![
          '@timestamp',
          'log.level',
          'message',
          'ecs.version',
          'event',
          'service',
          'user',
          'audit',
          'trace',
        ].includes(key)
      ) {
        delete record[key]
      }
    }
    const audit = record.audit as Record<string, unknown>
    for (const key of Object.keys(audit)) if (key !== 'truncated' && key !== 'resource') delete audit[key]
    json = JSON.stringify(record)
  }
  return json
}

function markTruncated(record: Record<string, unknown>): void {
  if (!record.audit) record.audit = {}
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
