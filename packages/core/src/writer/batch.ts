/**
 * Texts waiting to be handed on together: thread.ts gathers items for the sealing thread in one.
 *
 * Why batch by time: in a server each turn of the event loop logs one or two events, and every
 * hand-over has a fixed cost far above a line's: it wakes the sealing thread, and a thread woken
 * after a quiet spell runs cold. Measured on Node 24 (2 vCPUs, bench/handover.ts): a hand-over of
 * one record cost the thread ~150 µs of CPU, where that record's sealing costs ~3 µs in a busy
 * batch; about 50 µs of it is the wake and the message (libuv, MessagePort), the rest our own code
 * running 10-20x slower than warm (the first SHA-256 after a wake 27-30 µs, the next one 2-3 µs).
 * Not garbage collection (one scavenge in 400 hand-overs) and not the JIT (the same code). So the
 * fewer wakes the better. A batch goes after BATCH_DELAY_MS when it holds a quarter of a full one by
 * then (texts come fast: as before), else it waits for company up to BATCH_MAX_DELAY_MS. Waiting 50 ms
 * instead of 10 cut the thread's CPU per event at 100 events/s from 119-163 µs to 50-65, at 1,000/s
 * from 14-22 to 8-13, at 2,000/s from 9-17 to 7-9 (interleaved runs); at 5,000/s, where 64 KiB fill
 * within 20 ms, waiting longer measured no better and perhaps worse (the sealing thread 4.7-8.3 µs
 * against 4.3-6.7), hence the quarter rule, which keeps those rates on the 10 ms path. 50 ms keeps
 * the time from acceptance to seal well inside the 100 ms an epoch may span under the design contract.
 *
 * A full batch goes at once: texts held longer would be copied around by the garbage collector (a
 * burst of thousands of events in one turn doubled the cost per line; 256 KiB batches cost the
 * sealing thread more per record than 64 KiB ones). The timer is not unref'd, so a process that
 * goes idle still hands its texts over before it exits; flush(), close() and the exit hooks call
 * `take` directly.
 */

/** How long a text waits for others when texts come fast (unless the batch fills first). */
export const BATCH_DELAY_MS = 10
/** How long a text may wait for others when they come slowly (the batch is small at BATCH_DELAY_MS). */
export const BATCH_MAX_DELAY_MS = 50

export interface Batch {
  /** Characters waiting. */
  readonly chars: number
  /** Adds a text; `ready` runs now if the batch is full, else within BATCH_MAX_DELAY_MS. */
  add(text: string): void
  /** The waiting texts, in order, and an empty batch. */
  take(): string[]
}

/**
 * A batch that calls `ready` (which should `take()`) once it holds `fullAt` characters, or after
 * BATCH_DELAY_MS if it holds a quarter of that by then, or after BATCH_MAX_DELAY_MS.
 */
export function createBatch(fullAt: number, ready: () => void): Batch {
  let texts: string[] = []
  let chars = 0
  let scheduled = false
  let since = 0
  const onTimer = () => {
    const waited = Date.now() - since
    if (chars > 0 && chars < fullAt / 4 && waited < BATCH_MAX_DELAY_MS) {
      setTimeout(onTimer, BATCH_MAX_DELAY_MS - waited)
      return
    }
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
        since = Date.now()
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
