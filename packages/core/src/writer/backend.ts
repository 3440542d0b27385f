/**
 * A backend runs the sealer (sealer.ts) somewhere: on the logger's thread (inline, here) or on the
 * sealing thread (thread.ts). writer.ts puts the logger's buffer bound in front of either.
 */
import type { Chain, IntegrityFields } from '../integrity/chain'
import type { Item } from './items'
import type { Output, OutputEvents } from './output'
import { createSealer, type Sealer } from './sealer'

export interface Backend {
  push(item: Item): void
  /** Characters accepted and not yet sealed: what the buffer bound counts. */
  readonly used: number
  /** Everything pushed so far written (or no longer writable). */
  flush(): Promise<void>
  /**
   * The same, synchronously (process exit, nothing asynchronous runs any more): from `expireAt`
   * what is not yet sealed is dropped and counted; at `deadline` it gives up.
   */
  flushSync(expireAt: number, deadline: number): void
  /** Everything pushed written (or no longer writable), then the output closed. */
  end(): Promise<void>
  /** The deadline is near: what is not sealed yet is dropped and counted from now on. */
  expire(): void
  /** Events written to the destination. */
  readonly written: number
  /** Events dropped behind the buffer bound (deadline, destination). */
  readonly dropped: number
  /** App lines (audit.destination()) dropped behind the buffer bound (deadline, destination). */
  readonly textDropped: number
  readonly healthy: boolean
  readonly mode: 'worker' | 'inline' | 'off'
}

export interface InlineOptions {
  chain: Chain | undefined
  output: (events: OutputEvents) => Output
  report: (message: string) => void
  service: unknown
  ecsVersion: string
  maxLineBytes: number
  /** Seal each item as it comes (sync writes, a caller's object, OpenTelemetry) instead of within BATCH_DELAY_MS. */
  immediate: boolean
  onSealed?: (record: Record<string, unknown>, integrity: IntegrityFields | undefined) => void
}

/** How long an item may wait to be sealed with others; see batch.ts for why batching pays. */
export const BATCH_DELAY_MS = 10
/** Characters that make the sealer go at once. */
const FULL_CHARS = 64 * 1024

/** The sealer on the logger's own thread. */
export function inlineBackend(options: InlineOptions): Backend {
  let timer: NodeJS.Timeout | undefined
  // Declared first: a synchronous output reports progress while the sealer writes its genesis.
  let sealer: Sealer | undefined
  const pump = () => {
    if (timer) {
      clearTimeout(timer)
      timer = undefined
    }
    s.pump()
  }
  const output = options.output({ onChange: () => sealer?.pump(), report: options.report })
  const s = createSealer({
    chain: options.chain,
    service: options.service,
    ecsVersion: options.ecsVersion,
    output,
    maxLineBytes: options.maxLineBytes,
    onSealed: options.onSealed,
  })
  sealer = s
  const flush = () => {
    pump()
    return new Promise<void>((resolve) => s.whenDone(resolve))
  }
  return {
    push(item) {
      s.push(item)
      if (options.immediate || s.queuedChars >= FULL_CHARS) pump()
      // Not unref'd: a process that goes idle still writes what it accepted before it exits.
      else timer ??= setTimeout(pump, BATCH_DELAY_MS)
    },
    get used() {
      return s.queuedChars
    },
    flush,
    flushSync(expireAt, deadline) {
      for (;;) {
        pump()
        if (s.queuedChars === 0 || output.failed) {
          output.flushSync(deadline)
          return
        }
        if (Date.now() >= expireAt) {
          s.expire()
          output.flushSync(deadline)
          return
        }
        // Room opens only as the output writes; written synchronously here, sealing goes on.
        output.flushSync(expireAt)
      }
    },
    async end() {
      await flush()
      await output.end()
    },
    expire() {
      pump()
      s.expire()
    },
    get written() {
      return output.written
    },
    get dropped() {
      return s.dropped + output.lost
    },
    get textDropped() {
      return s.textDropped
    },
    get healthy() {
      return output.healthy
    },
    mode: options.chain ? 'inline' : 'off',
  }
}
