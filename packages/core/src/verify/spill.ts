/**
 * Records that cannot be walked as they come (a shuffled stream, copies delivered long after the
 * original) are kept here, sorted by stream, seq and input position. Past a memory budget they are
 * written to a temporary directory as sorted runs and merged back at the end (an external merge
 * sort), so memory stays bounded whatever the input size. The directory is removed afterwards.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import type { Entry } from './entry'
import { compareEntries, MinHeap } from './heap'

/** Bytes of entries held in memory before a run is written. */
export const SPILL_BUDGET_BYTES = 96 * 1024 * 1024
const WRITE_CHUNK = 1024 * 1024
const READ_CHUNK = 256 * 1024

export class LateStore {
  private mem: Entry[] = []
  private bytes = 0
  private runs: string[] = []
  private dir: string | undefined
  count = 0

  constructor(
    private readonly tempDir: string = tmpdir(),
    private readonly budget: number = SPILL_BUDGET_BYTES,
  ) {}

  add(e: Entry): void {
    this.mem.push(e)
    this.count++
    this.bytes += 2 * e.input.length + 256
    if (this.bytes > this.budget) this.spill()
  }

  /** Every entry once, sorted by stream, seq, position. */
  *sorted(): Generator<Entry> {
    if (this.runs.length === 0) {
      const mem = this.mem.sort(compareEntries)
      this.mem = []
      this.bytes = 0
      yield* mem
      return
    }
    if (this.mem.length > 0) this.spill()
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
    this.mem = []
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
    this.dir = undefined
    this.runs = []
  }

  private spill(): void {
    this.dir ??= mkdtempSync(join(this.tempDir, 'boundary-audit-verify-'))
    const file = join(this.dir, `run-${this.runs.length}.ndjson`)
    const fd = openSync(file, 'w', 0o600)
    try {
      let chunk = ''
      for (const e of this.mem.sort(compareEntries)) {
        chunk += `${JSON.stringify(e)}\n`
        if (chunk.length >= WRITE_CHUNK) {
          writeSync(fd, chunk)
          chunk = ''
        }
      }
      if (chunk) writeSync(fd, chunk)
    } finally {
      closeSync(fd)
    }
    this.runs.push(file)
    this.mem = []
    this.bytes = 0
  }
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
    // JSON has no NaN: a record without a readable time comes back as null.
    if (entry.time === null) entry.time = Number.NaN
    this.current = entry
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
    const text = this.rest + this.decoder.write(this.buf.subarray(0, n))
    const parts = text.split('\n')
    this.rest = parts.pop()!
    this.lines = parts
    this.next = 0
    return true
  }
}
