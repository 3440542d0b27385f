/**
 * What the logger's thread and the sealing thread (seal-worker.ts) say to each other.
 *
 * - To the worker: a string is a batch of prepared records (assemble.ts encodePrepared), one per
 *   line, in the order the logger accepted them; `flush` asks for a reply once everything before it
 *   is written; `end` closes the destination.
 * - `progress` (shared memory): Int32 [0] count of batches written, [1] SEAL_STATE; Float64 at byte 8: count of their
 *   characters. The logger waits on [0] with Atomics.wait at process exit, when no message can be
 *   received any more, and bounds the memory in flight with [8].
 */
import type { ChainOptions } from './chain'

/** progress[1]: where the sealing thread is. */
export const SEAL_STATE = { starting: 0, ready: 1, failed: 2 } as const

/** Bumped whenever the messages or the prepared-record encoding change. */
export const SEAL_PROTOCOL = 1

export interface SealWorkerData {
  protocol: number
  dest: 'stdout' | 'stderr' | number | string
  /** Plain data only: the chain is created on the worker (shrink runs on the logger's side). */
  chain: Omit<ChainOptions, 'shrink' | 'now' | 'stringify'>
  progress: SharedArrayBuffer
}

export type ToWorker = string | { type: 'flush'; id: number } | { type: 'end' }

export type ToMain =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'error'; message: string }
  | { type: 'dropped'; count: number }
  | { type: 'flushed'; id: number }
  | { type: 'ended' }
