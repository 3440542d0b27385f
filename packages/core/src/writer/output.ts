/**
 * Where sealed lines go, on the logger's own thread: SonicBoom (pino's writer) for stdout, stderr,
 * fds and files; a caller's `{ write(line) }`; or nowhere (OpenTelemetry only). The sealing thread
 * has its own outputs (fd-output.ts).
 *
 * Every output tells the sealer (sealer.ts) two things: whether it has room (what it holds unwritten
 * is under WINDOW, so the sealer may seal more), and how many events it really handed to the OS.
 */
import SonicBoom from 'sonic-boom'
import type { Destination } from '../types'
import { drainBoomSync } from './boom-drain'
import { RETRY_MS } from './fd-output'

export interface Output {
  /**
   * Hands over whole lines (each ending in '\n'); `events` of them are events, not chain records.
   * `ascii`: the caller knows every character of `text` is ASCII, so its UTF-8 bytes are its
   * characters, one each: an output may write it as latin1 and count it without measuring it.
   */
  write(text: string, events: number, ascii?: boolean): void
  /** What is handed over and not yet written is small enough to seal more. */
  readonly room: boolean
  /** `done` runs once everything handed over so far is written, or the output failed. */
  whenWritten(done: () => void): void
  /** Writes what it holds before returning, giving up at `deadline` (epoch ms). True: all written. */
  flushSync(deadline: number): boolean
  /** Closes what the output opened itself (never the process's stdout or stderr). */
  end(): Promise<void>
  /** The destination is gone (EPIPE, EBADF, a full disk): nothing more will be written. */
  readonly failed: boolean
  /** Events written (handed to the operating system). */
  readonly written: number
  /** Events handed over and lost: the destination failed, or a caller's write threw. */
  readonly lost: number
  /** Nothing handed over is still waiting to be written (or the output failed). */
  readonly idle: boolean
  /** The last write went through (a caller's destination may recover; the others fail for good). */
  readonly healthy: boolean
}

export interface OutputEvents {
  /** Room opened, lines were written, or the output failed: the sealer may go on. */
  onChange: () => void
  /** Once per kind of failure, for stderr. */
  report: (message: string) => void
}

/**
 * Most characters handed over and not yet written. Small on purpose: only unsealed items can be
 * dropped cleanly at the deadline; a pipe holds 64 KiB, a few of its fills keep the writer busy.
 */
export const WINDOW = 256 * 1024
/** At process exit, how long to let an asynchronous write already in flight land (see flushSync). */
const IN_FLIGHT_GRACE_MS = 250
/** Bytes per write(2); 64 KiB is what a Linux pipe takes at once. */
export const MAX_WRITE = 64 * 1024

/** Counts written events per chunk, in order, from byte counts (SonicBoom reports bytes). */
function createProgress() {
  const chunks: { bytes: number; events: number }[] = []
  let handed = 0
  let handedBytes = 0
  let writtenBytes = 0
  let written = 0
  const waiting: { at: number; done: () => void }[] = []
  const settle = (all: boolean) => {
    while (waiting.length > 0 && (all || writtenBytes >= waiting[0]!.at)) waiting.shift()!.done()
  }
  return {
    get handed() {
      return handed
    },
    get written() {
      return written
    },
    get outstanding() {
      return handedBytes - writtenBytes
    },
    add(bytes: number, events: number) {
      handed += events
      handedBytes += bytes
      chunks.push({ bytes, events })
    },
    wrote(n: number) {
      writtenBytes += n
      while (n > 0 && chunks.length > 0) {
        const c = chunks[0]!
        if (n >= c.bytes) {
          n -= c.bytes
          written += c.events
          chunks.shift()
        } else {
          c.bytes -= n
          n = 0
        }
      }
      settle(false)
    },
    whenWritten(done: () => void, failed: boolean) {
      if (failed || writtenBytes >= handedBytes) done()
      else waiting.push({ at: handedBytes, done })
    },
    fail() {
      settle(true)
    },
  }
}

/**
 * stdout, stderr, an fd or a file path through SonicBoom, writing asynchronously (or `sync`).
 * SonicBoom itself, not `pino.destination()`: that wrapper registers its own exit hook (a flushSync
 * at exit outside this output's deadline; exit.ts already finishes at exit) and turns EPIPE into
 * silent no-ops, where this output wants the 'error' to count and report the failure.
 */
export function boomOutput(dest: Exclude<Destination, object>, sync: boolean, events: OutputEvents): Output {
  const fd = dest === 'stdout' ? 1 : dest === 'stderr' ? 2 : dest
  const progress = createProgress()
  let failed = false
  const boom = new SonicBoom({
    dest: fd,
    sync,
    minLength: 0,
    maxWrite: MAX_WRITE,
    mkdir: typeof fd === 'string',
    append: true,
    // A full non-blocking pipe (EAGAIN): SonicBoom would wait 100 ms before it tries again, however
    // soon the reader empties the pipe (a pipe holds 64 KiB: at most 640 KiB/s under a reader that
    // pauses). Told not to retry, it keeps the chunk, stops writing and emits the error, and
    // retryFull below tries again after 1 ms, then up to 50 ms, as the sealing thread's writer does.
    retryEAGAIN: () => false,
  })
  let retry = 0
  const retryFull = () => {
    // An empty write starts SonicBoom's next write: the chunk it kept comes first.
    const again = () => !failed && boom.write('')
    setTimeout(again, RETRY_MS[Math.min(retry++, RETRY_MS.length - 1)])
  }
  const full = (err: NodeJS.ErrnoException) => err.code === 'EAGAIN' || err.code === 'EBUSY'
  /**
   * Before writing synchronously at exit: the drain skips the chunk SonicBoom considers in flight
   * (`_writing`), being written on libuv's thread pool, whose completion can no longer be seen.
   * It is given a moment to land, as it does as soon as the reader takes it, rather than
   * interleave with it on the pipe; it is then counted as written, its 'write' event being one
   * this exit never sees: an assumption, that the sealing thread's writer, which the exit waits
   * for, does not need. (A chunk that met a full pipe is not in flight: SonicBoom keeps it and
   * the drain writes it first.)
   */
  let settled = false
  const settleInFlight = (deadline: number) => {
    const b = boom as unknown as { _writing?: boolean; _writingBuf: string | Buffer }
    // Once: the exit's flush comes back here after each batch it seals, and no write starts after
    // the first (drainBoomSync), so the one in flight then is the only one there can be.
    if (settled || !b._writing) return
    settled = true
    const wait = new Int32Array(new SharedArrayBuffer(4))
    Atomics.wait(wait, 0, 0, Math.max(0, Math.min(IN_FLIGHT_GRACE_MS, deadline - Date.now())))
    progress.wrote(Buffer.byteLength(b._writingBuf))
  }
  const fail = (err: unknown) => {
    if (failed) return
    failed = true
    events.report(`destination failed (${errorName(err)}); events are being dropped`)
    progress.fail()
    events.onChange()
  }
  boom.on('write', (n: number) => {
    retry = 0
    progress.wrote(n)
    events.onChange()
  })
  boom.on('error', (err: NodeJS.ErrnoException) => (full(err) ? retryFull() : fail(err)))
  return {
    write(text, count) {
      if (failed) {
        progress.add(0, count)
        return
      }
      progress.add(Buffer.byteLength(text, 'utf8'), count)
      try {
        boom.write(text)
      } catch (err) {
        fail(err)
      }
    },
    get room() {
      return !failed && progress.outstanding < WINDOW
    },
    whenWritten(done) {
      progress.whenWritten(done, failed)
    },
    flushSync(deadline) {
      if (failed) return false
      if (progress.outstanding === 0) return true
      settleInFlight(deadline)
      try {
        // Not SonicBoom's flushSync, which sleeps 100 ms at every full pipe (boom-drain.ts).
        if (!drainBoomSync(boom, deadline, (n) => progress.wrote(n))) return false
      } catch (err) {
        fail(err)
        return false
      }
      return true
    },
    end() {
      return new Promise<void>((resolve) => {
        if (failed) {
          boom.destroy()
          return resolve()
        }
        boom.once('close', () => resolve())
        // A full pipe is not the end: SonicBoom writes the rest once retryFull starts it again.
        const onError = (err: NodeJS.ErrnoException) => {
          if (full(err)) return
          boom.off('error', onError)
          resolve()
        }
        boom.on('error', onError)
        try {
          boom.end()
        } catch {
          resolve()
        }
      })
    },
    get failed() {
      return failed
    },
    get written() {
      return progress.written
    },
    get lost() {
      return failed ? progress.handed - progress.written : 0
    },
    get idle() {
      return failed || progress.outstanding === 0
    },
    get healthy() {
      return !failed
    },
  }
}

/** A caller's `{ write(line) }` (a test array, a custom transport): one call per line. */
export function objectOutput(target: { write(line: string): unknown }, events: OutputEvents): Output {
  let written = 0
  let lost = 0
  let healthy = true
  return {
    write(text, count) {
      let from = 0
      let ok = 0
      while (from < text.length) {
        const to = text.indexOf('\n', from) + 1
        try {
          target.write(text.slice(from, to))
          ok++
          healthy = true
        } catch (err) {
          if (healthy) events.report(`destination.write threw (${errorName(err)}); events are being dropped`)
          healthy = false
          lost++
        }
        from = to
      }
      // Chain records are among the lines but not among the events: count events, not lines.
      written += Math.min(count, ok)
    },
    room: true,
    whenWritten: (done) => done(),
    flushSync: () => true,
    end: async () => {},
    failed: false,
    get written() {
      return written
    },
    get lost() {
      return lost
    },
    idle: true,
    get healthy() {
      return healthy
    },
  }
}

/** No line output (`destination: false`, OpenTelemetry only): every line counts as written. */
export function nullOutput(events: OutputEvents): Output {
  return objectOutput({ write() {} }, events)
}

export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown }
    if (typeof e.code === 'string') return e.code
    if (typeof e.name === 'string') return e.name
  }
  return typeof err
}
