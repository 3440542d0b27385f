/**
 * Work the logger must still record before it closes: HTTP requests an adapter admitted. close()
 * (and the exit hooks' asynchronous finish) first stop admitting, then wait, bounded, until the
 * admitted requests have finished and written their events, and only then write the closing record.
 * Without this a response served while the logger closes has no event (issue 14).
 */
export interface Drain {
  /** Counts one unit in flight; false once closing has begun (the adapter should refuse it). */
  enter(): boolean
  /** The unit finished (its event is written). */
  leave(): void
  /** False once closing has begun. */
  readonly open: boolean
  /**
   * Stops admitting. Resolves when nothing is in flight, or after `timeoutMs`; returns undefined when
   * nothing was in flight, so that the caller can go on in the same turn.
   */
  close(timeoutMs: number): Promise<void> | undefined
}

/** Longest close() waits for admitted requests before it closes the stream anyway. */
export const DRAIN_TIMEOUT_MS = 5000

/** Where adapters find a logger's drain (Symbol.for: the same key in the ESM and the CJS build). */
export const DRAIN: unique symbol = Symbol.for('boundary-audit.drain') as never

export function drainOf(audit: unknown): Drain | undefined {
  try {
    const d = (audit as { [DRAIN]?: Drain } | null | undefined)?.[DRAIN]
    return d !== undefined && typeof d.enter === 'function' ? d : undefined
  } catch {
    return undefined
  }
}

export function createDrain(): Drain {
  let inFlight = 0
  let open = true
  let settle: (() => void) | undefined
  let closing: Promise<void> | undefined
  return {
    enter() {
      if (!open) return false
      inFlight++
      return true
    },
    leave() {
      if (inFlight > 0) inFlight--
      if (inFlight === 0 && settle) settle()
    },
    get open() {
      return open
    },
    close(timeoutMs) {
      open = false
      if (closing === undefined && inFlight === 0) return undefined
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs)
        function done() {
          clearTimeout(timer)
          settle = undefined
          resolve()
        }
        settle = done
      })
      return closing
    },
  }
}
