/**
 * Finds audit records inside one parsed JSON value, whatever wrapped them on the way: Docker
 * json-file / Fluentd / Fluent Bit (`log` string, 16 KiB partials joined), Filebeat (`message`
 * string), Fluent Bit Merge_Log_Key (one level down), Elasticsearch hits (`_source`) and search
 * responses (`hits.hits`), arrays of any of these.
 */
import { expandKeys, namesOfFieldsV2 } from '../../integrity/canonical'
import { newBalance, scan, tryParse } from './balance'

type Obj = Record<string, unknown>

/** Records nested deeper than this inside one JSON value are not looked for. */
const MAX_DEPTH = 16
/** A `log` text split over several entries is given up beyond this size. */
const MAX_PENDING = 16 * 1024 * 1024

export function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The record's integrity object if it looks like one of ours (dotted keys tolerated), else undefined. */
export function integrityOf(record: Obj): Obj | undefined {
  return integrityOfExpanded(expandKeys(record))
}

/** integrityOf for a record whose top-level dotted keys are already expanded. */
export function integrityOfExpanded(top: Obj): Obj | undefined {
  const audit = top.audit
  if (!isPlainObject(audit)) return undefined
  const integrity = expandKeys(audit).integrity
  if (!isPlainObject(integrity)) return undefined
  const i = expandKeys(integrity)
  if (typeof i.stream !== 'string' || !isCount(i.seq)) return undefined
  if (i.v === 2) {
    // Format 2: a mac only on an epoch's last record, with its epoch and first seq.
    if (namesOfFieldsV2(i.fields) === undefined) return undefined
    if (i.mac !== undefined && (typeof i.mac !== 'string' || !isCount(i.epoch) || !isCount(i.from)))
      return undefined
    return i
  }
  if (typeof i.mac !== 'string') return undefined
  if (!Array.isArray(i.fields) || !i.fields.every((f) => typeof f === 'string')) return undefined
  return i
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function looksLikeEvent(value: Obj): boolean {
  const top = expandKeys(value)
  return (
    typeof top['@timestamp'] === 'string' &&
    (isPlainObject(top.event) || isPlainObject(top.log) || 'message' in top)
  )
}

export type Emit = (record: Obj, integrity: Obj, line: number, indexed: boolean) => void

export interface RecordFinder {
  /** Looks for records in a parsed value; returns how many were found. */
  visit(value: unknown, line: number): number
  /** `log` texts still waiting for their continuation at the end of the input (forgotten). */
  pendingPartials(): number
  /** Whether a `log` text waits for its continuation. */
  hasPartials(): boolean
}

export function createRecordFinder(emit: Emit, acceptAll: boolean): RecordFinder {
  const logPartial = new Map<string, string>()

  const visit = (value: unknown, line: number, indexed: boolean, depth: number): number => {
    if (depth > MAX_DEPTH) return 0
    if (Array.isArray(value)) {
      let n = 0
      for (const v of value) n += visit(v, line, indexed, depth + 1)
      return n
    }
    if (!isPlainObject(value)) return 0
    // The line as written, when a shipper kept it next to its own fields (Fluent Bit Merge_Log with
    // Keep_Log On, Docker json-file, Fluentd): exactly our bytes, so preferred over merged fields.
    if (typeof value.log === 'string') {
      const n = wrapped(value, line, indexed, depth)
      if (n > 0) return n
    }
    // Expanded once here; the record is handed on expanded (the MAC input is the same).
    const top = expandKeys(value)
    const integrity = integrityOfExpanded(top)
    if (integrity) {
      emit(top, integrity, line, indexed)
      return 1
    }
    const hits = value.hits
    if (isPlainObject(hits) && Array.isArray(hits.hits)) return visit(hits.hits, line, true, depth + 1)
    if (isPlainObject(value._source)) return visit(value._source, line, true, depth + 1)
    if (typeof value.message === 'string' && value.message.trimStart().startsWith('{')) {
      const parsed = tryParse(value.message)
      if (parsed !== undefined) {
        const n = visit(parsed, line, indexed, depth + 1)
        if (n > 0) return n
      }
    }
    if (acceptAll && looksLikeEvent(value)) {
      emit(value, {}, line, indexed)
      return 1
    }
    // Anything else: records one or more levels down (Fluent Bit Merge_Log_Key, wrappers of
    // wrappers). Searched rather than ignored, so that no wrapping can make records vanish.
    let n = 0
    for (const k of Object.keys(value)) {
      const v = value[k]
      if (typeof v === 'object' && v !== null) n += visit(v, line, indexed, depth + 1)
    }
    return n
  }

  /** `{"log": "<json>", "stream": "stdout", ...}`: Docker json-file, Fluentd, Fluent Bit. */
  const wrapped = (value: Obj, line: number, indexed: boolean, depth: number): number => {
    const key = typeof value.stream === 'string' ? value.stream : ''
    const text = (logPartial.get(key) ?? '') + (value.log as string)
    const t = text.trim()
    if (!t.startsWith('{')) {
      logPartial.delete(key)
      return 0
    }
    const parsed = tryParse(t)
    if (parsed !== undefined) {
      logPartial.delete(key)
      return visit(parsed, line, indexed, depth + 1)
    }
    // Docker splits lines over 16 KiB into several entries; wait for the rest.
    const b = newBalance()
    scan(t, b)
    if (b.depth > 0 && text.length < MAX_PENDING) logPartial.set(key, text)
    else logPartial.delete(key)
    return 0
  }

  return {
    visit: (value, line) => visit(value, line, false, 0),
    hasPartials: () => logPartial.size > 0,
    pendingPartials: () => {
      const n = logPartial.size
      logPartial.clear()
      return n
    },
  }
}
