// What a line meets between the process and Elasticsearch, written down as code:
// - the container runtime (containerd / CRI-O) wraps every stdout line as
//   `<RFC 3339 nano time> stdout <P|F> <content>`, splitting lines longer than 16 KiB into P(artial)
//   pieces followed by an F(ull) one;
// - Fluent Bit's built-in `cri` multiline parser reads them back with the regex below (the one in
//   fluent-bit src/multiline/flb_ml_parser_cri.c) and joins P pieces; its kubernetes filter
//   (Merge_Log) then needs the content to be one JSON object;
// - Elasticsearch maps each field by the index template; a value of the wrong kind for its mapping,
//   or an object where a value is mapped (or the reverse), rejects the whole document.
import { isIP } from 'node:net'

export const CRI_MAX_LINE = 16 * 1024
/** The regex of Fluent Bit's built-in `cri` multiline parser. */
export const FLUENT_BIT_CRI = /^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$/

/** What containerd writes to /var/log/pods for one line a container wrote to stdout. */
export function criWrap(line: Buffer, time = new Date()): string[] {
  const stamp = `${time.toISOString().slice(0, 23)}123456Z`
  const out: string[] = []
  for (let at = 0; at < line.length || out.length === 0; at += CRI_MAX_LINE) {
    const piece = line.subarray(at, at + CRI_MAX_LINE)
    const last = at + CRI_MAX_LINE >= line.length
    out.push(`${stamp} stdout ${last ? 'F' : 'P'} ${piece.toString('utf8')}`)
  }
  return out
}

interface CriRecord {
  log: string
  stream: string
  time: string
  pieces: number
}

/** Fluent Bit's side: parse each CRI line, join P pieces; returns the reassembled records. */
export function criParse(criLines: string[]): CriRecord[] {
  const records: CriRecord[] = []
  let pending: CriRecord | undefined
  for (const raw of criLines) {
    const m = FLUENT_BIT_CRI.exec(raw)
    if (!m?.groups) throw new Error(`not a CRI line: ${raw.slice(0, 80)}`)
    const { time = '', stream = '', _p, log = '' } = m.groups
    pending = pending
      ? { ...pending, log: pending.log + log, pieces: pending.pieces + 1 }
      : { log, stream, time, pieces: 1 }
    if (_p === 'F') {
      records.push(pending)
      pending = undefined
    }
  }
  if (pending) throw new Error('a partial (P) line was never completed')
  return records
}

/**
 * Strict JSON parse that also rejects duplicate keys (JSON.parse silently keeps the last one;
 * Elasticsearch rejects the document with "Duplicate field").
 */
export function parseStrictJson(text: string): unknown {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++
  }
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${i}: ${text.slice(Math.max(0, i - 30), i + 30)}`)
  }
  const str = (): string => {
    const start = i
    i++
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    if (text[i] !== '"') fail('unterminated string')
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (): unknown => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const obj: Record<string, unknown> = {}
      const seen = new Set<string>()
      ws()
      if (text[i] === '}') {
        i++
        return obj
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a key')
        const key = str()
        if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key)}`)
        seen.add(key)
        ws()
        if (text[i] !== ':') fail('expected :')
        i++
        obj[key] = value()
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return obj
        }
        fail('expected , or }')
      }
    }
    if (c === '[') {
      i++
      const arr: unknown[] = []
      ws()
      if (text[i] === ']') {
        i++
        return arr
      }
      for (;;) {
        arr.push(value())
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return arr
        }
        fail('expected , or ]')
      }
    }
    if (c === '"') return str()
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 40))
    if (!m) fail('unexpected token')
    i += m![0].length
    return JSON.parse(m![0])
  }
  const out = value()
  ws()
  if (i !== text.length) fail('trailing data')
  return out
}

/** A field mapping of the index template (the part of it this check understands). */
interface FieldMapping {
  type?: string
  properties?: Record<string, FieldMapping>
  ignore_above?: number
  index?: boolean
  fields?: Record<string, FieldMapping>
}

export const SCALAR_TYPES = new Set([
  'keyword',
  'wildcard',
  'match_only_text',
  'text',
  'date',
  'long',
  'integer',
  'ip',
  'boolean',
  'flattened',
])

/** Every field path of a template mapping with its type (objects as 'object'). */
export function mappedPaths(properties: Record<string, FieldMapping>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [name, m] of Object.entries(properties)) {
    const path = prefix ? `${prefix}.${name}` : name
    if (m.properties) {
      out.set(path, 'object')
      for (const [p, t] of mappedPaths(m.properties, path)) out.set(p, t)
    } else {
      out.set(path, m.type ?? 'object')
    }
    for (const [sub, sm] of Object.entries(m.fields ?? {})) out.set(`${path}.${sub}`, sm.type ?? '?')
  }
  return out
}

/** Leaves of a document as Elasticsearch sees them: dotted keys expanded, arrays flattened. */
export function leaves(doc: unknown, prefix = '', out: { path: string; value: unknown }[] = []) {
  if (Array.isArray(doc)) {
    for (const item of doc) leaves(item, prefix, out)
    return out
  }
  if (doc !== null && typeof doc === 'object') {
    for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
      leaves(value, prefix ? `${prefix}.${key}` : key, out)
    }
    return out
  }
  out.push({ path: prefix, value: doc })
  return out
}

// strict_date_optional_time, as we write it: ISO 8601 with milliseconds, UTC.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

/**
 * Problems Elasticsearch would have with one document under the template: fields the template
 * does not map (dynamic: false keeps them unsearchable), values of the wrong kind (a rejected
 * document, or with ignore_malformed a silently unindexed field), keywords over ignore_above.
 */
export function mappingProblems(
  doc: Record<string, unknown>,
  properties: Record<string, FieldMapping>,
): string[] {
  const problems: string[] = []
  const check = (node: unknown, mapping: FieldMapping | undefined, path: string) => {
    if (mapping === undefined) {
      problems.push(`${path}: not in the index template`)
      return
    }
    if (Array.isArray(node)) {
      for (const item of node) check(item, mapping, path)
      return
    }
    if (node === null) return // null is "no value" for every type
    if (mapping.properties || (!mapping.type && !mapping.properties)) {
      if (typeof node !== 'object') {
        problems.push(`${path}: mapped as an object, got ${typeof node} ${JSON.stringify(node)}`)
        return
      }
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        // Elasticsearch expands a dotted key into objects, as Fluent Bit leaves them.
        const parts = key.split('.')
        let m: FieldMapping | undefined = mapping
        for (const part of parts) m = m?.properties?.[part]
        check(value, m, path ? `${path}.${key}` : key)
      }
      return
    }
    const type = mapping.type!
    if (type === 'flattened') {
      for (const leaf of leaves(node)) {
        if (typeof leaf.value === 'object' && leaf.value !== null)
          problems.push(`${path}.${leaf.path}: not a scalar`)
      }
      return
    }
    if (typeof node === 'object') {
      problems.push(`${path}: mapped as ${type}, got an object (a mapping conflict rejects the document)`)
      return
    }
    switch (type) {
      case 'keyword':
      case 'wildcard':
      case 'match_only_text':
      case 'text':
        if (typeof node !== 'string') problems.push(`${path}: ${type} expects a string, got ${typeof node}`)
        else if (type === 'keyword' && mapping.ignore_above && node.length > mapping.ignore_above) {
          problems.push(
            `${path}: ${node.length} characters, over ignore_above ${mapping.ignore_above} (not searchable)`,
          )
        }
        break
      case 'date':
        if (typeof node !== 'string' || !ISO_DATE.test(node) || Number.isNaN(Date.parse(node))) {
          problems.push(`${path}: not an ISO 8601 date: ${JSON.stringify(node)}`)
        }
        break
      case 'long':
      case 'integer':
        if (typeof node !== 'number' || !Number.isSafeInteger(node)) {
          problems.push(`${path}: ${type} expects an integer, got ${JSON.stringify(node)}`)
        }
        break
      case 'ip':
        if (typeof node !== 'string' || isIP(node) === 0)
          problems.push(`${path}: not an IP address: ${JSON.stringify(node)}`)
        break
      case 'boolean':
        if (typeof node !== 'boolean')
          problems.push(`${path}: boolean expects true/false, got ${JSON.stringify(node)}`)
        break
      default:
        problems.push(`${path}: the check does not know mapping type ${type}`)
    }
  }
  check(doc, { properties }, '')
  return problems
}

/**
 * The document Fluent Bit sends for one container line with examples/k8s/fluent-bit/fluent-bit.conf:
 * CRI parse, Merge_Log (our JSON at the top), Keep_Log Off, kubernetes metadata, `_p` and `time`
 * removed, and the es output's Time_Key (event.ingested) added. Undefined when grep drops it.
 */
export function fluentBitDocument(
  log: string,
  cri: { stream: string; time: string },
): Record<string, unknown> | undefined {
  const parsed = parseStrictJson(log)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined // Merge_Log needs a map
  const record: Record<string, unknown> = { stream: cri.stream, ...(parsed as Record<string, unknown>) }
  const kind = (record.event as Record<string, unknown> | undefined)?.kind
  if (kind !== 'event' && kind !== 'state') return undefined
  record.kubernetes = {
    pod_name: 'clinic-api-7d9f8b6c5-x2k4q',
    namespace_name: 'clinic',
    pod_id: '2f0d6c1e-7a3b-4c5d-9e8f-0a1b2c3d4e5f',
    labels: { app: 'clinic-api', 'app.kubernetes.io/name': 'clinic-api', 'pod-template-hash': '7d9f8b6c5' },
    host: 'node-3',
    container_name: 'api',
    docker_id: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    container_hash: 'registry.example.org/clinic-api@sha256:0c1d2e3f',
    container_image: 'registry.example.org/clinic-api:1.4.2',
  }
  record['event.ingested'] = `${cri.time.slice(0, 23)}Z`
  return record
}

/**
 * The document Fluentd sends with examples/k8s/fluentd/fluent.conf: fluent-plugin-parser-cri splits
 * the line in four at spaces (time, stream, logtag, message); kubernetes_metadata adds `kubernetes`
 * and `docker`; the parser filter merges our JSON (reserve_data) and drops `message`; grep; then
 * `logtag` and `time` removed. Undefined when grep drops it.
 */
export function fluentdDocument(criLine: string): Record<string, unknown> | undefined {
  const parts = splitN(criLine, ' ', 4)
  if (parts.length !== 4) throw new Error(`fluent-plugin-parser-cri would not parse: ${criLine.slice(0, 80)}`)
  const [time, stream, logtag, message] = parts as [string, string, string, string]
  const record: Record<string, unknown> = { stream, logtag, message, time }
  record.kubernetes = {
    container_name: 'api',
    namespace_name: 'clinic',
    pod_name: 'clinic-api-7d9f8b6c5-x2k4q',
    container_image: 'registry.example.org/clinic-api:1.4.2',
    container_image_id: 'registry.example.org/clinic-api@sha256:0c1d2e3f',
    pod_id: '2f0d6c1e-7a3b-4c5d-9e8f-0a1b2c3d4e5f',
    pod_ip: '10.42.3.17',
    host: 'node-3',
    labels: { app: 'clinic-api', 'app.kubernetes.io/name': 'clinic-api' },
    namespace_id: '6c1f0e2d-3b4a-4c5d-8e9f-1a2b3c4d5e6f',
  }
  record.docker = { container_id: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }
  const parsed = parseStrictJson(message)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  delete record.message
  Object.assign(record, parsed)
  const kind = (record.event as Record<string, unknown> | undefined)?.kind
  if (kind !== 'event' && kind !== 'state') return undefined
  delete record.logtag
  delete record.time
  return record
}

/** Ruby's String#split(sep, n): at most n parts, the last one keeps the rest. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = []
  let rest = s
  while (out.length < n - 1) {
    const i = rest.indexOf(sep)
    if (i === -1) break
    out.push(rest.slice(0, i))
    rest = rest.slice(i + sep.length)
  }
  out.push(rest)
  return out
}
