/**
 * ECS record -> OpenTelemetry log attributes.
 *
 * Names follow OpenTelemetry semantic conventions v1.45.0 (see docs/opentelemetry.md for which are
 * stable and which are still in development there). Everything of ours that the conventions lack goes
 * under `audit.`. The table is compiled once into a tree, so an event costs one walk over its fields.
 */

/** The semantic-conventions version the attribute names are pinned to. */
export const SEMCONV_VERSION = '1.45.0'
/** Sent as the instrumentation scope's schema URL, so backends know which names to expect. */
export const SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`

/** An attribute value as the logs API accepts it (we only produce these shapes). */
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[]
export type Attributes = Record<string, AttributeValue>

/** Fields carried by the LogRecord itself, or by the Resource, rather than by attributes. */
const SKIP = 0
/** A caller-supplied object of any shape: one JSON string, so its keys cannot multiply attributes. */
const JSON_STRING = 1
/** `{ name: value }` -> `http.request.header.<name>: [value]` (string[] per the conventions). */
const HEADERS = 2
type Special = typeof SKIP | typeof JSON_STRING | typeof HEADERS

/**
 * ECS path (as the line has it) -> attribute name. A path not listed here keeps its own name
 * with an `audit.` prefix (`audit.*` paths keep theirs), so nothing an event carries is lost.
 */
export const ATTRIBUTE_TABLE: ReadonlyArray<readonly [string, string | Special]> = [
  // On the LogRecord: Timestamp, SeverityNumber/Text, Body, EventName, TraceId/SpanId.
  ['@timestamp', SKIP],
  ['log.level', SKIP],
  ['message', SKIP],
  ['event.action', SKIP],
  ['trace', SKIP],
  ['span', SKIP],
  // Constant or duplicated: the ECS version, `event.kind: event`, `source` (= `client`).
  ['ecs.version', SKIP],
  ['event.kind', SKIP],
  ['source', SKIP],
  // The service is the Resource's business (service.name, service.instance.id from the SDK).
  ['service', SKIP],

  ['event.category', 'audit.category'],
  ['event.type', 'audit.type'],
  ['event.outcome', 'audit.outcome'],
  ['event.id', 'audit.event_id'],
  ['event.duration', 'audit.duration_ns'],
  ['event.reason', 'audit.reason'],

  ['user.id', 'user.id'],
  ['user.name', 'user.name'],
  ['user.roles', 'user.roles'],
  ['user.domain', 'audit.user.domain'],
  ['user.type', 'audit.user.type'],
  ['client.ip', 'client.address'],
  ['user_agent.original', 'user_agent.original'],

  ['http.request.id', 'audit.request_id'],
  ['http.request.method', 'http.request.method'],
  ['http.request.bytes', 'http.request.body.size'],
  ['http.request.headers', HEADERS],
  ['http.response.status_code', 'http.response.status_code'],
  ['http.response.bytes', 'http.response.body.size'],
  ['http.route', 'http.route'],
  ['url.path', 'url.path'],
  ['url.query', 'url.query'],

  ['db.system.name', 'db.system.name'],
  ['db.namespace', 'db.namespace'],
  ['db.operation.name', 'db.operation.name'],
  ['db.collection.name', 'db.collection.name'],
  ['db.query.text', 'db.query.text'],
  ['db.query.summary', 'db.query.summary'],
  ['db.response.status_code', 'db.response.status_code'],
  ['db.response.returned_rows', 'db.response.returned_rows'],
  ['server.address', 'server.address'],
  ['server.port', 'server.port'],

  ['error.type', 'error.type'],
  // `error.message` is deprecated in the conventions ("use a domain-specific attribute").
  ['error.message', 'audit.error.message'],
  ['error.code', 'audit.error.code'],

  ['audit.details', JSON_STRING],
]

interface Node {
  /** Attribute name for this exact path, or a special handling. */
  to?: string | Special
  /** The name an unlisted value at this path gets (`audit.` + path), precomputed. */
  name: string
  children?: Map<string, Node>
}

function compile(table: typeof ATTRIBUTE_TABLE): Node {
  const root: Node = { name: '', children: new Map() }
  for (const [path, to] of table) {
    let node = root
    for (const part of splitPath(path)) {
      node.children ??= new Map()
      let next = node.children.get(part)
      if (!next) {
        next = { name: childName(node.name, part) }
        node.children.set(part, next)
      }
      node = next
    }
    node.to = to
  }
  return root
}

/** `@timestamp`, `log.level` and `ecs.version` are flat keys at the top of the record. */
function splitPath(path: string): string[] {
  if (path === '@timestamp' || path === 'log.level' || path === 'ecs.version') return [path]
  return path.split('.')
}

/** Unlisted paths keep their ECS path, under `audit.` (ours already are: `audit.resource.id`). */
function childName(parent: string, key: string): string {
  if (parent !== '') return `${parent}.${key}`
  return key === 'audit' ? 'audit' : `audit.${key}`
}

const ROOT = compile(ATTRIBUTE_TABLE)

/** Depth below which unknown objects are flattened; deeper ones become one JSON string. */
const MAX_FLATTEN_DEPTH = 6

/** The attributes for one record. Never throws on JSON-shaped input (which is all it receives). */
export function toAttributes(record: Record<string, unknown>): Attributes {
  const out: Attributes = {}
  walkKnown(record, ROOT, out, 0)
  return out
}

/** Fields along the mapping table: names come precomputed from the table. */
function walkKnown(obj: Record<string, unknown>, node: Node, out: Attributes, depth: number): void {
  for (const key in obj) {
    const value = obj[key]
    if (value === undefined || value === null) continue
    const child = node.children?.get(key)
    if (!child) {
      walkValue(value, childName(node.name, key), out, depth)
      continue
    }
    const to = child.to
    if (to === SKIP) continue
    if (to === JSON_STRING) {
      out[child.name] = safeJson(value)
    } else if (to === HEADERS) {
      if (typeof value === 'object') headers(value as Record<string, unknown>, out)
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      walkKnown(value as Record<string, unknown>, child, out, depth + 1)
    } else {
      const v = leaf(value)
      if (v !== undefined) out[typeof to === 'string' ? to : child.name] = v
    }
  }
}

/** Fields the table does not list: flattened under their own (prefixed) path. */
function walkValue(value: unknown, name: string, out: Attributes, depth: number): void {
  if (value === undefined || value === null) return
  if (typeof value !== 'object' || Array.isArray(value)) {
    const v = leaf(value)
    if (v !== undefined) out[name] = v
    return
  }
  if (depth >= MAX_FLATTEN_DEPTH) {
    out[name] = safeJson(value)
    return
  }
  const obj = value as Record<string, unknown>
  for (const key in obj) walkValue(obj[key], `${name}.${key}`, out, depth + 1)
}

function headers(value: Record<string, unknown>, out: Attributes): void {
  for (const name in value) {
    const v = value[name]
    if (v !== undefined && v !== null) out[`http.request.header.${name.toLowerCase()}`] = [String(v)]
  }
}

function leaf(value: unknown): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value
    case 'object':
      return Array.isArray(value) ? arrayValue(value) : undefined
    default:
      return undefined
  }
}

/** Attribute arrays must be homogeneous primitives; anything else is kept as JSON text. */
function arrayValue(values: unknown[]): AttributeValue {
  if (values.length === 0) return [] as string[]
  const type = typeof values[0]
  if (
    (type === 'string' || type === 'number' || type === 'boolean') &&
    values.every((v) => typeof v === type)
  ) {
    return values.slice() as AttributeValue
  }
  return safeJson(values)
}

function safeJson(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return '[unserialisable]'
  }
}
