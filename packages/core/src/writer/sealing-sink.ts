/**
 * Sealing and writing on a worker thread (integrity.thread = 'worker').
 *
 * The logger prepares each record where it is built (integrity/assemble.ts: shape checks, one
 * JSON.stringify, size cap) and hands the plain text here; every few milliseconds (batch.ts) the
 * texts go to the sealing thread (integrity/seal-worker.ts) in one message. That thread alone holds
 * the chain: key evolution, HMAC, SHA-256 and the write to the file descriptor cost the event loop
 * nothing, and the chain key never exists on the application's thread.
 *
 * What must not change from sealing inline: order (one thread seals in acceptance order), no loss at
 * exit (flushSync waits on shared memory, since no message can arrive during 'exit'), bounded memory
 * (what is in flight counts against maxBufferBytes) and no crash: if the thread cannot start or
 * dies, the records it had not written are sealed inline from then on, with a fresh chain, and a
 * warning says so.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { decodePrepared, encodePrepared, type Prepared } from '../integrity/assemble'
import { type Chain, type ChainOptions, createChain, newStreamId } from '../integrity/chain'
import { SEAL_PROTOCOL, SEAL_STATE, type SealWorkerData, type ToMain } from '../integrity/seal-protocol'
import type { Destination } from '../types'
import { createBatch } from './batch'
import { createSink, errorName, type Sink } from './sink'

export interface SealingSink {
  /** Accepts one prepared record for sealing and writing. False: dropped (counted). */
  write(prepared: Prepared): boolean
  flush(): Promise<void>
  flushSync(): void
  end(): Promise<void>
  readonly healthy: boolean
  readonly dropped: number
  readonly mode: 'worker' | 'inline'
}

export interface SealingSinkOptions {
  dest: Exclude<Destination, object>
  maxBufferBytes: number
  report: (message: string) => void
  /** Plain data: the chain is created on the sealing thread. */
  chain: Omit<ChainOptions, 'shrink' | 'now' | 'stringify'> & { streamId: string }
  /** The worker script; default sealWorkerFile(). (Tests start broken ones to exercise the fallback.) */
  workerFile?: string
}

/**
 * A batch goes to the thread within a few milliseconds of its first record (batch.ts), or as soon as it holds this many
 * characters: a burst of events in one turn is then sealed while it is still being produced.
 */
const BATCH_CHARS = 64 * 1024

/** At process exit, how long to wait for the sealing thread before giving up (a stuck pipe). */
const EXIT_WAIT_MS = 5000

/**
 * The built worker script, next to this module in dist/, or the package's dist/ when this module
 * runs from src (tests). Undefined when there is none: sealing stays inline.
 */
export function sealWorkerFile(): string | undefined {
  let here: string
  try {
    // The ESM build has import.meta.url; the CommonJS build (where bundlers leave import.meta empty) has __filename.
    const url = typeof import.meta === 'object' ? import.meta.url : undefined
    here = dirname(url ? fileURLToPath(url) : __filename)
  } catch {
    return undefined
  }
  for (const candidate of [
    join(here, 'seal-worker.cjs'),
    join(here, '..', '..', 'dist', 'seal-worker.cjs'),
  ]) {
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/** Starts the sealing thread; undefined when no worker script is available (then seal inline). */
export function createSealingSink(options: SealingSinkOptions): SealingSink | undefined {
  const file = options.workerFile ?? sealWorkerFile()
  if (!file) return undefined
  const progress = new SharedArrayBuffer(16)
  const shared = new Int32Array(progress, 0, 2) // [0] batches written, [1] state
  const sharedChars = new Float64Array(progress, 8, 1) // characters of the batches written
  const data: SealWorkerData = { protocol: SEAL_PROTOCOL, dest: options.dest, chain: options.chain, progress }
  let worker: Worker | undefined
  try {
    // execArgv: [] keeps the host's preloads (--import/--require hooks, APMs) out of this thread.
    worker = new Worker(file, { workerData: data, execArgv: [] })
  } catch {
    return undefined
  }

  const { report, maxBufferBytes } = options
  let mode: 'worker' | 'inline' = 'worker'
  let dropped = 0
  let healthy = true
  let ended = false
  let alive = true
  // The thread said 'ended': everything it was sent is written, so its exit loses nothing.
  let closed = false

  // Encoded records not yet sent, and batches sent but not yet written (kept
  // until written, to be sealed inline should the thread die).
  let posted = 0
  let postedChars = 0
  const unwritten: { no: number; batch: string }[] = []

  // Inline fallback, created when the thread fails.
  let inlineChain: Chain | undefined
  let inlineSink: Sink | undefined

  const written = () => Atomics.load(shared, 0)
  const forgetWritten = () => {
    const done = written()
    while (unwritten.length > 0 && unwritten[0]!.no <= done) unwritten.shift()
  }

  const drain = () => {
    if (mode !== 'worker' || pending.chars === 0) return
    const batch = pending.take().join('\n')
    posted++
    postedChars += batch.length
    unwritten.push({ no: posted, batch })
    forgetWritten()
    worker!.postMessage(batch)
  }
  const pending = createBatch(BATCH_CHARS, drain)

  // Replies awaited (flush, end), each resolved by its reply or by the thread going away.
  let nextId = 0
  const waiting = new Map<number, () => void>()
  let onEnded: (() => void) | undefined
  const settleAll = () => {
    for (const resolve of waiting.values()) resolve()
    waiting.clear()
    onEnded?.()
    onEnded = undefined
    worker?.unref()
  }
  const refWhileWaiting = () => worker?.ref()
  const unrefIfIdle = () => {
    if (waiting.size === 0 && !onEnded) worker?.unref()
  }

  /** The thread is gone or never came up: seal what it did not write, inline, from now on. */
  const fallBack = (why: string) => {
    if (mode === 'inline') return
    mode = 'inline'
    alive = false
    const sealedAny = written() > 0
    report(`the sealing thread ${why}; records are sealed on the main thread from now on`)
    try {
      void worker?.terminate()
    } catch {
      // already gone
    }
    // Anything the thread wrote carries the original stream id; the rest starts a stream of its own.
    inlineChain = createChain({
      ...options.chain,
      streamId: sealedAny ? newStreamId() : options.chain.streamId,
    })
    inlineSink = createSink(options.dest, { sync: false, maxBufferBytes, report })
    forgetWritten()
    const replay = unwritten.splice(0).map((u) => u.batch)
    const unsent = pending.take()
    if (unsent.length > 0) replay.push(unsent.join('\n'))
    for (const batch of replay) for (const record of batch.split('\n')) writeInline(decodePrepared(record))
    // A flush() or end() waiting for the thread promised these records written: settle it only once
    // the inline sink has written them (and closed, if end() was called). Flushed before ended, so
    // that a flushSync() at exit, right after this, still writes what the flush has not.
    const sink = inlineSink
    void sink
      .flush()
      .then(() => (ended ? sink.end() : undefined))
      .then(settleAll)
  }

  const writeInline = (prepared: Prepared): boolean => {
    const line = inlineChain!.sealPrepared(prepared)
    const ok = inlineSink!.write(`${line}\n`)
    return ok
  }

  worker.on('message', (message: ToMain) => {
    switch (message.type) {
      case 'failed':
        fallBack(`could not start (${message.message})`)
        break
      case 'error':
        report(message.message)
        healthy = false
        break
      case 'dropped':
        dropped += message.count
        break
      case 'flushed': {
        const resolve = waiting.get(message.id)
        waiting.delete(message.id)
        resolve?.()
        unrefIfIdle()
        break
      }
      case 'ended':
        closed = true
        onEnded?.()
        onEnded = undefined
        unrefIfIdle()
        break
    }
  })
  worker.on('error', (err) => {
    if (!closed) fallBack(`failed (${errorName(err)})`)
  })
  worker.on('exit', (code) => {
    alive = false
    // Not just `ended`: a thread that stops after end() was asked for but before it answered may
    // not have written everything.
    if (!closed) fallBack(`stopped (exit code ${code})`)
    else settleAll()
  })
  // After the listeners: adding a 'message' listener refs the thread again. Unref'd, it never keeps
  // the process alive; flush() and end() ref it while they wait for its answer.
  worker.unref()

  return {
    write(prepared) {
      if (ended) {
        dropped++
        return false
      }
      if (mode === 'inline') return writeInline(prepared)
      if (!healthy) {
        dropped++
        return false
      }
      const text = encodePrepared(prepared)
      const inFlight = postedChars - sharedChars[0]!
      if (pending.chars + inFlight + text.length > maxBufferBytes) {
        dropped++
        report('the destination is not keeping up; events were dropped (see stats().dropped)')
        return false
      }
      pending.add(text)
      return true
    },
    flush() {
      if (mode === 'inline') return inlineSink!.flush()
      drain()
      if (!alive) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const id = ++nextId
        waiting.set(id, resolve)
        refWhileWaiting()
        worker!.postMessage({ type: 'flush', id })
      })
    },
    flushSync() {
      if (mode === 'worker') {
        drain()
        // No message can be received now (this runs at 'exit'): watch the shared counter instead.
        const deadline = Date.now() + EXIT_WAIT_MS
        for (;;) {
          if (Atomics.load(shared, 1) === SEAL_STATE.failed) {
            fallBack('could not start')
            break
          }
          const done = written()
          if (done - posted >= 0 || !alive) break
          const left = deadline - Date.now()
          if (left <= 0) break
          Atomics.wait(shared, 0, done, Math.min(left, 50))
        }
      }
      if (mode === 'inline') inlineSink!.flushSync()
    },
    end() {
      if (mode === 'inline') {
        ended = true
        return inlineSink!.end()
      }
      drain()
      ended = true
      if (!alive) return Promise.resolve()
      return new Promise<void>((resolve) => {
        onEnded = () => {
          resolve()
          void worker!.terminate()
        }
        refWhileWaiting()
        worker!.postMessage({ type: 'end' })
      })
    },
    get healthy() {
      if (mode === 'inline') return !ended && inlineSink!.healthy
      return healthy && !ended
    },
    get dropped() {
      return dropped + (inlineSink?.dropped ?? 0)
    },
    get mode() {
      return mode
    },
  }
}
