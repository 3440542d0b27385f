/**
 * The synchronous write at process exit for SonicBoom outputs (output.ts), in place of SonicBoom's
 * own flushSync.
 *
 * SonicBoom's flushSync sleeps 100 ms (its BUSY_WRITE_TIMEOUT) every time a non-blocking pipe is
 * full, however soon the reader empties it. A pipe holds 64 KiB, so a reader that keeps up still
 * costs 100 ms per 64 KiB: 5,000 events of 600 bytes took 4.4 s to leave at process.exit() (0.4 s
 * of CPU), and within Kubernetes' 30 s grace period no more than about 20 MB could ever leave.
 * Here a full pipe is retried after 1 ms, then up to 16 ms, as the sealing thread's own writer does
 * (fd-output.ts), until the deadline.
 *
 * This takes SonicBoom's unwritten chunks (`_writingBuf`, `_bufs`, `_len` of sonic-boom 4 in its
 * string content mode, what output.ts creates; a chunk is a string, or a Buffer once partly
 * written, as SonicBoom itself keeps it) and gives back, at the deadline, what it could not write,
 * so that a later call goes on from there. The exit tests fail if a sonic-boom release changes
 * these fields.
 */
import { fsyncSync, writeSync } from 'node:fs'

/** The fields of a SonicBoom (4.x, utf8 content mode) that hold what is not yet written. */
interface BoomInternals {
  fd: number
  minLength: number
  _writing: boolean
  _writingBuf: string | Buffer
  _bufs: (string | Buffer)[]
  _len: number
}

/** Waits after EAGAIN, in ms: the reader usually empties a pipe within a millisecond or two. */
const RETRY_MS = [1, 1, 2, 4, 8, 16]

/**
 * Writes every chunk the SonicBoom holds to its descriptor before `deadline` (epoch ms), calling
 * `wrote(bytes)` after each write. True if all was written; false at the deadline, what is left
 * staying with the SonicBoom. Any error but EAGAIN (EPIPE: the reader is gone) is thrown.
 */
export function drainBoomSync(boom: object, deadline: number, wrote: (bytes: number) => void): boolean {
  const b = boom as BoomInternals
  // From here on the process is ending and only this writes: SonicBoom keeps what it is given (it
  // starts a write only once it holds minLength characters). An asynchronous write it started now
  // would go to libuv's thread pool, whose completion this synchronous exit can never see.
  b.minLength = Number.POSITIVE_INFINITY
  if (typeof b.fd !== 'number' || b.fd < 0 || !Array.isArray(b._bufs)) return false
  // A chunk SonicBoom has taken but not written (`_writing` cleared by the caller when its write is
  // known not to be in flight) goes first.
  const chunks = !b._writing && b._writingBuf.length > 0 ? [b._writingBuf, ...b._bufs] : b._bufs
  if (!b._writing) b._writingBuf = ''
  b._bufs = []
  b._len = 0
  const pause = new Int32Array(new SharedArrayBuffer(4))
  let retry = 0
  for (let i = 0; i < chunks.length; i++) {
    let buf = typeof chunks[i] === 'string' ? Buffer.from(chunks[i] as string, 'utf8') : (chunks[i] as Buffer)
    while (buf.length > 0) {
      try {
        const n = writeSync(b.fd, buf)
        wrote(n)
        buf = buf.subarray(n)
        retry = 0
      } catch (err) {
        const code = (err as { code?: string }).code
        const wait = RETRY_MS[Math.min(retry++, RETRY_MS.length - 1)]!
        if ((code !== 'EAGAIN' && code !== 'EBUSY') || Date.now() + wait > deadline) {
          // Given back in order, the part-written chunk first (as a Buffer: it may end mid-character).
          b._bufs = [buf, ...chunks.slice(i + 1)]
          b._len = b._bufs.reduce((sum, c) => sum + Buffer.byteLength(c), 0)
          if (code !== 'EAGAIN' && code !== 'EBUSY') throw err
          return false
        }
        Atomics.wait(pause, 0, 0, wait)
      }
    }
  }
  try {
    // As SonicBoom's flushSync does: a file's lines reach the disk before the process ends.
    fsyncSync(b.fd)
  } catch {
    // a pipe or a terminal has nothing to sync
  }
  return true
}
