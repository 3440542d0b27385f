import { destination as pinoDestination } from 'pino'
import type { Destination } from '../types'

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
    mkdir: typeof fd === 'string',
    append: true,
  })
  boom.on('drop', (data: string) => {
    let lines = 0
    for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) lines++
    dropped += Math.max(1, lines)
    options.report('the destination is not keeping up; events were dropped (see stats().dropped)')
  })
  boom.on('error', (err: unknown) => {
    // EPIPE, EBADF, a full disk: SonicBoom cannot recover, so stop claiming to be healthy.
    if (healthy) options.report(`destination failed (${errorName(err)}); events are being dropped`)
    healthy = false
  })
  return {
    write(line) {
      if (!healthy || ended) {
        dropped++
        return false
      }
      try {
        boom.write(line)
        return true
      } catch (err) {
        dropped++
        if (healthy) options.report(`destination write failed (${errorName(err)})`)
        healthy = false
        return false
      }
    },
    flush() {
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
      if (!healthy || ended) return
      try {
        boom.flushSync()
      } catch {
        // not ready, or the fd is gone: nothing more can be done at exit
      }
    },
    end() {
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

export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown }
    if (typeof e.code === 'string') return e.code
    if (typeof e.name === 'string') return e.name
  }
  return typeof err
}
