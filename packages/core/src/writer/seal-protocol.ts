/**
 * What the logger's thread (thread.ts) and the sealing thread (seal-worker.ts) say to each other.
 *
 * - To the thread: a string is a batch of items (items.ts), one per line, in acceptance order;
 *   `flush` asks for a reply once everything before it is written (or can no longer be); `end`
 *   once that is so and the output is closed; `expire` says the shutdown deadline is near.
 * - Shared memory (`progress`), because at process exit the logger's thread waits with
 *   Atomics.wait and can receive no message: Int32 [0] bumped at every change (waited on),
 *   [1] SEAL_STATE, [2] 1 once the deadline is near (set by the logger's thread); Float64 from
 *   byte 16: the PROGRESS counters.
 */
import type { ChainOptions } from '../integrity/chain'

/** A batch goes to the thread once it holds this many characters (or has waited BATCH_DELAY_MS). */
export const BATCH_CHARS = 64 * 1024

/**
 * Characters of sealed lines the thread hands to its output at once (one epoch, one write). A line
 * is its item plus the integrity fields (~200 characters), so a full batch's lines are longer than
 * the batch: at 64 KiB, as the logger's own thread writes, every batch of the core bench's records
 * (~800 characters) became a full chunk and a sliver of 8 KiB, two epochs and two writes. Kept under
 * 128 KiB, the largest object V8 puts in its young generation (a longer string, as the chunk is
 * flattened to be written, gets a mapping of its own).
 */
export const THREAD_CHUNK_CHARS = 100 * 1024

/** progress Int32 [1]: where the sealing thread is. */
export const SEAL_STATE = { starting: 0, ready: 1, failed: 2, ended: 3 } as const

/** Float64 slots (from byte 16) the sealing thread keeps current. */
export const PROGRESS = {
  /** Characters of items taken off its queue (sealed or dropped): what is no longer in flight. */
  consumedChars: 0,
  /** Events sealed and handed to the output. */
  sealed: 1,
  /** Events written to the destination. */
  written: 2,
  /** Events the thread dropped (deadline, destination error). */
  dropped: 3,
  /** Items taken off its queue. */
  consumed: 4,
  /** 1 when nothing taken is still waiting to be sealed or written. */
  idle: 5,
  /** 1 once anything (the genesis at least) was handed to the output. */
  began: 6,
  /** App lines (audit.destination()) the thread dropped (deadline, destination error). */
  textDropped: 7,
} as const

export const PROGRESS_SLOTS = 8
export const PROGRESS_BYTES = 16 + 8 * PROGRESS_SLOTS

/**
 * Bumped whenever the messages, the item encoding or what the thread writes change (4: chain format 2; 5: the key offsets in an encoded record),
 * so that a stale built script (dist/ older than src/, while testing) is refused loudly, with a warning
 * and inline sealing, instead of writing records the rest of the code no longer agrees with.
 */
export const SEAL_PROTOCOL = 5

export interface SealWorkerData {
  protocol: number
  dest: 'stdout' | 'stderr' | number | string
  /** Plain data only: the chain is created on the thread. */
  chain: Omit<ChainOptions, 'shrink' | 'now' | 'stringify'> & { streamId: string }
  service: unknown
  ecsVersion: string
  maxLineBytes: number
  progress: SharedArrayBuffer
}

export type ToWorker = string | { type: 'flush'; id: number } | { type: 'end' } | { type: 'expire' }

export type ToMain =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'error'; message: string }
  | { type: 'flushed'; id: number }
  | { type: 'ended' }
