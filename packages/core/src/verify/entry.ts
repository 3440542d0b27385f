/**
 * What the verifier keeps of a record: its place in the chain and the exact text its MAC covers.
 * The parsed record itself is dropped here, so memory holds strings, not object graphs.
 */
import { expandKeys, macInputOf, namesOfFieldsV2 } from '../integrity/canonical'
import { LINK_CHARS, sha256Text } from '../integrity/chain'
import type { FoundRecord } from './extract/extractor'
import { isPlainObject } from './extract/find-records'

type Obj = Record<string, unknown>

/** The genesis's chain settings (only seq 0 carries them). */
export interface GenesisFields {
  alg?: unknown
  key?: unknown
  previous?: unknown
}

/** audit.loss of a loss, checkpoint or closing record (CONTRACTS.md §1). */
export interface LossFields {
  dropped?: number
  total?: number
  reason?: string
}

export interface Entry {
  stream: string
  seq: number
  /** v1: every record's; v2: only an epoch's last record has one (others: ''). */
  mac: string
  prev?: string
  /** Chain format 2: its link (what the next record's prev must be), and on an epoch's last record its epoch and first seq. */
  v2?: { link: string; epoch?: number; from?: number }
  /**
   * Set by the epoch gate (epochs.ts) for format 2, which decides only once the epoch's MAC is
   * checked: authentic or not ('unproven': no authentic MAC reaches it), and what classifies a failure.
   */
  verdict?: boolean | 'unproven'
  prevLinks?: boolean
  macKept?: boolean
  /** Format 2: the later epoch whose key makes this failing end's MAC (re-MACed by someone who held it). */
  remacEpoch?: number
  /** Format 2: came after the walk passed its seq, and was walked with its epoch all the same. */
  arrivedLate?: boolean
  mark?: string
  interval?: number
  /** The canonical text the MAC covers (v2: the text its MAC covers, `2.<epoch>.<from>.<digest>`, or its digest). */
  input: string
  time: number
  line: number
  position: number
  indexed: boolean
  genesis?: GenesisFields
  loss?: LossFields
  /** service.name / service.node.name of the record, if any. */
  service?: string
  instance?: string
  /** What the evidence report needs of the record (set by the report's fact picker). */
  facts?: unknown
  /**
   * Whether `mac` is the MAC of `input` under the stream's key for this seq, when a worker thread
   * already computed it (parallel/read-segment.ts); absent: the walker computes it.
   */
  macValid?: boolean
}

/** The entry for a found record; `pick` adds what a report needs of it (given the entry's time). */
export function toEntry(found: FoundRecord, pick?: (top: Obj, time: number) => unknown): Entry {
  const i = found.integrity
  const top = expandKeys(found.record)
  const ts = top['@timestamp']
  // Members that would be undefined are left out rather than set to undefined: a worker thread
  // sends every entry as JSON, and JSON.stringify takes V8's fast path only for objects without
  // undefined members (about 3.5 -> 2 µs an entry).
  const entry: Entry = {
    stream: i.stream as string,
    seq: i.seq as number,
    mac: typeof i.mac === 'string' ? i.mac : '',
    input: '',
    time: typeof ts === 'string' ? Date.parse(ts) : Number.NaN,
    line: found.line,
    position: found.position,
    indexed: found.indexed,
  }
  if (typeof i.prev === 'string') entry.prev = i.prev
  if (typeof i.mark === 'string') entry.mark = i.mark
  if (typeof i.interval === 'number') entry.interval = i.interval
  if (i.v === 2) {
    // Only the digest is kept: the links and the epoch's MAC are over it.
    const digest = sha256Text(found.macInput ?? macInputOf(found.record, namesOfFieldsV2(i.fields)!, 2))
    entry.v2 = { link: digest.slice(0, LINK_CHARS) }
    if (entry.mac !== '') {
      entry.v2.epoch = i.epoch as number
      entry.v2.from = i.from as number
      entry.input = `2.${i.epoch}.${i.from}.${digest}`
    } else entry.input = digest
  } else entry.input = flat(macInputOf(found.record, i.fields as string[]))
  if (entry.seq === 0) entry.genesis = { alg: i.alg, key: i.key, previous: i.previous }
  const loss = lossOf(top)
  if (loss) entry.loss = loss
  const who = serviceOf(top)
  if (who.service !== undefined) entry.service = who.service
  if (who.instance !== undefined) entry.instance = who.instance
  if (pick) {
    const facts = pick(top, entry.time)
    if (facts !== undefined) entry.facts = facts
  }
  return entry
}

/**
 * The MAC input is built by concatenation (a rope of many small strings); reading a character makes
 * V8 flatten it into one compact string, which matters while entries wait to be checked.
 */
function flat(s: string): string {
  s.charCodeAt(0)
  return s
}

function lossOf(top: Obj): LossFields | undefined {
  const audit = top.audit
  if (!isPlainObject(audit)) return undefined
  const loss = expandKeys(audit).loss
  if (!isPlainObject(loss)) return undefined
  const l = expandKeys(loss)
  const out: LossFields = {}
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
  if (count(l.dropped)) out.dropped = l.dropped as number
  if (count(l.total)) out.total = l.total as number
  if (typeof l.reason === 'string') out.reason = l.reason.slice(0, 64)
  return out.dropped !== undefined || out.total !== undefined ? out : undefined
}

/** Who wrote the record (service.name, service.node.name). */
function serviceOf(top: Obj): { service?: string; instance?: string } {
  const service = top.service
  if (!isPlainObject(service)) return {}
  const s = expandKeys(service)
  const node = isPlainObject(s.node) ? expandKeys(s.node) : undefined
  return {
    service: typeof s.name === 'string' ? s.name : undefined,
    instance: node && typeof node.name === 'string' ? node.name : undefined,
  }
}
