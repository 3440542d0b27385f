/**
 * Records that cannot be walked as they come (a shuffled stream, copies delivered long after the
 * original) are kept here and handed back sorted by stream, seq and input position. They are held
 * as JSON text in one reused buffer (outside the JavaScript heap, so that holding them leaves no
 * garbage for the collector to let pile up); when it is full, its records are sorted and written to
 * a temporary directory as a run, and the runs are merged at the end (an external merge sort).
 * Memory stays bounded whatever the input size; the directory is removed afterwards.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import type { Entry } from './entry'
import { compareEntries, MinHeap } from './heap'

/** Bytes of records held before a run is written. */
export const SPILL_BUDGET_BYTES = 32 * 1024 * 1024
const WRITE_CHUNK = 1024 * 1024
const READ_CHUNK = 64 * 1024

/** Where each held record is in the buffer, and what it sorts by. */
interface Slots {
  stream: Int32Array
  seq: Float64Array
  position: Float64Array
  offset: Int32Array
  length: Int32Array
}

function newSlots(n: number): Slots {
  return {
    stream: new Int32Array(n),
    seq: new Float64Array(n),
    position: new Float64Array(n),
    offset: new Int32Array(n),
    length: new Int32Array(n),
  }
}

export class LateStore {
  private readonly buf: Buffer
  private used = 0
  private slots: Slots
  private held = 0
  private readonly streamIds = new Map<string, number>()
  private readonly streamNames: string[] = []
  private runs: string[] = []
  private dir: string | undefined
  count = 0

  constructor(
    private readonly tempDir: string = tmpdir(),
    budget: number = SPILL_BUDGET_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, budget))
    this.slots = newSlots(1024)
  }

  add(e: Entry): void {
    this.count++
    const text = JSON.stringify(e)
    const bytes = Buffer.byteLength(text)
    if (this.used + bytes > this.buf.length) this.spill()
    if (bytes > this.buf.length) {
      this.writeRun([text])
      return
    }
    if (this.held === this.slots.seq.length) this.growSlots()
    const i = this.held++
    const s = this.slots
    s.stream[i] = this.streamIndex(e.stream)
    s.seq[i] = e.seq
    s.position[i] = e.position
    s.offset[i] = this.used
    s.length[i] = bytes
    this.buf.write(text, this.used)
    this.used += bytes
  }

  /** Every entry once, sorted by stream, seq, position. */
  *sorted(): Generator<Entry> {
    if (this.runs.length === 0) {
      for (const i of this.order()) yield this.entryAt(i)
      this.held = 0
      this.used = 0
      return
    }
    if (this.held > 0) this.spill()
    const readers = this.runs.map((file) => new RunReader(file))
    const heap = new MinHeap<RunReader>((a, b) => compareEntries(a.current!, b.current!) < 0)
    for (const r of readers) if (r.advance()) heap.push(r)
    while (heap.size > 0) {
      const r = heap.pop()!
      yield r.current!
      if (r.advance()) heap.push(r)
    }
  }

  /** Removes the temporary directory (idempotent). */
  dispose(): void {
    this.held = 0
    this.used = 0
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
    this.dir = undefined
    this.runs = []
  }

  private streamIndex(stream: string): number {
    let i = this.streamIds.get(stream)
    if (i === undefined) {
      i = this.streamNames.length
      this.streamIds.set(stream, i)
      this.streamNames.push(stream)
    }
    return i
  }

  private growSlots(): void {
    const old = this.slots
    const next = newSlots(old.seq.length * 2)
    next.stream.set(old.stream)
    next.seq.set(old.seq)
    next.position.set(old.position)
    next.offset.set(old.offset)
    next.length.set(old.length)
    this.slots = next
  }

  /** Indexes of the held records in sorted order. */
  private order(): Int32Array {
    const rank = new Int32Array(this.streamNames.length)
    const names = this.streamNames.map((name, i) => [name, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1))
    names.forEach(([, i], r) => {
      rank[i] = r
    })
    const s = this.slots
    const idx = new Int32Array(this.held)
    for (let i = 0; i < idx.length; i++) idx[i] = i
    return idx.sort(
      (a, b) =>
        rank[s.stream[a]!]! - rank[s.stream[b]!]! || s.seq[a]! - s.seq[b]! || s.position[a]! - s.position[b]!,
    )
  }

  private entryAt(i: number): Entry {
    const off = this.slots.offset[i]!
    return reviveTime(JSON.parse(this.buf.toString('utf8', off, off + this.slots.length[i]!)) as Entry)
  }

  /** Writes the held records, sorted, as a run. */
  private spill(): void {
    if (this.held === 0) return
    const file = this.newRunFile()
    const fd = openSync(file, 'w', 0o600)
    try {
      const out = Buffer.allocUnsafe(WRITE_CHUNK)
      let n = 0
      for (const i of this.order()) {
        const off = this.slots.offset[i]!
        const len = this.slots.length[i]!
        if (n + len + 1 > out.length) {
          writeSync(fd, out, 0, n)
          n = 0
        }
        if (len + 1 > out.length) {
          writeSync(fd, this.buf, off, len)
          writeSync(fd, '\n')
          continue
        }
        this.buf.copy(out, n, off, off + len)
        n += len
        out[n++] = 10
      }
      if (n > 0) writeSync(fd, out, 0, n)
    } finally {
      closeSync(fd)
    }
    this.runs.push(file)
    this.held = 0
    this.used = 0
  }

  /** A run of one record too large for the buffer. */
  private writeRun(texts: string[]): void {
    const file = this.newRunFile()
    const fd = openSync(file, 'w', 0o600)
    try {
      for (const t of texts) writeSync(fd, `${t}\n`)
    } finally {
      closeSync(fd)
    }
    this.runs.push(file)
  }

  private newRunFile(): string {
    this.dir ??= mkdtempSync(join(this.tempDir, 'boundary-audit-verify-'))
    return join(this.dir, `run-${this.runs.length}.ndjson`)
  }
}

/** JSON has no NaN: a record without a readable time comes back as null. */
function reviveTime(e: Entry): Entry {
  if (e.time === null) e.time = Number.NaN
  return e
}

/** Reads a run back one entry at a time. */
class RunReader {
  current: Entry | undefined
  private fd: number | undefined
  private buf = Buffer.alloc(READ_CHUNK)
  private decoder = new StringDecoder('utf8')
  private rest = ''
  private lines: string[] = []
  private next = 0

  constructor(file: string) {
    this.fd = openSync(file, 'r')
  }

  advance(): boolean {
    while (this.next >= this.lines.length) {
      if (!this.fill()) {
        this.current = undefined
        return false
      }
    }
    const entry = JSON.parse(this.lines[this.next]!) as Entry
    this.lines[this.next++] = ''
    this.current = reviveTime(entry)
    return true
  }

  private fill(): boolean {
    if (this.fd === undefined) return false
    const n = readSync(this.fd, this.buf, 0, this.buf.length, null)
    if (n === 0) {
      closeSync(this.fd)
      this.fd = undefined
      if (this.rest) {
        this.lines = [this.rest]
        this.rest = ''
        this.next = 0
        return true
      }
      return false
    }
    const parts = (this.rest + this.decoder.write(this.buf.subarray(0, n))).split('\n')
    this.rest = parts.pop()!
    this.lines = parts
    this.next = 0
    return true
  }
}
