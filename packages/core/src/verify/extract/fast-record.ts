/**
 * A record read straight from its line's text, without JSON.parse, for lines as the SDK writes
 * them: one compact JSON object with its keys sorted, no escapes, integers only, and the dotted keys
 * the sealer writes at the top level (`ecs.version`, `log.level`). A verifier reads millions of such
 * lines, and parsing each into objects, expanding its dotted keys and writing its canonical form
 * again was most of a worker thread's time.
 *
 * For such a line the canonical MAC input (canonical.ts macInputOf) is the line's own text with
 * the fields it does not commit to, the seal's members (`mac`, `epoch`, `from`) and the
 * shipper-owned members left out and the top-level dotted keys expanded: slices of the line. What
 * the verifier and the report read of the record (find-records.ts integrityOf, entry.ts toEntry,
 * report/facts.ts factsOf) is copied into a small stand-in for the record (WANT: every member they
 * read, with objects nobody reads into as `{}` and arrays as `[]`).
 *
 * Anything else gives undefined, and the caller takes the general path (JSON.parse, find-records,
 * macInputOf): whitespace, any backslash, control characters or surrogates, a number that is not a
 * plain integer of at most 15 digits, keys not in strictly increasing order at any level (so no
 * repeated key), a dotted key below the top level or into a member that is read (`user.id`), a key
 * starting with `__`, nesting deeper than MAX_DEPTH, text after the object, a `fields` that is not
 * a mask (chain format 1, names outside the registry), `audit.loss`, a `log` string (a shipper's
 * wrapper, which find-records.ts reads first) or no integrity object. Declining is always safe;
 * fast-record.test.ts checks that what it does give is what the general path gives, over the SDK's
 * lines, generated adversarial ones and both mutated.
 *
 * Used by the worker threads (parallel/read-segment.ts), which read nearly every record of a large
 * input; the one-thread verifier keeps the general path, which the threaded tests compare them with.
 */
import { ROOTS_V2, SHIPPER_OWNED } from '../../integrity/canonical'
import { integrityOfExpanded } from './find-records'

type Obj = Record<string, unknown>

export interface FastRecord {
  /** The stand-in for the record (top-level dotted keys expanded): the members WANT lists. */
  record: Obj
  /** Its audit.integrity (the members WANT lists). */
  integrity: Obj
  /** The canonical text the record's MAC covers (macInputOf). */
  macInput: string
}

/**
 * What is read of a member: its value (LEAF: a string, number, boolean or null as it is, an object
 * as `{}`, an array as `[]`: all they ask of it is its type), its value when it is not an object or
 * array (SCALAR: copied to the entry as it is, else declined), or nothing (DECLINE: the line is left
 * to the general path).
 */
const LEAF = 0
const SCALAR = 1
const DECLINE = 2

interface Want {
  names: readonly string[]
  next: ReadonlyArray<Want | number>
}

function want(members: Record<string, Want | number>): Want {
  return { names: Object.keys(members), next: Object.values(members) }
}

/**
 * The members integrityOf, toEntry (lossOf, serviceOf) and factsOf read. A member they read must be
 * here: the stand-in holds nothing else.
 */
const WANT = want({
  '@timestamp': LEAF,
  audit: want({
    // find-records.ts integrityOf and toEntry; a genesis's alg, key and previous go on the entry as they are.
    integrity: want({
      alg: SCALAR,
      epoch: LEAF,
      fields: LEAF,
      from: LEAF,
      interval: LEAF,
      key: SCALAR,
      mac: LEAF,
      mark: LEAF,
      prev: LEAF,
      previous: SCALAR,
      seq: LEAF,
      stream: LEAF,
      v: LEAF,
    }),
    loss: DECLINE,
    resource: want({ id: LEAF, type: LEAF }),
    session: LEAF,
  }),
  client: want({ ip: LEAF }),
  event: want({ action: LEAF }),
  http: want({ request: want({ id: LEAF }) }),
  service: want({ name: LEAF, node: want({ name: LEAF }) }),
  source: want({ ip: LEAF }),
  url: want({ path: LEAF }),
  user: want({ effective: want({ id: LEAF }), id: LEAF }),
})

/** Members of audit.integrity the MAC input leaves out (canonical.ts SEAL_ONLY_V2). */
const SEAL_ONLY = ['mac', 'epoch', 'from']

/** Deeper than this, declined (canonical.ts writes a marker at 64). */
const MAX_DEPTH = 32
/** Segments of a dotted key at most. */
const MAX_SEGMENTS = 8
/** Whole-line check: no escape, control character or surrogate anywhere. */
const UNSAFE = /[\u0000-\u001f\\\ud800-\udfff]/
/** Integers of at most this many digits are exact doubles that print as written. */
const MAX_DIGITS = 15

const QUOTE = 34
const COMMA = 44
const MINUS = 45
const DOT = 46
const ZERO = 48
const NINE = 57
const COLON = 58
const OPEN_ARRAY = 91
const CLOSE_ARRAY = 93
const UNDERSCORE = 95
const OPEN = 123
const CLOSE = 125

/** The registry's top-level names (a plain array: ROOTS_V2 is frozen, which made find's look-ups there several times slower). */
const ROOTS: readonly string[] = [...ROOTS_V2]
/** Per root: its index in WANT.names (-1: not read), and its shipper-owned members. */
const WANT_OF_ROOT: readonly number[] = ROOTS.map((name) => WANT.names.indexOf(name))
const OWNED_OF_ROOT: ReadonlyArray<readonly string[] | undefined> = ROOTS.map((name) => SHIPPER_OWNED[name])

/**
 * Reads lines one at a time (fastRecord); the extractor keeps one. Its cursor (the line, the position
 * in it, the first dot of the last key read) belongs to the reader: nothing here is re-entered.
 */
export class FastReader {
  private s = ''
  private i = 0
  /** The first dot of the last key read (keyEnd), or -1. */
  private dotAt = -1

  /** The record of a line (trimmed), or undefined: take the general path. */
  read(text: string): FastRecord | undefined {
    if (text.charCodeAt(0) !== OPEN || UNSAFE.test(text)) return undefined
    this.s = text
    this.i = 0
    try {
      return this.topLevel()
    } finally {
      this.s = ''
    }
  }

  private topLevel(): FastRecord | undefined {
    const record: Obj = {}
    // Each member's root (ROOTS index or -1), where it is written, and its canonical text when that
    // is not the text as written ('').
    const members: number[] = []
    const texts: string[] = []
    this.i = 1
    if (this.s.charCodeAt(this.i) === CLOSE) return undefined
    let prevStart = -1
    let prevEnd = -1
    for (;;) {
      const ms = this.i
      if (this.s.charCodeAt(this.i) !== QUOTE) return undefined
      const ks = this.i + 1
      const ke = this.keyEnd(ks)
      if (ke < 0) return undefined
      // The head of a dotted key, the member it expands into (canonical.ts expandKeys).
      const he = this.dotAt >= 0 ? this.dotAt : ke
      if (prevStart >= 0 && !this.less(prevStart, prevEnd, ks, he)) return undefined
      prevStart = ks
      prevEnd = he
      this.i = ke + 1
      if (this.s.charCodeAt(this.i) !== COLON) return undefined
      this.i++
      // Which of the registry's top-level names (format 2's `fields`) it is; what is read of it; what shippers own in it.
      const root = this.find(ROOTS, ks, he)
      const w = root >= 0 ? WANT_OF_ROOT[root]! : -1
      const owned = root >= 0 ? OWNED_OF_ROOT[root] : undefined
      const vs = this.i
      let text: string | undefined
      if (he !== ke) {
        // `ecs.version`, `log.level`: expanded; not into a member that is read (declined).
        if (w >= 0 || !this.dottedKey(ks, ke) || !this.skip(2)) return undefined
        text = this.dotted(ks, he, ke, owned, this.s.slice(vs, this.i))
      } else {
        const c = this.s.charCodeAt(this.i)
        let value: string | undefined
        if (w >= 0) {
          const next = WANT.next[w]!
          const name = WANT.names[w]!
          if (name === 'audit' && c === OPEN) value = this.object(1, next as Want, record, name, 'integrity')
          else if (owned !== undefined && c === OPEN)
            value = this.object(1, next as Want, record, name, undefined, owned)
          else value = this.capture(next, record, name, 1) ? '' : undefined
        } else if (owned !== undefined && c === OPEN)
          value = this.object(1, undefined, undefined, '', undefined, owned)
        else if (c === QUOTE && he - ks === 3 && this.s.startsWith('log', ks)) {
          // A shipper's wrapper (find-records.ts reads the line in it first).
          return undefined
        } else value = this.skip(1) ? '' : undefined
        if (value === undefined) return undefined
        text = value === '' ? '' : `${this.s.slice(ms, vs)}${value}`
      }
      members.push(root, ms, this.i)
      texts.push(text)
      const c = this.s.charCodeAt(this.i++)
      if (c === CLOSE) break
      if (c !== COMMA) return undefined
    }
    if (this.i !== this.s.length) return undefined
    const integrity = integrityOfExpanded(record)
    if (integrity === undefined || integrity.v !== 2 || typeof integrity.fields !== 'string') return undefined
    // A mask over ROOTS (integrityOf checked it: namesOfFieldsV2).
    const mask = Number.parseInt(integrity.fields, 16)
    // The fields the record commits to, in the line's order, which is the sorted order; members
    // written as they are, one after the other, as one slice of the line.
    let out = ''
    let from = -1
    let to = -1
    for (let k = 0; k < texts.length; k++) {
      const text = texts[k]!
      const root = members[3 * k]!
      const committed = root >= 0 && (mask & (1 << root)) !== 0
      if (committed && text === '') {
        if (from < 0) from = members[3 * k + 1]!
        to = members[3 * k + 2]!
        continue
      }
      if (from >= 0) out = out === '' ? this.s.slice(from, to) : `${out},${this.s.slice(from, to)}`
      from = -1
      if (committed) out = out === '' ? text : `${out},${text}`
    }
    if (from >= 0) out = out === '' ? this.s.slice(from, to) : `${out},${this.s.slice(from, to)}`
    return { record, integrity, macInput: `{${out}}` }
  }

  /**
   * The canonical text of a top-level dotted key's member (`"log":{"level":"info"}`), or `"ecs":{}`
   * when its second segment is shipper-owned (`ecs.version`).
   */
  private dotted(
    ks: number,
    he: number,
    ke: number,
    owned: readonly string[] | undefined,
    value: string,
  ): string {
    let out = `"${this.s.slice(ks, he)}":`
    let close = ''
    let p = he + 1
    for (let depth = 1; ; depth++) {
      let end = this.s.indexOf('.', p)
      if (end < 0 || end > ke) end = ke
      if (depth === 1 && owned !== undefined && this.find(owned, p, end) >= 0) return `${out}{}`
      out += `{"${this.s.slice(p, end)}":`
      close += '}'
      if (end === ke) break
      p = end + 1
    }
    return `${out}${value}${close}`
  }

  /** Segments of a dotted key all non-empty and none starting with `__` (canonical.ts isDotted). */
  private dottedKey(ks: number, ke: number): boolean {
    let segment = ks
    let segments = 0
    for (let p = ks; p <= ke; p++) {
      if (p === ke || this.s.charCodeAt(p) === DOT) {
        if (p === segment || ++segments > MAX_SEGMENTS) return false
        if (this.s.charCodeAt(segment) === UNDERSCORE && this.s.charCodeAt(segment + 1) === UNDERSCORE)
          return false
        segment = p + 1
      }
    }
    return true
  }

  /** The closing quote of the key starting at `ks`; -1 for a key starting with `__`. Sets dotAt. */
  private keyEnd(ks: number): number {
    this.dotAt = -1
    if (this.s.charCodeAt(ks) === UNDERSCORE && this.s.charCodeAt(ks + 1) === UNDERSCORE) return -1
    for (let p = ks; p < this.s.length; p++) {
      const c = this.s.charCodeAt(p)
      if (c === QUOTE) return p
      if (c === DOT && this.dotAt < 0) this.dotAt = p
    }
    return -1
  }

  /**
   * The key of a member below the top level at i (`"key":`, without a dot, sorting strictly after
   * the previous member's key [prevStart, prevEnd); prevStart -1 for the first): its closing quote,
   * with i at the value, or -1 to decline.
   */
  private memberKey(prevStart: number, prevEnd: number): number {
    if (this.s.charCodeAt(this.i) !== QUOTE) return -1
    const ks = this.i + 1
    const ke = this.keyEnd(ks)
    if (ke < 0 || this.dotAt >= 0) return -1
    if (prevStart >= 0 && !this.less(prevStart, prevEnd, ks, ke)) return -1
    this.i = ke + 1
    if (this.s.charCodeAt(this.i) !== COLON) return -1
    this.i++
    return ke
  }

  /** Whether key range a sorts strictly before key range b (UTF-16 code units, as sortKeys). */
  private less(as: number, ae: number, bs: number, be: number): boolean {
    const n = Math.min(ae - as, be - bs)
    for (let k = 0; k < n; k++) {
      const a = this.s.charCodeAt(as + k)
      const b = this.s.charCodeAt(bs + k)
      if (a !== b) return a < b
    }
    return ae - as < be - bs
  }

  /** Index of the key s[ks, ke) in `names`, or -1. */
  private find(names: readonly string[], ks: number, ke: number): number {
    const n = ke - ks
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!
      if (name.length === n && name.charCodeAt(0) === this.s.charCodeAt(ks) && this.same(name, ks, n))
        return k
    }
    return -1
  }

  /** Whether s[ks, ks + n) is `name` (a loop: String#startsWith with a position is a call, slower for these short keys). */
  private same(name: string, ks: number, n: number): boolean {
    for (let k = 0; k < n; k++) if (name.charCodeAt(k) !== this.s.charCodeAt(ks + k)) return false
    return true
  }

  /**
   * Reads an object whose members are read (`w`, into `parent[name]`) or left out of its text: its
   * canonical text, '' when that is its text as written, undefined to decline. `inner`: the member
   * whose seal is left out (audit's integrity); `leave`: members left out (shipper-owned).
   */
  private object(
    depth: number,
    w: Want | undefined,
    parent: Obj | undefined,
    name: string,
    inner: string | undefined,
    leave?: readonly string[],
  ): string | undefined {
    const shadow: Obj | undefined = w ? {} : undefined
    if (parent) parent[name] = shadow
    const start = this.i
    this.i++
    if (this.s.charCodeAt(this.i) === CLOSE) {
      this.i++
      return ''
    }
    // The members kept, once one is left out or rewritten; until then, the text as written up to `end`.
    let kept: string | undefined
    let end = start + 1
    let prevStart = -1
    let prevEnd = -1
    for (;;) {
      const ms = this.i
      const ks = ms + 1
      const ke = this.memberKey(prevStart, prevEnd)
      if (ke < 0) return undefined
      prevStart = ks
      prevEnd = ke
      const vs = this.i
      let value: string | undefined = ''
      const k = w ? this.find(w.names, ks, ke) : -1
      if (k >= 0) {
        const next = w!.next[k]!
        const key = w!.names[k]!
        if (key === inner && this.s.charCodeAt(this.i) === OPEN)
          value = this.object(depth + 1, next as Want, shadow, key, undefined, SEAL_ONLY)
        else if (!this.capture(next, shadow!, key, depth + 1)) return undefined
      } else if (!this.skip(depth + 1)) return undefined
      if (value === undefined) return undefined
      if (leave !== undefined && this.find(leave, ks, ke) >= 0) {
        if (kept === undefined) kept = this.s.slice(start + 1, end)
      } else if (value !== '' || kept !== undefined) {
        if (kept === undefined) kept = this.s.slice(start + 1, end)
        const text = value === '' ? this.s.slice(ms, this.i) : `${this.s.slice(ms, vs)}${value}`
        kept = kept === '' ? text : `${kept},${text}`
      } else end = this.i
      const c = this.s.charCodeAt(this.i++)
      if (c === CLOSE) break
      if (c !== COMMA) return undefined
    }
    return kept === undefined ? '' : `{${kept}}`
  }

  /** Reads the value at i into `parent[name]` as `w` says; false to decline. */
  private capture(w: Want | number, parent: Obj, name: string, depth: number): boolean {
    if (w === DECLINE) return false
    const c = this.s.charCodeAt(this.i)
    if (w === SCALAR) return this.scalar(parent, name)
    if (c === OPEN) {
      if (w === LEAF) {
        // Nobody reads into it: `{}` answers what they ask of it (no member, a plain object).
        parent[name] = {}
        return this.skip(depth)
      }
      return this.object(depth, w as Want, parent, name, undefined) === ''
    }
    if (c === OPEN_ARRAY) {
      parent[name] = []
      return this.skip(depth)
    }
    return this.scalar(parent, name)
  }

  /** A string, integer, true, false or null at i into `parent[name]`; false for anything else. */
  private scalar(parent: Obj, name: string): boolean {
    const c = this.s.charCodeAt(this.i)
    if (c === QUOTE) {
      const end = this.s.indexOf('"', this.i + 1)
      if (end < 0) return false
      parent[name] = this.s.slice(this.i + 1, end)
      this.i = end + 1
      return true
    }
    if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = this.i
      if (!this.number()) return false
      parent[name] = this.integer(start, this.i)
      return true
    }
    const lit = this.literal()
    if (lit === undefined) return false
    parent[name] = lit
    return true
  }

  private integer(start: number, end: number): number {
    const negative = this.s.charCodeAt(start) === MINUS
    let v = 0
    for (let p = negative ? start + 1 : start; p < end; p++) v = v * 10 + (this.s.charCodeAt(p) - ZERO)
    return negative ? -v : v
  }

  /** An integer as JSON.stringify prints it (no -0, no leading zero, at most MAX_DIGITS digits). */
  private number(): boolean {
    let p = this.i
    const negative = this.s.charCodeAt(p) === MINUS
    if (negative) p++
    const first = this.s.charCodeAt(p)
    if (first === ZERO) {
      if (negative) return false
      p++
    } else if (first > ZERO && first <= NINE) {
      const d0 = p
      p++
      while (p < this.s.length) {
        const c = this.s.charCodeAt(p)
        if (c < ZERO || c > NINE) break
        p++
      }
      if (p - d0 > MAX_DIGITS) return false
    } else return false
    // A fraction or exponent is declined: the caller expects `,` `}` or `]` next.
    this.i = p
    return true
  }

  /** true / false / null at i. */
  private literal(): boolean | null | undefined {
    if (this.s.startsWith('true', this.i)) {
      this.i += 4
      return true
    }
    if (this.s.startsWith('false', this.i)) {
      this.i += 5
      return false
    }
    if (this.s.startsWith('null', this.i)) {
      this.i += 4
      return null
    }
    return undefined
  }

  /** Steps over the value at i, checking that it is written as its canonical form; false to decline. */
  private skip(depth: number): boolean {
    if (depth > MAX_DEPTH) return false
    const c = this.s.charCodeAt(this.i)
    if (c === QUOTE) {
      const end = this.s.indexOf('"', this.i + 1)
      if (end < 0) return false
      this.i = end + 1
      return true
    }
    if (c === OPEN) {
      this.i++
      if (this.s.charCodeAt(this.i) === CLOSE) {
        this.i++
        return true
      }
      let prevStart = -1
      let prevEnd = -1
      for (;;) {
        const ks = this.i + 1
        const ke = this.memberKey(prevStart, prevEnd)
        if (ke < 0) return false
        prevStart = ks
        prevEnd = ke
        if (!this.skip(depth + 1)) return false
        const d = this.s.charCodeAt(this.i++)
        if (d === CLOSE) return true
        if (d !== COMMA) return false
      }
    }
    if (c === OPEN_ARRAY) {
      this.i++
      if (this.s.charCodeAt(this.i) === CLOSE_ARRAY) {
        this.i++
        return true
      }
      for (;;) {
        if (!this.skip(depth + 1)) return false
        const d = this.s.charCodeAt(this.i++)
        if (d === CLOSE_ARRAY) return true
        if (d !== COMMA) return false
      }
    }
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number()
    return this.literal() !== undefined
  }
}

/** The record of one line with a reader of its own (see FastReader.read). */
export function fastRecord(text: string): FastRecord | undefined {
  return new FastReader().read(text)
}
