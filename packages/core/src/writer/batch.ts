/**
 * Texts waiting to be handed on together: thread.ts gathers items for the sealing thread in one.
 *
 * Why batch by time: in a server each turn of the event loop logs one or two events, and every
 * hand-over has a fixed cost far above a line's (a trip through libuv's thread pool, a wake-up of
 * the sealing thread): handing over once per turn cost more CPU than building the events. A few
 * milliseconds gather dozens of texts per hand-over. A full batch goes at once: texts held longer
 * would be copied around by the garbage collector (a burst of thousands of events in one turn
 * doubled the cost per line). The timer is not unref'd, so a process that goes idle still hands
 * its texts over before it exits; flush(), close() and the exit hooks call `take` directly.
 */

/** How long a text may wait for others (unless the batch fills first). */
export const BATCH_DELAY_MS = 10

export interface Batch {
  /** Characters waiting. */
  readonly chars: number
  /** Adds a text; `ready` runs now if the batch is full, else within BATCH_DELAY_MS. */
  add(text: string): void
  /** The waiting texts, in order, and an empty batch. */
  take(): string[]
}

/** A batch that calls `ready` (which should `take()`) once it holds `fullAt` characters or has waited. */
export function createBatch(fullAt: number, ready: () => void): Batch {
  let texts: string[] = []
  let chars = 0
  let scheduled = false
  const onTimer = () => {
    scheduled = false
    ready()
  }
  return {
    get chars() {
      return chars
    },
    add(text) {
      texts.push(text)
      chars += text.length
      if (chars >= fullAt) ready()
      else if (!scheduled) {
        scheduled = true
        setTimeout(onTimer, BATCH_DELAY_MS)
      }
    },
    take() {
      const out = texts
      texts = []
      chars = 0
      return out
    },
  }
}
