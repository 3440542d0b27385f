/**
 * The logger's writer: the buffer bound and the shutdown deadline in front of a backend
 * (backend.ts: the sealer inline, or thread.ts: on the sealing thread).
 *
 * - An item that would take what is accepted and not yet sealed past maxBufferBytes is dropped,
 *   counted, and the count goes to the sealer before the next accepted item (a loss record).
 * - Shutdown (close(), the exit hooks) has a deadline, shutdownTimeoutMs from when it starts: at
 *   the deadline less a margin, what is still unsealed is dropped and counted, so that the loss
 *   record and the closing record (carrying the total) can still be written in the margin; at the
 *   deadline the writer stops waiting. What this guarantees is in docs/deploy.md.
 */
import type { Backend } from './backend'
import { type Item, itemChars } from './items'

export interface WriterOptions {
  backend: Backend
  maxBufferBytes: number
  shutdownTimeoutMs: number
  report: (message: string) => void
}

export interface WriterStats {
  accepted: number
  written: number
  dropped: number
  appLinesDropped: number
  healthy: boolean
  sealing: 'worker' | 'inline' | 'off'
}

export interface Writer {
  /** Takes one event; false: dropped (counted). Never throws. */
  accept(item: Item): boolean
  /**
   * Takes one line of the app's own logger (no newline in it), written in order with the records;
   * also while closing. False: dropped (buffer full; counted in appLinesDropped).
   */
  text(line: string): boolean
  /** Counts an app line that could not be written at all (after the logger ended). */
  lostText(): void
  checkpoint(): void
  /** Queues the closing record and starts the shutdown clock; events after it are dropped. */
  close(reason?: string): void
  readonly closed: boolean
  flush(): Promise<void>
  /** close(), then everything written or the deadline passed. */
  end(): Promise<void>
  /** At process exit: close() and write synchronously until the deadline. */
  endSync(reason?: string): void
  stats(): WriterStats
}

/** Time kept after dropping what is unsealed, to write the loss and closing records. */
export function expireMargin(timeoutMs: number): number {
  return Math.min(2000, Math.floor(timeoutMs / 5))
}

export function createWriter(options: WriterOptions): Writer {
  const { backend, maxBufferBytes, report } = options
  let accepted = 0
  let overflow = 0
  let overflowTotal = 0
  let overflowSince: string | undefined
  let refused = 0
  let appLinesDropped = 0
  let closed = false
  let shutdownAt = 0
  let gaveUp = false
  let ending: Promise<void> | undefined

  const deadline = () => shutdownAt + options.shutdownTimeoutMs
  const expireAt = () => deadline() - expireMargin(options.shutdownTimeoutMs)

  /** Drops counted at the buffer bound go to the sealer before whatever comes next. */
  const passOverflow = () => {
    if (overflow === 0) return
    backend.push({ kind: 'loss', count: overflow, reason: 'buffer-full', since: overflowSince! })
    overflow = 0
    overflowSince = undefined
  }

  const writer: Writer = {
    accept(item) {
      accepted++
      if (closed) {
        refused++
        return false
      }
      if (backend.used + itemChars(item) > maxBufferBytes) {
        if (overflow === 0) {
          overflowSince = new Date().toISOString()
          report('the destination is not keeping up; events were dropped (see stats().dropped)')
        }
        overflow++
        overflowTotal++
        return false
      }
      passOverflow()
      backend.push(item)
      return true
    },
    text(line) {
      if (backend.used + line.length > maxBufferBytes) {
        if (appLinesDropped++ === 0) {
          report(
            "the destination is not keeping up; the app's own log lines were dropped (see stats().appLinesDropped)",
          )
        }
        return false
      }
      backend.push({ kind: 'text', text: line })
      return true
    },
    lostText() {
      appLinesDropped++
    },
    checkpoint() {
      if (closed) return
      passOverflow()
      backend.push({ kind: 'checkpoint' })
    },
    close(reason) {
      if (closed) return
      closed = true
      shutdownAt = Date.now()
      passOverflow()
      backend.push({ kind: 'close', reason })
    },
    get closed() {
      return closed
    },
    flush: () => backend.flush(),
    end() {
      writer.close()
      ending ??= new Promise<void>((resolve) => {
        const now = Date.now()
        const expiring = setTimeout(() => backend.expire(), Math.max(0, expireAt() - now))
        const giveUp = setTimeout(
          () => {
            gaveUp = true
            report(
              `shutdown deadline (${options.shutdownTimeoutMs} ms) passed with events unwritten; they are counted in stats().dropped`,
            )
            resolve()
          },
          Math.max(0, deadline() - now),
        )
        backend.end().then(() => {
          clearTimeout(expiring)
          clearTimeout(giveUp)
          resolve()
        })
      })
      return ending
    },
    endSync(reason) {
      writer.close(reason)
      backend.flushSync(expireAt(), deadline())
    },
    stats() {
      const written = backend.written
      let dropped = overflowTotal + refused + backend.dropped
      // Whatever the writer stopped waiting for is lost with the process.
      if (gaveUp) dropped = Math.max(dropped, accepted - written)
      return {
        accepted,
        written,
        dropped,
        appLinesDropped: appLinesDropped + backend.textDropped,
        healthy: !closed && backend.healthy,
        sealing: backend.mode,
      }
    },
  }
  return writer
}
