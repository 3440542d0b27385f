/**
 * What a worker thread does with one segment of whole lines: the per-record work of verification
 * (JSON.parse, finding the records, the canonical MAC input, the report's facts, and the MAC), with
 * a fresh extractor, as if the segment were the start of the input. The main thread
 * (threaded.ts) takes this reading only when its own extractor is idle at the segment's start and
 * this one ended idle (see Extractor.adopt), and walks the chains in order itself.
 *
 * MACs (chain v1, one key per record): once the main thread has opened a stream's genesis it sends
 * k[0] (StreamKeys); the worker derives k[seq] forward as the seqs it meets grow and records the
 * verdict on the entry (`macValid`). A record whose key it does not have (stream not opened yet, or
 * a seq below one it has passed) is left to the main thread, which then computes the MAC itself.
 */
import { createMacOf, nextKey } from '../../integrity/chain'
import { type Entry, toEntry } from '../entry'
import { type AdoptedCounts, createExtractor } from '../extract/extractor'
import { createLineSplitter } from '../lines'
import { factsOf, factsWithAccessOf, type RecordFacts } from '../report/facts'
import { byWhoOf, type WhoFilter } from '../report/match'
import { BufferPool } from './buffers'
import { type FactTable, toWire } from './entry-wire'

export interface SegmentJob {
  id: number
  /** The segment, at the start of a buffer of its own (moved here, and back in the result). */
  bytes: Uint8Array
  /** Result buffers the main thread is done with, for this thread to use again. */
  recycle?: ArrayBuffer[]
  /** Pick the evidence report's facts of every record (report/facts.ts), with the monitor's view. */
  facts?: 'facts' | 'access'
  /** With `facts`: the report's filters; the records none matches are sent with their time only. */
  who?: WhoFilter
}

/** k[0] of a stream whose genesis the main thread opened (null: unkeyed chain). */
export interface KeyMessage {
  stream: string
  key: Uint8Array | null
}

export interface SegmentResult extends AdoptedCounts {
  id: number
  /** The job's bytes, moved back (the main thread reads them itself when it cannot adopt this). */
  source: Uint8Array
  /** Which thread read it (set by the pool). */
  thread?: number
  /** The extractor ended idle: the reading holds whatever the main thread would have read. */
  idle: boolean
  /**
   * UTF-8 JSON texts separated by commas, in the order the extractor met them: an entry
   * (entry-wire.ts: an array; segment-relative line and position; format 1 without `input`) or a
   * number (an unreadable line, segment-relative). Bytes, not objects or strings: written as each record is read, they leave
   * nothing on this thread's heap to outlive the record, and they are moved to the main thread
   * rather than copied. Every EVENTS_PIECE bytes or so the separator is a newline instead (JSON
   * texts hold none): the main thread parses piece by piece (see eventPieces).
   */
  events: Uint8Array
  /** `events` is ASCII (decoded as latin1). */
  eventsAscii: boolean
  /**
   * The MAC inputs (UTF-8) of the entries that come without one (format 1), one after the other;
   * `lengths` (bytes) cuts them apart, negative for an input that is not ASCII.
   */
  inputs: Uint8Array
  lengths: Int32Array
}

/**
 * A byte buffer that grows as it is written, taken from the pool at the first write: a result's
 * `inputs` stay empty for chain format 2, and a buffer of a segment's size for each result in
 * flight was about 10 MB of RSS for nothing.
 */
class Bytes {
  private buf: Buffer | undefined
  used = 0
  constructor(
    private readonly pool: BufferPool,
    private readonly size: number,
  ) {}
  write(text: string): number {
    const max = text.length * 3
    if (!this.buf) this.buf = Buffer.from(this.pool.take(Math.max(1024, this.size, max)))
    else if (this.used + max > this.buf.length) {
      const bigger = Buffer.from(this.pool.take(Math.max(this.used + max, this.buf.length * 2)))
      bigger.set(this.buf.subarray(0, this.used))
      this.pool.give(this.buf.buffer as ArrayBuffer)
      this.buf = bigger
    }
    const n = this.buf.write(text, this.used)
    this.used += n
    return n
  }
  /** The bytes written, in a buffer of their own (to be transferred). */
  take(): Uint8Array {
    return this.buf ? new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.used) : new Uint8Array(0)
  }
  /** Back to the pool, unsent. */
  release(): void {
    if (this.buf) this.pool.give(this.buf.buffer as ArrayBuffer)
    this.buf = undefined
  }
}

/** A worker's state: per stream, the key for `seq` (undefined: unkeyed chain, SHA-256); its buffers. */
export class StreamKeys {
  readonly byStream = new Map<string, { key: Buffer | undefined; seq: number }>()
  readonly mac = createMacOf()
  readonly buffers = new BufferPool()
}

/**
 * Bytes of events the main thread decodes and parses at once. Below V8's large-object size (128
 * KiB), the piece's strings die in the young generation; a whole segment's (about 1 MB) went to the
 * large-object space, old-generation garbage that the report's heap grew with until a full GC.
 */
export const EVENTS_PIECE = 32 * 1024

/** The events of a result, a piece at a time (see SegmentResult.events): wire entries and numbers. */
export function* eventPieces(r: SegmentResult): Generator<Array<unknown[] | number>> {
  const bytes = Buffer.from(r.events.buffer, r.events.byteOffset, r.events.byteLength)
  const encoding = r.eventsAscii ? 'latin1' : 'utf8'
  let start = 0
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start)
    const end = nl === -1 ? bytes.length : nl
    yield JSON.parse(`[${bytes.toString(encoding, start, end)}]`) as Array<unknown[] | number>
    start = end + 1
  }
}

/** Keys a worker derives at most to reach a record's seq. */
const MAX_KEY_STEPS = 1 << 20

/** Records the MAC verdict when the key for the entry's seq is at hand. */
function checkMac(keys: StreamKeys, e: Entry, version: unknown): void {
  if (version !== 1) return
  const k = keys.byStream.get(e.stream)
  // A seq far ahead (a forged one, say) is left to the main thread rather than derived to here.
  if (!k || e.seq < k.seq || e.seq - k.seq > MAX_KEY_STEPS) return
  if (k.key) {
    while (k.seq < e.seq) {
      const next = nextKey(k.key)
      k.key.fill(0)
      k.key = next
      k.seq++
    }
  } else k.seq = e.seq
  e.macValid = keys.mac(k.key, e.input) === e.mac
}

export function readSegment(job: SegmentJob, keys: StreamKeys = new StreamKeys()): SegmentResult {
  const size = job.bytes.byteLength
  for (const b of job.recycle ?? []) keys.buffers.give(b)
  // Entries take about half their lines' bytes, two thirds with the report's facts: room for that
  // from the start (growing copies the buffer).
  const events = new Bytes(keys.buffers, job.facts ? size : size >> 1)
  const inputs = new Bytes(keys.buffers, size)
  let lengths = new Int32Array(1024)
  let records = 0
  /** Entries whose input is in `inputs`. */
  let cut = 0
  let ascii = true
  let pieceStart = 0
  const event = (json: string) => {
    if (events.used - pieceStart >= EVENTS_PIECE) {
      events.write('\n')
      pieceStart = events.used
    } else if (events.used > 0) events.write(',')
    if (events.write(json) !== json.length) ascii = false
  }
  const pick = job.facts === 'access' ? factsWithAccessOf : job.facts === 'facts' ? factsOf : undefined
  const byWho = pick && job.who ? byWhoOf(job.who) : undefined
  // The segment's table of repeated fact values (entry-wire.ts): the main thread lists them again
  // as it parses this result's entries in order.
  const table: FactTable = []
  const extractor = createExtractor(
    (found) => {
      const entry = toEntry(found, pick)
      checkMac(keys, entry, found.integrity.v)
      records++
      const timeOnly = byWho !== undefined && !byWho(entry.facts as RecordFacts)
      if (entry.v2) {
        // Format 2: the input is a digest (base64url, digits): it goes in the JSON, one string less
        // for the main thread to cut out of `inputs`.
        event(JSON.stringify(toWire(entry, entry.input, timeOnly, table)))
        return
      }
      if (cut === lengths.length) {
        const longer = new Int32Array(lengths.length * 2)
        longer.set(lengths)
        lengths = longer
      }
      // Negative: not ASCII (the main thread decodes ASCII as latin1, a plain copy).
      const n = inputs.write(entry.input)
      lengths[cut++] = n === entry.input.length ? n : -n
      event(JSON.stringify(toWire(entry, undefined, timeOnly, table)))
    },
    // The stand-ins of fastRecord hold what toEntry and factsOf read, not what the monitor's view reads.
    { onUnreadable: (line) => event(String(line)), fast: job.facts !== 'access' },
  )
  const splitter = createLineSplitter({
    line: (text) => extractor.push(text),
    tooLong: () => extractor.pushTooLong(),
  })
  splitter.push(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength))
  splitter.end()
  const idle = extractor.idle()
  const s = extractor.stats
  if (!idle) {
    events.release()
    inputs.release()
  }
  // Not idle: the main thread reads the segment again, so the entries are not even sent.
  return {
    id: job.id,
    source: job.bytes,
    idle,
    lines: s.lines,
    records,
    blank: s.blank,
    skipped: s.skipped,
    unparsable: s.unparsable,
    replayed: extractor.replayed,
    events: idle ? events.take() : new Uint8Array(0),
    eventsAscii: ascii,
    inputs: idle ? inputs.take() : new Uint8Array(0),
    lengths: idle ? lengths.subarray(0, cut) : new Int32Array(0),
  }
}
