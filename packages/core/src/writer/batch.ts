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
 * fewer wakes the better: a batch waits up to BATCH_DELAY_MS for company. Going from 10 to 50 ms cut
 * the thread's CPU per event at 100 events/s from 119-162 µs to 54-65, at 1,000/s from 14-16 to 8-10,
 * at 2,000/s from 9-17 to 7-9; from ~2,000/s on (700-byte lines) the 64 KiB bound fills first and
 * nothing measurable changed (5,000/s and saturated, interleaved runs). 50 ms keeps the time
 * from acceptance to seal well inside the 100 ms an epoch may span under the design contract.
 *
 * A full batch goes at once: texts held longer would be copied around by the garbage collector (a
 * burst of thousands of events in one turn doubled the cost per line; 256 KiB batches cost the
 * sealing thread more per record than 64 KiB ones). The timer is not unref'd, so a process that
 * goes idle still hands its texts over before it exits; flush(), close() and the exit hooks call
 * `take` directly.
 */

/** How long a text may wait for others (unless the batch fills first). */
export const BATCH_DELAY_MS = 50

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
