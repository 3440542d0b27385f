import { destination as pinoDestination } from 'pino'
import type { Destination } from '../types'
import { createBatch } from './batch'

/** Where finished lines go. Never throws; failures are counted and reflected in `healthy`. */
export interface Sink {
  write(line: string): boolean
  flush(): Promise<void>
  flushSync(): void
  end(): Promise<void>
  readonly healthy: boolean
  readonly dropped: number
  /** True when the sink has its own file descriptor writes to flush at exit. */
  readonly buffered: boolean
}

export interface SinkOptions {
  sync: boolean
  maxBufferBytes: number
  /** Called once per kind of failure, so the host sees it on stderr without a flood. */
  report: (message: string) => void
}

export function createSink(dest: Destination, options: SinkOptions): Sink {
  if (typeof dest === 'object') return objectSink(dest, options)
  return boomSink(dest, options)
}

/** A caller's `{ write(line) }` (a test array, a custom transport). */
function objectSink(target: { write(line: string): unknown }, options: SinkOptions): Sink {
  let dropped = 0
  let healthy = true
  return {
    write(line) {
      try {
        target.write(line)
        healthy = true
        return true
      } catch (err) {
        dropped++
        if (healthy) options.report(`destination.write threw (${errorName(err)}); events are being dropped`)
        healthy = false
        return false
      }
    },
    flush: async () => {},
    flushSync() {},
    end: async () => {},
    get healthy() {
      return healthy
    },
    get dropped() {
      return dropped
    },
    buffered: false,
  }
}

/**
 * UTF-16 units per hand-over to SonicBoom, under the 64 KiB it may write at once. Each write is a
 * trip through libuv's thread pool that costs far more than its bytes: 48 KiB chunks instead of 12
 * took the writer from about half of the per-event CPU to a fifth (core bench). 64 KiB is also what
 * a Linux pipe holds, so a chunk in flight at exit still lands whole when the reader keeps up.
 */
const CHUNK = 48 * 1024
export const MAX_WRITE = 64 * 1024

/**
 * stdout, stderr, an fd or a file path, through pino's SonicBoom destination: the same
 * asynchronous, allocation-light writer pino uses, with a bound on what may pile up in memory.
 */
function boomSink(dest: Exclude<Destination, object>, options: SinkOptions): Sink {
  let dropped = 0
  let healthy = true
  let ended = false
  const fd = dest === 'stdout' ? 1 : dest === 'stderr' ? 2 : dest
  const boom = pinoDestination({
    dest: fd,
    sync: options.sync,
    maxLength: options.maxBufferBytes,
    // minLength 1 writes as eagerly as 0 does, but makes flush(cb) wait until the buffer is really
    // written; with 0, SonicBoom calls the callback at once and flush() would promise nothing.
    minLength: 1,
    maxWrite: MAX_WRITE,
    mkdir: typeof fd === 'string',
    append: true,
  })
  boom.on('drop', (data: string) => {
    dropped += countLines(data)
    options.report('the destination is not keeping up; events were dropped (see stats().dropped)')
  })
  boom.on('error', (err: unknown) => {
    // EPIPE, EBADF, a full disk: SonicBoom cannot recover, so stop claiming to be healthy.
    if (healthy) options.report(`destination failed (${errorName(err)}); events are being dropped`)
    healthy = false
  })

  const handOver = (chunk: string) => {
    try {
      boom.write(chunk)
    } catch (err) {
      dropped += countLines(chunk)
      if (healthy) options.report(`destination write failed (${errorName(err)})`)
      healthy = false
    }
  }

  // Lines are gathered (batch.ts) and handed to SonicBoom in line-aligned chunks of about 48 KiB.
  // SonicBoom's write() measures its current chunk on every call, which cost more than building the
  // event when it was called once per line; and a chunk still in flight when the process exits is
  // small enough to land whole (a pipe takes 64 KiB at once). Joined from an array, not `+=`: lines
  // built from pieces are rope strings, and a rope of ropes costs more in garbage collection than one copy.
  const drain = () => {
    const lines = batch.take()
    let start = 0
    let size = 0
    for (let i = 0; i < lines.length; i++) {
      size += lines[i]!.length
      if (size >= CHUNK || i === lines.length - 1) {
        handOver(i === start ? lines[i]! : lines.slice(start, i + 1).join(''))
        start = i + 1
        size = 0
      }
    }
  }
  const batch = createBatch(CHUNK, drain)

  return {
    write(line) {
      if (!healthy || ended) {
        dropped++
        return false
      }
      if (options.sync) {
        handOver(line)
        return healthy
      }
      if (batch.chars + line.length > options.maxBufferBytes) {
        dropped++
        options.report('the destination is not keeping up; events were dropped (see stats().dropped)')
        return false
      }
      batch.add(line)
      return true
    },
    flush() {
      drain()
      return new Promise<void>((resolve) => {
        if (!healthy || ended) return resolve()
        try {
          // The callback's error is SonicBoom's fsync after the drain, which pipes, terminals and
          // /dev/null refuse (EINVAL): the data is written by then. Real write errors arrive as 'error'.
          boom.flush(() => resolve())
        } catch {
          // SonicBoom throws if it is not ready yet (pino #2326); wait for it once.
          boom.once('ready', () => boom.flush(() => resolve()))
        }
      })
    },
    flushSync() {
      drain()
      if (!healthy || ended) return
      try {
        boom.flushSync()
      } catch {
        // not ready, or the fd is gone: nothing more can be done at exit
      }
    },
    end() {
      drain()
      return new Promise<void>((resolve) => {
        if (ended) return resolve()
        ended = true
        if (!healthy) {
          boom.destroy()
          return resolve()
        }
        boom.once('close', () => resolve())
        boom.once('error', () => resolve())
        try {
          // Flush first: end() alone can lose a write still in flight on a slow pipe.
          boom.flush(() => boom.end())
        } catch {
          boom.end()
        }
      })
    },
    get healthy() {
      return healthy && !ended
    },
    get dropped() {
      return dropped
    },
    buffered: true,
  }
}

function countLines(data: string): number {
  let lines = 0
  for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) lines++
  return Math.max(1, lines)
}

export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown }
    if (typeof e.code === 'string') return e.code
    if (typeof e.name === 'string') return e.name
  }
  return typeof err
}
