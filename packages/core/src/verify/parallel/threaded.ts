/**
 * The verifier with worker threads: the input is cut into segments of whole lines
 * (segmenter.ts), worker threads do the per-record work (read-segment.ts: parse, find, canonical
 * form, facts) and the main thread takes their results in input order and walks the chains (key
 * evolution, MACs, links) as the one-thread verifier does, in the same core (core.ts).
 *
 * A worker's reading of a segment is taken only when the main extractor is idle at the segment's
 * start (no multi-line document or partial line open) and the worker's ended idle; otherwise the
 * main thread reads the segment itself, so the result is the one-thread verifier's whatever the
 * input. Small inputs never start a thread. Memory: at most IN_FLIGHT segments per thread are out
 * (`write` waits for the oldest when more are), each about SEGMENT_BYTES and its result.
 */
import { availableParallelism } from 'node:os'
import { createCore, type VerifyHooks } from '../core'
import type { VerifyOptions, VerifyReport } from '../findings'
import { createLineSplitter, MAX_LINE_BYTES } from '../lines'
import { factsOf, factsWithAccessOf } from '../report/facts'
import { BufferPool } from './buffers'
import { type FactTable, fromWire } from './entry-wire'
import { verifyWorkerFile, WorkerPool } from './pool'
import { eventPieces, type SegmentResult } from './read-segment'
import { createSegmenter } from './segmenter'

const SEGMENT_BYTES = 1024 * 1024
const IN_FLIGHT = 4
const THREADS_AFTER_BYTES = 16 * 1024 * 1024
const MAX_THREADS = 4

export interface ThreadedVerifier {
  /** Segments read by a worker thread and taken as read, and segments read on the main thread. */
  readonly segments: { adopted: number; readHere: number }
  write(chunk: Buffer | string): Promise<void>
  end(): Promise<VerifyReport>
  /** Gives up: stops the threads, removes temporary files. */
  abort(): Promise<void>
}

interface Segment {
  /** The segment's bytes; moved to the thread that reads it (then in the result's `source`). */
  bytes: Buffer
  result?: Promise<SegmentResult>
  settled: boolean
}

const TOO_LONG = 'too-long'
type Item = Segment | typeof TOO_LONG

/** Sizes the tests make small, to cut a small input into many segments. */
export interface Tuning {
  segmentBytes?: number
}

export function createThreadedVerifier(
  options: VerifyOptions = {},
  hooks: VerifyHooks = {},
  tuning: Tuning = {},
): ThreadedVerifier {
  // Keys of the streams opened so far, for threads started later.
  const keys = new Map<string, Buffer | undefined>()
  const core = createCore(options, hooks, (stream, k0) => {
    const copy = k0 ? Buffer.from(k0) : undefined
    keys.set(stream, copy)
    pool?.shareKey(stream, copy)
  })
  const extractor = core.extractor
  // Workers can pick the report's facts (a function cannot be sent to them); any other picker stays here.
  const facts = hooks.pick === factsOf ? 'facts' : hooks.pick === factsWithAccessOf ? 'access' : undefined
  // Only with factsOf: `report --rules` replays the rules over every record of the window.
  const who = facts === 'facts' ? hooks.pickFilter : undefined
  const threads = hooks.pick && !facts ? 0 : threadCount(options)
  const file = threads > 0 ? (options.workerFile ?? verifyWorkerFile()) : undefined
  const after = options.threadsAfterBytes ?? THREADS_AFTER_BYTES
  let pool: WorkerPool | undefined
  let seen = 0
  const queue: Item[] = []
  const segments = { adopted: 0, readHere: 0 }
  const buffers = new BufferPool()

  const segmenter = createSegmenter(
    {
      segment(bytes) {
        seen += bytes.length
        if (!pool && file && seen > after) {
          pool = new WorkerPool(file, threads)
          for (const [stream, k0] of keys) pool.shareKey(stream, k0)
        }
        const item: Segment = { bytes, settled: false }
        if (pool) {
          item.result = pool.read(bytes, facts, who)
          // Settled whichever way; a failure is thrown when the item's turn comes.
          item.result.then(
            () => {
              item.settled = true
            },
            () => {
              item.settled = true
            },
          )
        }
        queue.push(item)
      },
      tooLong: () => queue.push(TOO_LONG),
    },
    tuning.segmentBytes ?? SEGMENT_BYTES,
    MAX_LINE_BYTES,
    (n) => Buffer.from(buffers.take(n), 0, n),
  )

  const readHere = (bytes: Buffer) => {
    const splitter = createLineSplitter({
      line: (text) => extractor.push(text),
      tooLong: () => extractor.pushTooLong(),
    })
    splitter.push(bytes)
    splitter.end()
  }

  /** The worker's reading, if the main extractor can take it as it is. */
  const adopt = (r: SegmentResult): boolean => {
    if (!r.idle || !extractor.idle()) return false
    const bases = extractor.adopt(r)
    if (!bases) return false
    const inputs = Buffer.from(r.inputs.buffer, r.inputs.byteOffset, r.inputs.byteLength)
    let offset = 0
    let k = 0
    // The result's own table of repeated fact values, filled as its entries come in order.
    const table: FactTable = []
    for (const events of eventPieces(r))
      for (const item of events) {
        if (typeof item === 'number') {
          extractor.unreadableAt(bases.lineBase + item)
          continue
        }
        const ev = fromWire(item, table)
        if (ev.input === undefined) {
          const length = r.lengths[k++]!
          if (length >= 0) ev.input = inputs.toString('latin1', offset, offset + length)
          else ev.input = inputs.toString('utf8', offset, offset - length)
          offset += Math.abs(length)
        }
        ev.line += bases.lineBase
        ev.position += bases.positionBase
        core.entry(ev)
      }
    return true
  }

  const take = async (item: Item) => {
    if (item === TOO_LONG) {
      extractor.pushTooLong()
      return
    }
    let bytes = item.bytes
    if (item.result) {
      const r = await item.result
      bytes = Buffer.from(r.source.buffer, r.source.byteOffset, r.source.byteLength)
      const adopted = adopt(r)
      pool?.recycle(r)
      if (adopted) {
        segments.adopted++
        buffers.give(bytes.buffer as ArrayBuffer)
        return
      }
    }
    segments.readHere++
    readHere(bytes)
    buffers.give(bytes.buffer as ArrayBuffer)
  }

  /** Takes results in input order: those ready, and the oldest while too many are out. */
  const drain = async (all: boolean) => {
    const limit = threads * IN_FLIGHT
    while (queue.length > 0) {
      const head = queue[0]!
      const ready = head === TOO_LONG || !head.result || head.settled
      if (!ready && !all && queue.length <= limit) return
      queue.shift()
      await take(head)
    }
  }

  const stop = async () => {
    await pool?.close()
    for (const k of keys.values()) k?.fill(0)
    keys.clear()
  }

  return {
    segments,
    async write(chunk) {
      segmenter.push(chunk)
      await drain(false)
    },
    async end() {
      segmenter.end()
      try {
        await drain(true)
      } finally {
        await stop()
      }
      return core.finish()
    },
    async abort() {
      queue.length = 0
      await stop()
      core.dispose()
    },
  }
}

function threadCount(options: VerifyOptions): number {
  if (options.threads !== undefined) return Math.max(0, Math.min(MAX_THREADS, Math.floor(options.threads)))
  const cpus = availableParallelism()
  return cpus > 1 ? Math.min(MAX_THREADS, cpus) : 0
}
