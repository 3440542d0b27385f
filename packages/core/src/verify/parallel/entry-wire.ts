/**
 * An entry as a worker thread sends it to the main thread: a JSON array in a fixed member order
 * (null: absent; trailing nulls left off) instead of an object. The main thread parses every entry
 * of the input once, on the thread that walks the chains in order, so that parse sets the pace:
 * an array without member names is about a third fewer bytes and a third less time to parse and
 * write than the object (format-2 record with the report's facts: 505 -> ~370 bytes).
 *
 * Format 2: the link is the first LINK_CHARS characters of an input that is the record's digest
 * (every record but an epoch's last), and then is left out (rebuilt on the main thread).
 */
import { LINK_CHARS } from '../../integrity/chain'
import type { Entry, GenesisFields, LossFields } from '../entry'
import type { RecordFacts } from '../report/facts'

/** What the wire carries: JSON values, null for absent. */
type Wire = unknown[]

// Member positions.
const STREAM = 0
const SEQ = 1
const MAC = 2
const INPUT = 3
const TIME = 4
const LINE = 5
const POSITION = 6
const INDEXED = 7
const PREV = 8
const V2 = 9
const EPOCH = 10
const FROM = 11
const MARK = 12
const INTERVAL = 13
const SERVICE = 14
const INSTANCE = 15
const GENESIS = 16
const LOSS = 17
const FACTS = 18
const MAC_VALID = 19

/** V2 when the link is the input's start; else the link itself. */
const LINK_IN_INPUT = 1
/** FACTS of a record no report filter matches: its facts are its time only (the entry's). */
const TIME_ONLY = 0

/** The report's facts (report/facts.ts), in this order. */
const FACT_NAMES = [
  'time',
  'action',
  'actor',
  'effective',
  'session',
  'ip',
  'resourceType',
  'resourceId',
  'requestId',
  'path',
  'pseudonyms',
  'access',
  'alert',
] as const satisfies ReadonlyArray<keyof RecordFacts>

/**
 * The stream, and facts whose few values repeat from record to record (action, actor, effective user, session,
 * resource type; by FACT_NAMES position): within one segment each value is sent once, and then as
 * its number in the segment's table (the order in which values first came), so that the worker
 * writes and the main thread parses and allocates each once, and the tally's maps look up one
 * string (its hash computed once) instead of a copy per record. Client IPs and ids are sent as
 * they are (an id rarely repeats within a segment; the benchmark's IPs do not).
 */
const TABLED = [false, true, true, true, true, false, true] as const
/** Values a segment's table holds at most (later ones are sent as they are); a look-up scans it. */
export const TABLE_MAX = 32

/**
 * A segment's table of repeated values (streams and facts), in the order they first came: the worker's, as it sends
 * them, and the main thread's, as it reads them (the same list, one entry after the other).
 */
export type FactTable = string[]

/** facts.time on the wire: the entry's own time (what factsOf is given), else the time itself. */
const ENTRY_TIME = null

/**
 * The entry's wire form. `input` undefined (format 1: the main thread takes it from the result's
 * `inputs`) is sent as null. `timeOnly`: of the facts, only their time is wanted (the same as the
 * entry's), the rest is not sent.
 */
export function toWire(e: Entry, input: string | undefined, timeOnly = false, table?: FactTable): Wire {
  const w: Wire = [
    table ? toTable(e.stream, table) : e.stream,
    e.seq,
    e.mac,
    input ?? null,
    Number.isNaN(e.time) ? null : e.time,
    e.line,
    e.position,
    e.indexed ? 1 : 0,
    e.prev ?? null,
  ]
  const v2 = e.v2
  w[V2] =
    v2 === undefined
      ? null
      : v2.link.length === LINK_CHARS && input?.startsWith(v2.link)
        ? LINK_IN_INPUT
        : v2.link
  w[EPOCH] = v2?.epoch ?? null
  w[FROM] = v2?.from ?? null
  w[MARK] = e.mark ?? null
  w[INTERVAL] = e.interval ?? null
  w[SERVICE] = e.service ?? null
  w[INSTANCE] = e.instance ?? null
  w[GENESIS] = e.genesis ?? null
  w[LOSS] = e.loss ?? null
  w[FACTS] =
    e.facts === undefined ? null : timeOnly ? TIME_ONLY : factsToWire(e.facts as RecordFacts, e.time, table)
  w[MAC_VALID] = e.macValid ?? null
  let n = w.length
  while (n > 0 && w[n - 1] === null) n--
  w.length = n
  return w
}

/**
 * The entry again (`input` still undefined when the wire had none: format 1). `table`: the
 * segment's (one per result, the entries given in the order sent).
 */
export function fromWire(w: Wire, table?: FactTable): Entry {
  const time = w[TIME] as number | null
  const input = w[INPUT] as string | null
  const e: Entry = {
    stream: tabled(w[STREAM], table)!,
    seq: w[SEQ] as number,
    mac: w[MAC] as string,
    input: input as string,
    time: time === null ? Number.NaN : time,
    line: w[LINE] as number,
    position: w[POSITION] as number,
    indexed: w[INDEXED] === 1,
  }
  if (input === null) (e as { input?: string }).input = undefined
  const prev = w[PREV] as string | null | undefined
  if (typeof prev === 'string') e.prev = prev
  const v2 = w[V2] as string | number | null | undefined
  if (v2 !== null && v2 !== undefined) {
    e.v2 = { link: v2 === LINK_IN_INPUT ? input!.slice(0, LINK_CHARS) : (v2 as string) }
    const epoch = w[EPOCH] as number | null | undefined
    if (typeof epoch === 'number') e.v2.epoch = epoch
    const from = w[FROM] as number | null | undefined
    if (typeof from === 'number') e.v2.from = from
  }
  const mark = w[MARK] as string | null | undefined
  if (typeof mark === 'string') e.mark = mark
  const interval = w[INTERVAL] as number | null | undefined
  if (typeof interval === 'number') e.interval = interval
  const service = w[SERVICE] as string | null | undefined
  if (typeof service === 'string') e.service = service
  const instance = w[INSTANCE] as string | null | undefined
  if (typeof instance === 'string') e.instance = instance
  const genesis = w[GENESIS] as GenesisFields | null | undefined
  if (genesis) e.genesis = genesis
  const loss = w[LOSS] as LossFields | null | undefined
  if (loss) e.loss = loss
  const facts = w[FACTS] as Wire | typeof TIME_ONLY | null | undefined
  if (facts === TIME_ONLY) e.facts = { time: e.time } satisfies RecordFacts
  else if (facts) e.facts = factsFromWire(facts, e.time, table)
  const macValid = w[MAC_VALID] as boolean | null | undefined
  if (typeof macValid === 'boolean') e.macValid = macValid
  return e
}

function factsToWire(f: RecordFacts, entryTime: number, table: FactTable | undefined): Wire {
  const time = f.time
  const w: Wire = [
    time === entryTime || (Number.isNaN(time) && Number.isNaN(entryTime))
      ? ENTRY_TIME
      : Number.isNaN(time)
        ? 'NaN'
        : time,
  ]
  for (let i = 1; i < FACT_NAMES.length; i++) {
    const v = f[FACT_NAMES[i]!]
    if (v === undefined) {
      w.push(null)
      continue
    }
    w.push(table && TABLED[i] === true ? toTable(v as string, table) : v)
  }
  let n = w.length
  while (n > 1 && w[n - 1] === null) n--
  w.length = n
  return w
}

/** A tabled value as sent: its number when sent before, else itself (listed while there is room). */
function toTable(v: string, table: FactTable): string | number {
  const n = table.indexOf(v)
  if (n !== -1) return n
  if (table.length < TABLE_MAX) table.push(v)
  return v
}

/** A tabled value again: one first sent (listed, as the worker did), or the number of one sent before. */
function tabled(v: unknown, table: FactTable | undefined): string | undefined {
  if (v === null || v === undefined) return undefined
  if (typeof v === 'number') return table![v]
  if (table && table.length < TABLE_MAX) table.push(v as string)
  return v as string
}

/**
 * Every member present (undefined when absent), in one order: one shape for every record's
 * facts, which the tally and the filters read.
 */
function factsFromWire(w: Wire, entryTime: number, table: FactTable | undefined): RecordFacts {
  const t = w[0]
  const f: RecordFacts = {
    time: t === ENTRY_TIME ? entryTime : t === 'NaN' ? Number.NaN : (t as number),
    action: tabled(w[1], table),
    actor: tabled(w[2], table),
    effective: tabled(w[3], table),
    session: tabled(w[4], table),
    ip: (w[5] ?? undefined) as string | undefined,
    resourceType: tabled(w[6], table),
    resourceId: (w[7] ?? undefined) as string | undefined,
    requestId: (w[8] ?? undefined) as string | undefined,
    path: (w[9] ?? undefined) as string | undefined,
    pseudonyms: (w[10] ?? undefined) as string[] | undefined,
    access: (w[11] ?? undefined) as RecordFacts['access'],
    alert: (w[12] ?? undefined) as true | undefined,
  }
  return f
}
