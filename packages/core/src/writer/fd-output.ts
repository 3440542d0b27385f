/**
 * The sealing thread's outputs (see output.ts for the interface).
 *
 * Pipes and sockets (what Kubernetes and Docker give a container's stdout) are written through a
 * libuv stream on this thread's own event loop: a full pipe is waited on with epoll and writing
 * resumes the moment the reader takes something. (SonicBoom in sync mode sleeps 100 ms whenever a
 * non-blocking pipe is full, and stdout is non-blocking as soon as anything touches
 * process.stdout: that capped the thread at a few hundred KB/s.) The stream never closes fds 0-2
 * (libuv leaves them open) and is never ended: shutting down a socketpair would end the
 * process's stdout for every writer, not just this one.
 *
 * Files, terminals and anything else are written with write(2) from this thread; a non-blocking
 * descriptor that reports EAGAIN is retried on a short timer, never slept on.
 */
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { Socket } from 'node:net'
import { dirname } from 'node:path'
import { errorName, MAX_WRITE, type Output, type OutputEvents, WINDOW } from './output'

export function fdOutput(dest: 'stdout' | 'stderr' | number | string, events: OutputEvents): Output {
  let fd: number
  let owned = false
  if (dest === 'stdout') fd = 1
  else if (dest === 'stderr') fd = 2
  else if (typeof dest === 'number') fd = dest
  else {
    mkdirSync(dirname(dest), { recursive: true })
    fd = openSync(dest, 'a')
    owned = true
  }
  const stat = fstatSync(fd)
  if (stat.isFIFO() || stat.isSocket()) return streamOutput(fd, events)
  return writeOutput(fd, owned, events)
}

/** Counters shared by both outputs: events handed over and written, per write, in order. */
function createCounters(events: OutputEvents) {
  let issued = 0
  let done = 0
  let handed = 0
  let written = 0
  let failed = false
  const waiting: { at: number; done: () => void }[] = []
  const settle = () => {
    while (waiting.length > 0 && (failed || done >= waiting[0]!.at)) waiting.shift()!.done()
  }
  return {
    issue(count: number) {
      issued++
      handed += count
    },
    complete(count: number) {
      done++
      written += count
      settle()
      events.onChange()
    },
    fail(err: unknown) {
      if (failed) return
      failed = true
      events.report(`destination failed (${errorName(err)}); events are being dropped`)
      settle()
      events.onChange()
    },
    whenWritten(cb: () => void) {
      if (failed || done >= issued) cb()
      else waiting.push({ at: issued, done: cb })
    },
    get failed() {
      return failed
    },
    get written() {
      return written
    },
    get lost() {
      return failed ? handed - written : 0
    },
    get idle() {
      return failed || done >= issued
    },
  }
}

/** An output: its own `write`, `room` and `end`, and what it reports straight from its counters. */
function outputOf(c: ReturnType<typeof createCounters>, own: Pick<Output, 'write' | 'room' | 'end'>): Output {
  const reporting = {
    whenWritten: (done: () => void) => c.whenWritten(done),
    flushSync: () => false,
    get failed() {
      return c.failed
    },
    get written() {
      return c.written
    },
    get lost() {
      return c.lost
    },
    get idle() {
      return c.idle
    },
    get healthy() {
      return !c.failed
    },
  }
  return Object.defineProperties(reporting, Object.getOwnPropertyDescriptors(own)) as unknown as Output
}

function streamOutput(fd: number, events: OutputEvents): Output {
  const c = createCounters(events)
  const socket = new Socket({ fd, readable: false, writable: true })
  socket.on('error', (err) => c.fail(err))
  socket.on('drain', () => events.onChange())
  return outputOf(c, {
    write(text, count, ascii) {
      c.issue(count)
      if (c.failed) return
      socket.write(text, ascii ? 'latin1' : 'utf8', (err) => {
        if (!err) c.complete(count)
      })
    },
    get room() {
      return !c.failed && socket.writableLength < WINDOW
    },
    end: () => new Promise<void>((resolve) => c.whenWritten(resolve)),
  })
}

/** Retry delays for a non-blocking descriptor that is full (EAGAIN), in ms (output.ts uses them too). */
export const RETRY_MS = [1, 2, 5, 10, 20, 50]

function writeOutput(fd: number, owned: boolean, events: OutputEvents): Output {
  const c = createCounters(events)
  const queue: { buf: Buffer; count: number }[] = []
  let queuedBytes = 0
  let retry = 0
  let timer: NodeJS.Timeout | undefined

  const writeSome = () => {
    timer = undefined
    while (queue.length > 0 && !c.failed) {
      const head = queue[0]!
      let n: number
      try {
        n = writeSync(fd, head.buf, 0, Math.min(head.buf.length, MAX_WRITE))
      } catch (err) {
        if ((err as { code?: string }).code === 'EAGAIN') {
          timer = setTimeout(writeSome, RETRY_MS[Math.min(retry++, RETRY_MS.length - 1)])
          return
        }
        c.fail(err)
        return
      }
      retry = 0
      queuedBytes -= n
      if (n < head.buf.length) head.buf = head.buf.subarray(n)
      else {
        queue.shift()
        c.complete(head.count)
      }
    }
  }

  return outputOf(c, {
    write(text, count, ascii) {
      c.issue(count)
      if (c.failed) return
      const encoding = ascii ? 'latin1' : 'utf8'
      let buf: Buffer
      if (queue.length === 0) {
        // Nothing waiting: the text goes to write(2) as it is (node encodes it straight into the
        // write), not through a Buffer of its own: ~130 ns a record less on the sealing thread.
        // Whatever write(2) did not take (EAGAIN, a short write) is queued as bytes.
        // Known ASCII, its byte count is its length: Buffer.byteLength of a chunk (a tree of
        // pieces, flattened to be measured) cost ~150 ns a line on top of the write.
        const bytes = ascii ? text.length : Buffer.byteLength(text, 'utf8')
        let n = 0
        try {
          n = writeSync(fd, text, null, encoding)
        } catch (err) {
          if ((err as { code?: string }).code !== 'EAGAIN') return c.fail(err)
        }
        if (n >= bytes) return c.complete(count)
        buf = Buffer.from(text, encoding).subarray(n)
      } else buf = Buffer.from(text, encoding)
      queue.push({ buf, count })
      queuedBytes += buf.length
      if (!timer) writeSome()
    },
    get room() {
      return !c.failed && queuedBytes < WINDOW
    },
    end: () =>
      new Promise<void>((resolve) =>
        c.whenWritten(() => {
          if (owned) {
            try {
              closeSync(fd)
            } catch {
              // already closed
            }
          }
          resolve()
        }),
      ),
  })
}
