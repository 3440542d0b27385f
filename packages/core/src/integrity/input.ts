/**
 * Finds audit records in text as it comes back out of a logging stack:
 *
 * - raw NDJSON lines as the logger wrote them (also with a prefix, e.g. Fluentd out_file's
 *   `time<TAB>tag<TAB>{json}`);
 * - Kubernetes CRI log lines `<time> stdout|stderr F|P <text>`, partial (P) lines joined;
 * - Docker json-file / Fluentd / Fluent Bit records with the line as a JSON string under `log`
 *   (Docker's 16 KiB partial lines joined), or under `message` (Filebeat without JSON decoding),
 *   or merged one level down (Fluent Bit Merge_Log_Key);
 * - Elasticsearch: hits (`_source`) one per line (elasticdump, scroll exports) or a whole search
 *   response (`hits.hits`), also pretty-printed over several lines; `_bulk` bodies.
 *
 * Everything else is counted and skipped.
 */
import { expandKeys } from './canonical'

type Obj = Record<string, unknown>

export interface FoundRecord {
  record: Obj
  /** audit.integrity with dotted keys expanded. */
  integrity: Obj
  /** 1-based line where the record (or the document holding it) starts. */
  line: number
  /** Running number of the record in the input (order of appearance). */
  position: number
  /** From an Elasticsearch document (`_source`): its position in the input says nothing about order. */
  indexed: boolean
}

export interface InputStats {
  lines: number
  blank: number
  /** JSON values that hold no audit record (other logs, ES bulk action lines, ...). */
  skipped: number
  /** Lines that are neither JSON nor CRI/Docker wrappers of JSON. */
  unparsable: number
}

const CRI = /^\d{4}-\d\d-\d\dT\S+ (stdout|stderr) ([FP])(?: ([\s\S]*))?$/
const MAX_PENDING = 16 * 1024 * 1024
const MAX_DEPTH = 8

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The record's integrity object if it looks like one of ours (dotted keys tolerated), else undefined. */
export function integrityOf(record: Obj): Obj | undefined {
  const audit = expandKeys(record).audit
  if (!isPlainObject(audit)) return undefined
  const integrity = expandKeys(audit).integrity
  if (!isPlainObject(integrity)) return undefined
  const i = expandKeys(integrity)
  if (typeof i.stream !== 'string' || typeof i.mac !== 'string') return undefined
  if (!Array.isArray(i.fields) || !i.fields.every((f) => typeof f === 'string')) return undefined
  if (typeof i.seq !== 'number' || !Number.isSafeInteger(i.seq) || i.seq < 0) return undefined
  return i
}

/** Tracks whether a JSON text is still open (unbalanced brackets outside strings). */
interface Balance {
  depth: number
  inString: boolean
  escaped: boolean
}

function scan(text: string, b: Balance): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (b.inString) {
      if (b.escaped) b.escaped = false
      else if (c === 92) b.escaped = true
      else if (c === 34) b.inString = false
      continue
    }
    if (c === 34) b.inString = true
    else if (c === 123 || c === 91) b.depth++
    else if (c === 125 || c === 93) b.depth--
  }
}

export interface Extractor {
  /** Feeds one line (without its newline). */
  push(line: string): void
  /** Flushes what is still pending at the end of the input. */
  end(): void
  readonly stats: InputStats
}

export interface ExtractorOptions {
  /** Also report events without integrity fields (for `pretty`); their `integrity` is an empty object. */
  acceptAll?: boolean
}

function looksLikeEvent(value: Obj): boolean {
  const top = expandKeys(value)
  return (
    typeof top['@timestamp'] === 'string' &&
    (isPlainObject(top.event) || isPlainObject(top.log) || 'message' in top)
  )
}

export function createExtractor(
  onRecord: (found: FoundRecord) => void,
  options: ExtractorOptions = {},
): Extractor {
  const acceptAll = options.acceptAll === true
  const stats: InputStats = { lines: 0, blank: 0, skipped: 0, unparsable: 0 }
  let position = 0
  const criPartial = new Map<string, string>()
  const logPartial = new Map<string, string>()
  // A JSON document spread over several lines (a pretty-printed search response).
  let multi: { text: string; line: number; balance: Balance } | undefined

  const emit = (record: Obj, integrity: Obj, line: number, indexed: boolean) => {
    onRecord({ record, integrity, line, position: position++, indexed })
  }

  /** Looks for records in a parsed value; returns how many were found. */
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
    const integrity = integrityOf(value)
    if (integrity) {
      emit(value, integrity, line, indexed)
      return 1
    }
    const hits = value.hits
    if (isPlainObject(hits) && Array.isArray(hits.hits)) return visit(hits.hits, line, true, depth + 1)
    if (isPlainObject(value._source)) return visit(value._source, line, true, depth + 1)
    if (typeof value.message === 'string' && value.message.trimStart().startsWith('{')) {
      const parsed = tryParse(value.message)
      if (parsed !== undefined) return visit(parsed, line, indexed, depth + 1)
    }
    // Fluent Bit's Merge_Log_Key and similar: the record one level down.
    for (const k of Object.keys(value)) {
      const v = value[k]
      if (isPlainObject(v)) {
        const inner = integrityOf(v)
        if (inner) {
          emit(v, inner, line, indexed)
          return 1
        }
      }
    }
    if (acceptAll && looksLikeEvent(value)) {
      emit(value, {}, line, indexed)
      return 1
    }
    return 0
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
    const b: Balance = { depth: 0, inString: false, escaped: false }
    scan(t, b)
    if (b.depth > 0 && text.length < MAX_PENDING) logPartial.set(key, text)
    else logPartial.delete(key)
    return 0
  }

  const handleText = (text: string, line: number): void => {
    const t = text.trim()
    if (t === '') {
      stats.blank++
      return
    }
    const c = t[0]
    if (c === '{' || c === '[') {
      const parsed = tryParse(t)
      if (parsed !== undefined) {
        if (visit(parsed, line, false, 0) === 0) stats.skipped++
        return
      }
      const balance: Balance = { depth: 0, inString: false, escaped: false }
      scan(t, balance)
      if (balance.depth > 0) {
        multi = { text: t, line, balance }
        return
      }
      stats.unparsable++
      return
    }
    // A prefix before the JSON (Fluentd out_file `time\ttag\t{...}`, syslog headers).
    const brace = t.indexOf('{')
    if (brace > 0) {
      const parsed = tryParse(t.slice(brace))
      if (parsed !== undefined) {
        if (visit(parsed, line, false, 0) === 0) stats.skipped++
        return
      }
    }
    stats.unparsable++
  }

  let lineNo = 0
  return {
    stats,
    push(raw: string) {
      lineNo++
      stats.lines++
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      if (multi) {
        multi.text += `\n${text}`
        scan(text, multi.balance)
        if (multi.balance.depth <= 0 || multi.text.length > MAX_PENDING * 16) {
          const m = multi
          multi = undefined
          const parsed = tryParse(m.text)
          if (parsed === undefined) stats.unparsable++
          else if (visit(parsed, m.line, false, 0) === 0) stats.skipped++
        }
        return
      }
      const cri = CRI.exec(text)
      if (cri) {
        const stream = cri[1]!
        const content = cri[3] ?? ''
        if (cri[2] === 'P') {
          const sofar = (criPartial.get(stream) ?? '') + content
          if (sofar.length < MAX_PENDING) criPartial.set(stream, sofar)
          else criPartial.delete(stream)
          return
        }
        const whole = (criPartial.get(stream) ?? '') + content
        criPartial.delete(stream)
        handleText(whole, lineNo)
        return
      }
      handleText(text, lineNo)
    },
    end() {
      if (multi) {
        stats.unparsable++
        multi = undefined
      }
      for (const text of criPartial.values()) handleText(text, lineNo)
      criPartial.clear()
      if (logPartial.size > 0) stats.unparsable += logPartial.size
      logPartial.clear()
    },
  }
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
