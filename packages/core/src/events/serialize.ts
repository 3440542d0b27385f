import { sortKeys } from '../sort-keys'
import { type AuditRecord, ECS_VERSION } from './record'

/**
 * The JSON text of a finished record, as the line carries it. Must return exactly what
 * JSON.stringify(record) returns (the integrity chain splices this text), only faster where it can.
 *
 * Why by hand: on Node 20, JSON.stringify pays per property (handles, a toJSON lookup per object, each
 * key escaped character by character, skipped undefined fields included) and it was the largest cost
 * of an event. The objects baseRecord and renderActor build (record.ts) have fixed keys in a fixed
 * order, so the text between their values is constant here. Before it is used, the object's own keys
 * are compared with that order (a `for in` over V8's enumeration cache, no allocation) and each value
 * with the type the builders give it; a string goes between quotes as it is once it is known to need
 * no escaping. The other objects (http, url, client, db, details, ...) are walked key by key in the
 * same way (objectText). Whatever does not fit is written by JSON.stringify: the value or the object
 * it sits in (every object above has been checked for toJSON, so JSON.stringify of the part writes
 * what it would have written inside the whole), or, for a toJSON method or a BigInt, the whole record.
 *
 * What the serializer remembers between records (strings known to need no escaping, key texts, the
 * last actor's and service's text) is its own: one serializer per logger (createRecordSerializer).
 */
export interface RecordSerializer {
  /** JSON.stringify(record)'s exact text. */
  serialize(record: AuditRecord): string
  /**
   * The same text, but only for a record laid out as baseRecord lays it out (its top-level keys, in
   * their order) in which every object has its keys in sorted order (UTF-16 code units, as the
   * integrity chain's canonical form sorts them) and no key with a dot: then the text is the
   * record's canonical form but for the dotted `ecs.version` and `log.level`. Undefined for any other
   * record (then nothing is known about its order). One walk gives both the text and that answer.
   */
  sorted(record: AuditRecord): string | undefined
  /**
   * sorted()'s text for the integrity chain: `audit` written with its keys in sorted order (they come
   * from several places) and `"integrity":` among them with no value after it, where
   * `offsets.integrity` says; the chain writes the value there (integrity/assemble.ts). Undefined
   * where sorted() would be, for an audit with an `integrity` of its own, or a key JSON.stringify
   * would move (integer-like). Spares the chain a copy of audit with a stand-in value to search for.
   */
  split(record: AuditRecord): string | undefined
  /** True when JSON.stringify writes the string as `"` + s + `"` (remembered per serializer). */
  isPlain(s: string): boolean
  /**
   * Where the text sorted() or split() returned last has its `"ecs.version":` and `"log.level":`
   * keys (offset of the opening quote; -1 when not written), and (split) where audit.integrity's
   * value goes (-1 otherwise). The integrity chain rewrites those two keys in the MAC input
   * (integrity/assemble.ts templateOf) and would otherwise search for them.
   */
  readonly offsets: SerializerOffsets
}

export interface SerializerOffsets {
  ecs: number
  level: number
  integrity: number
}

export function createRecordSerializer(): RecordSerializer {
  // Set during one call of serialize()/sorted() when a part of the record was written without its
  // key order being checked (by JSON.stringify) or was found out of order.
  let unsorted = false

  /** JSON.stringify of an object or array whose key order nothing here has checked. */
  function opaque(v: unknown): string {
    unsorted = true
    return JSON.stringify(v)
  }

  const offsets: SerializerOffsets = { ecs: -1, level: -1, integrity: -1 }

  /** split(): audit is written with the integrity key's hole; where its value goes in audit's text. */
  let withHole = false
  let holeAt = -1

  function sorted(record: AuditRecord): string | undefined {
    unsorted = false
    offsets.ecs = -1
    offsets.level = -1
    offsets.integrity = -1
    if (!prototypeClean() || !matches(record, TOP_KEYS)) return undefined
    try {
      const out = top(record as Record<string, unknown>)
      return out !== undefined && !unsorted ? out : undefined
    } catch {
      return undefined
    }
  }

  function split(record: AuditRecord): string | undefined {
    withHole = true
    try {
      const text = sorted(record)
      return text !== undefined && offsets.integrity >= 0 ? text : undefined
    } finally {
      withHole = false
    }
  }

  function serialize(record: AuditRecord): string {
    if (prototypeClean() && matches(record, TOP_KEYS)) {
      try {
        const out = top(record as Record<string, unknown>)
        if (out !== undefined) return out
      } catch {
        // WHOLE, a throwing getter or a cycle: JSON.stringify of the whole record decides.
      }
    }
    return JSON.stringify(record)
  }

  /**
   * Strings recently found to need no escaping, one per slot of a hash of length and end characters.
   * Most strings of a record recur from event to event (action, outcome, roles, user agent, the time
   * within a millisecond), so most checks are one comparison: an equal string needs the same escaping,
   * whichever object holds it. Bounded: a slot holds one string, and only short ones are kept.
   */
  const seen: string[] = new Array<string>(SLOTS).fill('')

  /** True when JSON.stringify writes the string as `"` + s + `"`. */
  function isPlain(s: string): boolean {
    const n = s.length
    if (n === 0) return true
    const slot = slotOf(s, n)
    if (seen[slot] === s) return true
    if (n < 24) {
      // Short strings: a loop costs less than starting the regular expression.
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false
      }
    } else if (NEEDS_ESCAPE.test(s)) {
      return false
    }
    if (n <= KEEP_LENGTH) seen[slot] = s
    return true
  }

  /** JSON text of any value as it appears inside a record; undefined where JSON.stringify leaves it out. */
  function json(v: unknown): string | undefined {
    switch (typeof v) {
      case 'string':
        return isPlain(v) ? `"${v}"` : JSON.stringify(v)
      case 'number':
        return Number.isFinite(v) ? `${v}` : 'null'
      case 'boolean':
        return v ? 'true' : 'false'
      case 'object':
        if (v === null) return 'null'
        // toJSON would be called with this key inside the record and with '' on its own.
        if (hasToJSON(v)) throw WHOLE
        return opaque(v)
      case 'bigint':
        throw WHOLE
      default:
        return undefined // undefined, functions, symbols
    }
  }

  /**
   * Appends one field: `kq` is its key text with the opening quote of a string (`,"message":"`), used
   * for a plain string value; `k` is the key text alone (`,"message":`), for anything else.
   */
  function add(s: string, k: string, kq: string, v: unknown): string {
    if (typeof v === 'string' && isPlain(v)) return `${s}${kq}${v}"`
    if (v === undefined) return s
    return put(s, k, json(v))
  }

  /** As add(), for a field that usually holds an object of any shape (http, url, client, db, ...). */
  function addObject(s: string, k: string, kq: string, v: unknown): string {
    return isObject(v) ? put(s, k, objectText(v, 1)) : add(s, k, kq, v)
  }

  const oneSeen: string[] = new Array<string>(SLOTS).fill('')

  const oneText: string[] = new Array<string>(SLOTS).fill('')

  /** A list of strings (categories, types, roles); anything else through json(). */
  function strings(v: unknown): string | undefined {
    if (!Array.isArray(v) || hasToJSON(v)) return json(v)
    const n = v.length
    if (n === 1) {
      // ["database"], ["access"]: a handful of values, remembered per slot like `seen`.
      const a = v[0]
      if (typeof a !== 'string' || a.length === 0) return opaque(v)
      const slot = slotOf(a, a.length)
      if (oneSeen[slot] === a) return oneText[slot]
      if (!isPlain(a)) return opaque(v)
      const text = flat(`["${a}"]`)
      if (a.length <= KEEP_LENGTH) {
        oneSeen[slot] = a
        oneText[slot] = text
      }
      return text
    }
    if (n === 0) return '[]'
    let s = '["'
    for (let i = 0; i < n; i++) {
      const a = v[i]
      if (typeof a !== 'string' || !isPlain(a)) return opaque(v)
      s += i === 0 ? a : `","${a}`
    }
    return `${s}"]`
  }

  function top(r: Record<string, unknown>): string | undefined {
    // Every record has its time; the fields after it start with a comma.
    const time = r['@timestamp']
    if (typeof time !== 'string' || !isPlain(time)) return undefined
    let s = `{"@timestamp":"${time}"`
    const audit = r.audit
    // Where audit's text starts (after `,"audit":`): split() places the integrity hole from there.
    const auditAt = s.length + 9
    holeAt = -1
    s = put(s, ',"audit":', isObject(audit) ? auditText(audit) : json(audit))
    if (holeAt >= 0) offsets.integrity = auditAt + holeAt
    s = addObject(s, ',"client":', ',"client":"', r.client)
    const db = r.db
    s = isObject(db) ? put(s, ',"db":', dbText(db)) : add(s, ',"db":', ',"db":"', db)
    const ecs = r['ecs.version']
    // The key's quote follows the comma (a cons string's length is known without flattening it).
    offsets.ecs = ecs === undefined ? -1 : s.length + 1
    s = ecs === ECS_VERSION ? s + ECS_TEXT : add(s, ',"ecs.version":', ',"ecs.version":"', ecs)
    s = addObject(s, ',"error":', ',"error":"', r.error)
    const event = r.event
    s = put(s, ',"event":', isObject(event) ? eventText(event) : json(event))
    s = addObject(s, ',"http":', ',"http":"', r.http)
    const level = r['log.level']
    const levelText = typeof level === 'string' ? LEVEL_TEXT.get(level) : undefined
    offsets.level = level === undefined ? -1 : s.length + 1
    s = levelText !== undefined ? s + levelText : add(s, ',"log.level":', ',"log.level":"', level)
    s = add(s, ',"message":', ',"message":"', r.message)
    const server = r.server
    s = isObject(server)
      ? put(s, ',"server":', serverText(server))
      : add(s, ',"server":', ',"server":"', server)
    const service = r.service
    s = put(s, ',"service":', isObject(service) ? serviceText(service) : json(service))
    s = addObject(s, ',"source":', ',"source":"', r.source)
    s = addObject(s, ',"span":', ',"span":"', r.span)
    s = addObject(s, ',"trace":', ',"trace":"', r.trace)
    s = addObject(s, ',"url":', ',"url":"', r.url)
    const user = r.user
    s = put(s, ',"user":', isObject(user) ? userText(user) : json(user))
    s = addObject(s, ',"user_agent":', ',"user_agent":"', r.user_agent)
    return flat(`${s}}`)
  }

  /** `event` from baseRecord: action, id, kind and outcome are always strings, reason usually. */
  function eventText(o: object): string | undefined {
    if (!matches(o, EVENT_KEYS)) return json(o)
    const e = o as Record<string, unknown>
    const action = e.action
    const id = e.id
    const kind = e.kind
    const outcome = e.outcome
    const reason = e.reason
    const duration = e.duration
    if (
      typeof action !== 'string' ||
      typeof id !== 'string' ||
      typeof kind !== 'string' ||
      typeof outcome !== 'string' ||
      !(reason === undefined || typeof reason === 'string') ||
      !(duration === undefined || typeof duration === 'number') ||
      !isPlain(action) ||
      !isPlain(id) ||
      !isPlain(kind) ||
      !isPlain(outcome) ||
      (reason !== undefined && !isPlain(reason))
    ) {
      return opaque(o)
    }
    const category = strings(e.category)
    const type = strings(e.type)
    let s = `{"action":"${action}"`
    if (category !== undefined) s += `,"category":${category}`
    if (duration !== undefined) s += `,"duration":${json(duration)}`
    const tail = kind === 'event' ? OUTCOME_TEXT.get(outcome) : undefined
    s += tail !== undefined ? `,"id":"${id}${tail}` : `,"id":"${id}","kind":"${kind}","outcome":"${outcome}"`
    if (reason !== undefined) s += `,"reason":"${reason}"`
    if (type !== undefined) s += `,"type":${type}`
    return `${s}}`
  }

  /** `user` from renderActor: strings and a list of roles; an effective (impersonated) user is rare. */
  function userText(o: object): string | undefined {
    if (!matches(o, USER_KEYS)) return json(o)
    const u = o as Record<string, unknown>
    const { domain, id, name, roles, type } = u
    if (u.effective !== undefined) return opaque(o)
    // The same actor usually makes several events in a row (a request, a job): the text of the last
    // one is reused while every value in it is the same.
    if (
      id === last.id &&
      domain === last.domain &&
      name === last.name &&
      type === last.type &&
      sameStrings(roles, last.roles) &&
      last.text !== undefined
    ) {
      return last.text
    }
    // renderActor always writes the id; without it the first field would need other key texts.
    if (typeof id !== 'string' || !isPlain(id)) return opaque(o)
    let s =
      typeof domain === 'string' && isPlain(domain)
        ? `{"domain":"${domain}","id":"${id}"`
        : domain === undefined
          ? `{"id":"${id}"`
          : undefined
    if (s === undefined) return opaque(o)
    s = add(s, ',"name":', ',"name":"', name)
    s = put(s, ',"roles":', strings(roles))
    const text = flat(`${add(s, ',"type":', ',"type":"', type)}}`)
    last.text = undefined
    if (isText(name) && isText(type) && (roles === undefined || allStrings(roles))) {
      last.id = id
      last.domain = domain
      last.name = name
      last.type = type
      last.roles = roles === undefined ? undefined : [...(roles as string[])]
      last.text = text
    }
    return text
  }

  const last: {
    id?: unknown
    domain?: unknown
    name?: unknown
    type?: unknown
    roles?: readonly string[] | undefined
    text?: string | undefined
  } = {}

  /** `audit`: its keys depend on the event (purpose, session, resource, details, ...). */
  function auditText(o: object): string | undefined {
    if (hasToJSON(o) || Object.getPrototypeOf(o) !== Object.prototype) return json(o)
    const a = o as Record<string, unknown>
    if (withHole) return auditWithHole(a)
    let s = ''
    let prev = ''
    for (const k in a) {
      if (!(prev < k) || k.indexOf('.') !== -1) unsorted = true
      prev = k
      s = auditMember(s, k, a[k])
    }
    return s === '' ? '{}' : `${s}}`
  }

  /**
   * audit for split(): keys sorted, `"integrity":` in its place with no value (holeAt: where the
   * value goes). Its own `integrity`, a dotted key or an integer-like one (JSON.stringify would write
   * it first whatever the order) leave the answer to the other paths.
   */
  function auditWithHole(a: Record<string, unknown>): string {
    const keys = sortKeys(Object.keys(a))
    let s = ''
    let open = true
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      const c = k.charCodeAt(0)
      if (k === 'integrity' || (c >= 0x30 && c <= 0x39) || k.indexOf('.') !== -1) unsorted = true
      if (open && k > 'integrity') {
        s += s === '' ? '{"integrity":' : ',"integrity":'
        holeAt = s.length
        open = false
      }
      s = auditMember(s, k, a[k])
    }
    if (open) {
      s += s === '' ? '{"integrity":' : ',"integrity":'
      holeAt = s.length
    }
    return `${s}}`
  }

  /** `s` with audit's member `k` appended (the first one opens the object), unless JSON.stringify leaves it out. */
  function auditMember(s: string, k: string, v: unknown): string {
    if (typeof v === 'string' && isPlain(v)) return `${s}${keyText(k, s === '', true)}${v}"`
    const x = !isObject(v)
      ? json(v)
      : k === 'resource'
        ? resourceText(v)
        : k === 'db'
          ? auditDbText(v)
          : objectText(v, 2)
    return x === undefined ? s : s + keyText(k, s === '', false) + x
  }

  /** `audit.db` of a db-query record (events/db.ts): its three keys known, each value read once. */
  function auditDbText(o: object): string | undefined {
    if (!matches(o, AUDIT_DB_KEYS)) return objectText(o, 2)
    const a = o as Record<string, unknown>
    const fields = entry(entry('', 'fingerprint', a.fingerprint, 3), 'slow', a.slow, 3)
    const all = entry(fields, 'statement_name', a.statement_name, 3)
    return all === '' ? '{}' : `${all}}`
  }

  function resourceText(o: object): string | undefined {
    if (!matches(o, RESOURCE_KEYS)) return json(o)
    const r = o as Record<string, unknown>
    const id = r.id
    const type = r.type
    if (typeof id === 'string' && typeof type === 'string' && isPlain(id) && isPlain(type)) {
      return `{"id":"${id}","type":"${type}"}`
    }
    return opaque(o)
  }

  /**
   * Any object of a record whose keys are not fixed: http, url, client, db (the builders'), details
   * (the caller's, after the redaction walk). Its plain strings go between quotes as they are, lists
   * of them through strings(), nested plain objects through here again; every other value through
   * json(), one at a time, so no value is read twice (a getter runs once, as in JSON.stringify).
   * Deeper than MAX_DEPTH a plain object is written by JSON.stringify (which also finds a cycle there
   * and throws, so that JSON.stringify of the whole record decides); it has been checked for toJSON
   * first, like every object above it.
   */
  function objectText(o: object, depth: number): string | undefined {
    if (Array.isArray(o)) return strings(o)
    if (hasToJSON(o)) throw WHOLE
    const proto = Object.getPrototypeOf(o)
    // Another prototype (a class, a boxed value, a Map): JSON.stringify may write it otherwise, and
    // `for in` would list the prototype's enumerable keys, which JSON.stringify leaves out.
    if ((proto !== Object.prototype && proto !== null) || depth > MAX_DEPTH) return opaque(o)
    const d = o as Record<string, unknown>
    let s = ''
    let prev = ''
    for (const k in d) {
      if (!(prev < k) || k.indexOf('.') !== -1) unsorted = true
      prev = k
      s = entry(s, k, d[k], depth + 1)
    }
    return s === '' ? '{}' : `${s}}`
  }

  /**
   * Appends one key and its value (read by the caller, once) to the text of an object written so far
   * (`s`, empty before its first field): a plain string between quotes as it is, nested plain objects
   * through objectText at `depth`, every other value through json(); nothing where JSON.stringify
   * leaves the value out.
   */
  function entry(s: string, k: string, v: unknown, depth: number): string {
    let x: string | undefined
    if (typeof v === 'string') {
      if (isPlain(v)) return `${s}${keyText(k, s === '', true)}${v}"`
      x = JSON.stringify(v)
    } else if (v === undefined) {
      return s // most fields the builders leave empty
    } else {
      x = isObject(v) ? objectText(v, depth) : json(v)
      if (x === undefined) return s
    }
    return s + keyText(k, s === '', false) + x
  }

  /**
   * `db` of a db-query record (events/db.ts), the event a service writes most: one per SQL statement.
   * Everything in it but `response` is the same for every run of one statement, so the text of
   * `collection`, `namespace`, `operation` and `query` is kept per statement (a slot per query text,
   * like `seen`) and reused while each of those values is the same; walking them key by key cost more
   * than the rest of the line. Every value is read once; an object in another shape than dbRecord's is
   * written by objectText, as it would have been without this.
   */
  function dbText(o: object): string | undefined {
    if (!matches(o, DB_KEYS)) return objectText(o, 1)
    const d = o as Record<string, unknown>
    const collection = d.collection
    const namespace = d.namespace
    const operation = d.operation
    const query = d.query
    const response = d.response
    const system = d.system
    let s = dbHead(collection, namespace, operation, query)
    if (isObject(response) && matches(response, RESPONSE_KEYS)) {
      const rows = (response as { returned_rows: unknown }).returned_rows
      const status = (response as { status_code: unknown }).status_code
      s = wrap(s, 'response', entry(entry('', 'returned_rows', rows, 3), 'status_code', status, 3))
    } else {
      s = entry(s, 'response', response, 2)
    }
    s =
      isObject(system) && matches(system, NAME_KEYS)
        ? wrap(s, 'system', entry('', 'name', (system as { name: unknown }).name, 3))
        : entry(s, 'system', system, 2)
    return s === '' ? '{}' : `${s}}`
  }

  /**
   * `server` of a db-query record (events/db.ts): `{ address, port }`, the same for every query to one
   * server, so the text of the last one is reused while both values are the same (a string and a
   * number or nothing: nothing else is vouched for by comparing). Each value is read once; another
   * shape is written by objectText.
   */
  function serverText(o: object): string | undefined {
    if (!matches(o, SERVER_KEYS)) return objectText(o, 1)
    const address = (o as { address: unknown }).address
    const port = (o as { port: unknown }).port
    if (address === lastServer.address && port === lastServer.port && lastServer.text !== undefined) {
      return lastServer.text
    }
    const fields = entry(entry('', 'address', address, 2), 'port', port, 2)
    const text = fields === '' ? '{}' : flat(`${fields}}`)
    lastServer.text = undefined
    if (typeof address === 'string' && (port === undefined || typeof port === 'number')) {
      lastServer.address = address
      lastServer.port = port
      lastServer.text = text
    }
    return text
  }

  const lastServer: { address?: unknown; port?: unknown; text?: string | undefined } = {}

  /** The statement's part of `db` (see dbText), remembered per slot while its values stay the same. */
  const heads: (DbHead | undefined)[] = new Array<DbHead | undefined>(HEAD_SLOTS).fill(undefined)

  function dbHead(collection: unknown, namespace: unknown, operation: unknown, query: unknown): string {
    // `{ name }` and `{ summary, text }` as dbRecord makes them: their values are read here, once.
    const c = isObject(collection) && matches(collection, NAME_KEYS)
    const op = isObject(operation) && matches(operation, NAME_KEYS)
    const q = isObject(query) && matches(query, QUERY_KEYS)
    const cName = c ? (collection as { name: unknown }).name : undefined
    const opName = op ? (operation as { name: unknown }).name : undefined
    const summary = q ? (query as { summary: unknown }).summary : undefined
    const text = q ? (query as { text: unknown }).text : undefined
    const known =
      (c || collection === undefined) &&
      (op || operation === undefined) &&
      (q || query === undefined) &&
      isText(namespace) &&
      isText(cName) &&
      isText(opName) &&
      isText(summary) &&
      isText(text)
    const shape = (c ? 1 : 0) | (op ? 2 : 0) | (q ? 4 : 0)
    let slot = 0
    if (known) {
      const k = (text ?? summary ?? namespace ?? opName ?? cName ?? '') as string
      slot = k.length === 0 ? 0 : slotOf(k, k.length) & (HEAD_SLOTS - 1)
      const h = heads[slot]
      if (
        h !== undefined &&
        h.shape === shape &&
        h.text === text &&
        h.summary === summary &&
        h.namespace === namespace &&
        h.opName === opName &&
        h.cName === cName
      ) {
        return h.head
      }
    }
    let s = c ? wrap('', 'collection', entry('', 'name', cName, 3)) : entry('', 'collection', collection, 2)
    s = entry(s, 'namespace', namespace, 2)
    s = op ? wrap(s, 'operation', entry('', 'name', opName, 3)) : entry(s, 'operation', operation, 2)
    s = q
      ? wrap(s, 'query', entry(entry('', 'summary', summary, 3), 'text', text, 3))
      : entry(s, 'query', query, 2)
    if (known && s.length <= MAX_HEAD) {
      s = flat(s)
      heads[slot] = { shape, text, summary, namespace, opName, cName, head: s }
    }
    return s
  }

  /**
   * `"key":{...}` appended to `s`, from the text of the object's fields (as entry() wrote them from
   * values read once; empty for `{}`), for the objects of known keys in `db`.
   */
  function wrap(s: string, key: string, fields: string): string {
    return s + keyText(key, s === '', false) + (fields === '' ? '{}' : `${fields}}`)
  }

  /**
   * Key texts of objects whose keys are not fixed: `{"key":` or `,"key":`, with `"` after it when a
   * string follows. Kept per slot like `seen`, four variants each.
   */
  const keySeen: string[] = new Array<string>(SLOTS).fill('')

  const keyTexts: string[] = new Array<string>(SLOTS * 4).fill('')

  function keyText(k: string, first: boolean, quoted: boolean): string {
    const n = k.length
    const variant = (first ? 0 : 2) + (quoted ? 1 : 0)
    const slot = n === 0 ? 0 : slotOf(k, n)
    if (n === 0 || keySeen[slot] !== k) {
      const q = isPlain(k) ? `"${k}"` : JSON.stringify(k)
      const texts = [`{${q}:`, `{${q}:"`, `,${q}:`, `,${q}:"`]
      if (n === 0 || n > KEEP_LENGTH) return texts[variant]!
      keySeen[slot] = k
      for (let i = 0; i < 4; i++) keyTexts[slot * 4 + i] = flat(texts[i]!)
    }
    return keyTexts[slot * 4 + variant]!
  }

  /**
   * `service` is one object per logger (buildService): its text is reused while the object, its
   * `node` and every value in them are the same as when it was written.
   */
  let lastService: object | undefined

  let lastNode: object | undefined

  let lastValues: readonly unknown[] = []

  let lastServiceText: string | undefined

  function serviceText(o: object): string | undefined {
    const svc = o as Record<string, unknown>
    const node = svc.node
    if (
      o === lastService &&
      node === lastNode &&
      svc.environment === lastValues[0] &&
      svc.name === lastValues[1] &&
      svc.version === lastValues[2] &&
      (node as Record<string, unknown>).name === lastValues[3] &&
      matches(o, SERVICE_KEYS) &&
      matches(node as object, NODE_KEYS)
    ) {
      return lastServiceText
    }
    const wasUnsorted = unsorted
    const text = json(o)
    lastService = undefined
    if (text !== undefined && isObject(node) && matches(o, SERVICE_KEYS) && matches(node, NODE_KEYS)) {
      const values = [svc.environment, svc.name, svc.version, (node as Record<string, unknown>).name]
      // Only text made of strings can be vouched for by comparing values.
      if (values.every((v) => v === undefined || typeof v === 'string')) {
        // Keys known and sorted, strings only: in order, whatever json() could not tell.
        unsorted = wasUnsorted
        lastService = o
        lastNode = node
        lastValues = values
        lastServiceText = flat(text)
      }
    }
    return text
  }

  return { serialize, sorted, split, isPlain, offsets }
}

/**
 * `for in` lists inherited enumerable keys too; with none on Object.prototype (nobody has polluted it),
 * it lists exactly the own enumerable keys of the plain objects walked here, as JSON.stringify does.
 */
function prototypeClean(): boolean {
  for (const _ in Object.prototype) return false
  return true
}

/** Thrown when only JSON.stringify of the whole record can say what is right. */
const WHOLE: unique symbol = Symbol('whole record')

/** What JSON.stringify escapes: `"`, `\`, control characters, and (lone) surrogates. */
const NEEDS_ESCAPE = /[\x00-\x1f"\\\ud800-\udfff]/

/** Slots of each memo below, and the longest string a slot keeps. */
const SLOTS = 512
const KEEP_LENGTH = 256

function slotOf(s: string, n: number): number {
  return (n * 31 + s.charCodeAt(0) * 7 + s.charCodeAt(n - 1)) & (SLOTS - 1)
}

function hasToJSON(o: object): boolean {
  return typeof (o as { toJSON?: unknown }).toJSON === 'function'
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null
}

/** The object's own enumerable keys are exactly `keys`, in that order, and it has no toJSON. */
function matches(o: object, keys: readonly string[]): boolean {
  if (Object.getPrototypeOf(o) !== Object.prototype) return false
  let i = 0
  for (const k in o) {
    if (k !== keys[i]) return false
    i++
  }
  return i === keys.length && !hasToJSON(o)
}

/** Appends a field's key text `k` (`,"key":`) and value text, unless JSON.stringify leaves it out. */
function put(s: string, k: string, x: string | undefined): string {
  return x === undefined ? s : s + k + x
}

/** The top-level keys of a record from baseRecord (record.ts), in their order. */
const TOP_KEYS = [
  '@timestamp',
  'audit',
  'client',
  'db',
  'ecs.version',
  'error',
  'event',
  'http',
  'log.level',
  'message',
  'server',
  'service',
  'source',
  'span',
  'trace',
  'url',
  'user',
  'user_agent',
]

/**
 * The text built from pieces is a tree of them. A line waits in the writer's queue until the event
 * loop turns, and the garbage collector would trace every piece on every pass; slice() has V8 copy
 * the tree into one string first, and only that string stays.
 */
function flat(s: string): string {
  return ` ${s}`.slice(1)
}

const EVENT_KEYS = ['action', 'category', 'duration', 'id', 'kind', 'outcome', 'reason', 'type']

// Values that nearly every record has, written as one piece with their keys: fewer pieces, less to
// copy together at the end.
const ECS_TEXT = `,"ecs.version":"${ECS_VERSION}"`

const LEVEL_TEXT = new Map(['debug', 'info', 'warn', 'error'].map((l) => [l, `,"log.level":"${l}"`]))

const OUTCOME_TEXT = new Map(
  ['success', 'failure', 'unknown'].map((o) => [o, `","kind":"event","outcome":"${o}"`]),
)

const USER_KEYS = ['domain', 'effective', 'id', 'name', 'roles', 'type']

function isText(v: unknown): boolean {
  return v === undefined || typeof v === 'string'
}

function allStrings(v: unknown): boolean {
  if (!Array.isArray(v) || hasToJSON(v)) return false
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false
  return true
}

/** `v` is a list of exactly the strings in `known` (or both are absent). */
function sameStrings(v: unknown, known: readonly string[] | undefined): boolean {
  if (v === undefined || known === undefined) return v === known
  if (!Array.isArray(v) || v.length !== known.length || hasToJSON(v)) return false
  for (let i = 0; i < known.length; i++) if (v[i] !== known[i]) return false
  return true
}

const RESOURCE_KEYS = ['id', 'type']

/** The keys dbRecord gives `db` (events/db.ts) and the objects in it, in their (sorted) order. */
const DB_KEYS = ['collection', 'namespace', 'operation', 'query', 'response', 'system']
const NAME_KEYS = ['name']
const QUERY_KEYS = ['summary', 'text']
const RESPONSE_KEYS = ['returned_rows', 'status_code']
const AUDIT_DB_KEYS = ['fingerprint', 'slow', 'statement_name']
const SERVER_KEYS = ['address', 'port']

/** What dbHead remembers of one statement: its values, and the text they make. */
interface DbHead {
  shape: number
  text: unknown
  summary: unknown
  namespace: unknown
  opName: unknown
  cName: unknown
  head: string
}

/** Statements remembered (a service has tens, rarely hundreds), and the longest text kept (~2 KiB each). */
const HEAD_SLOTS = 256
const MAX_HEAD = 2048

/** A top-level field's object is at depth 1 (details at 2); deeper objects go to JSON.stringify whole. */
const MAX_DEPTH = 4

const SERVICE_KEYS = ['environment', 'name', 'node', 'version']

const NODE_KEYS = ['name']
