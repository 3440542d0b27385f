/**
 * The sealer on its own thread (integrity.thread = 'worker'), seen from the logger's thread.
 *
 * Items are encoded (items.ts) and, every few milliseconds or once 64 KiB have gathered (batch.ts),
 * posted to the sealing thread (seal-worker.ts) in one message. That thread alone holds the chain:
 * key evolution, HMAC and the writes cost the event loop nothing, and the chain key never exists
 * here. What the thread has taken, sealed and written it publishes in shared memory, so this side
 * can bound what is in flight and, at process exit (when no message can arrive), wait for it with
 * Atomics.wait.
 *
 * If the thread cannot start or dies, the items it had not taken are sealed inline from then on,
 * under a fresh stream (its key died with the thread), after a loss record for what it had sealed
 * and not written; a warning says so.
 */
import { Worker } from 'node:worker_threads'
import { builtScript } from '../built-script'
import { type ChainOptions, createChain, newStreamId } from '../integrity/chain'
import type { Destination } from '../types'
import { type Backend, inlineBackend } from './backend'
import { createBatch } from './batch'
import { decodeItem, encodeItem } from './items'
import { boomOutput, errorName } from './output'
import {
  BATCH_CHARS,
  PROGRESS,
  PROGRESS_BYTES,
  PROGRESS_SLOTS,
  SEAL_PROTOCOL,
  SEAL_STATE,
  type SealWorkerData,
  type ToMain,
} from './seal-protocol'

export interface ThreadOptions {
  dest: Exclude<Destination, object>
  report: (message: string) => void
  /** Plain data: the chain is created on the sealing thread. */
  chain: Omit<ChainOptions, 'shrink' | 'now' | 'stringify'> & { streamId: string }
  service: unknown
  ecsVersion: string
  maxLineBytes: number
  /** The worker script; default sealWorkerFile(). (Tests start broken ones to exercise the fallback.) */
  workerFile?: string
}

/**
 * The sealing thread's young generation, in MB. Its live data is small (the chain's state and the
 * batch in hand) and everything else dies young, but V8 sizes a thread's young generation as it does
 * the main thread's and lets it grow to tens of MB under a steady stream of batches, memory the
 * process does not get back: the thread's committed heap went 42 -> 75 MB between 200 k and 600 k
 * requests of the Express memory bench. Capped at 8 MB it stays ~23 MB (43 MB uncapped after 300 k
 * records at 4,500/s; CPU the same within 2%; Node 24).
 */
export const SEAL_THREAD_YOUNG_MB = 8

/** The built worker script (dist/seal-worker.cjs); undefined when there is none: sealing stays inline. */
export function sealWorkerFile(): string | undefined {
  return builtScript('seal-worker.cjs')
}

/** Starts the sealing thread; undefined when no worker script is available (then seal inline). */
export function threadBackend(options: ThreadOptions): Backend | undefined {
  const file = options.workerFile ?? sealWorkerFile()
  if (!file) return undefined
  const progress = new SharedArrayBuffer(PROGRESS_BYTES)
  const state = new Int32Array(progress, 0, 4)
  const counters = new Float64Array(progress, 16, PROGRESS_SLOTS)
  const data: SealWorkerData = {
    protocol: SEAL_PROTOCOL,
    dest: options.dest,
    chain: options.chain,
    service: options.service,
    ecsVersion: options.ecsVersion,
    maxLineBytes: options.maxLineBytes,
    progress,
  }
  let worker: Worker
  try {
    // execArgv: [] keeps the host's preloads (--import/--require hooks, APMs) out of this thread.
    // stdout: true: the thread's console is not piped to process.stdout, so creating it does not
    // create process.stdout (which would make fd 1 non-blocking for everyone).
    worker = new Worker(file, {
      workerData: data,
      execArgv: [],
      stdout: true,
      resourceLimits: { maxYoungGenerationSizeMb: SEAL_THREAD_YOUNG_MB },
    })
  } catch {
    return undefined
  }
  const { report } = options
  const count = (slot: number) => counters[slot]!

  let inline: Backend | undefined
  let healthy = true
  let ended = false
  let endedByThread = false
  let expired = false
  // Items posted, their characters, and the posted batches the thread may not have taken yet
  // (kept to be sealed inline should it die).
  let postedItems = 0
  let postedChars = 0
  let pushed = 0
  let closeAt = -1
  let lostWithThread = 0
  const kept: { first: number; items: string[] }[] = []

  const forgetTaken = () => {
    const taken = count(PROGRESS.consumed)
    while (kept.length > 0 && kept[0]!.first + kept[0]!.items.length <= taken) kept.shift()
  }

  const post = () => {
    if (inline || pending.chars === 0) return
    const items = pending.take()
    kept.push({ first: postedItems, items })
    postedItems += items.length
    for (const s of items) postedChars += s.length
    forgetTaken()
    worker.postMessage(items.join('\n'))
  }
  const pending = createBatch(BATCH_CHARS, post)

  // Replies awaited (flush, end), each settled by its reply or by the switch to inline.
  let nextId = 0
  const waiting = new Map<number, () => void>()
  let onEnded: (() => void) | undefined
  const refWhileWaiting = () => worker.ref()
  const unrefIfIdle = () => {
    if (waiting.size === 0 && !onEnded) worker.unref()
  }

  /** The thread is gone or never came up: seal what it did not take, inline, from now on. */
  const fallBack = (why: string) => {
    if (inline) return
    report(`the sealing thread ${why}; records are sealed on the main thread from now on`)
    try {
      void worker.terminate()
    } catch {
      // already gone
    }
    // Anything the thread wrote carries the original stream id; the rest starts a stream of its own.
    const started = count(PROGRESS.began) === 1
    const backend = inlineBackend({
      chain: createChain({ ...options.chain, streamId: started ? newStreamId() : options.chain.streamId }),
      output: (events) => boomOutput(options.dest, false, events),
      report,
      service: options.service,
      ecsVersion: options.ecsVersion,
      maxLineBytes: options.maxLineBytes,
      immediate: false,
    })
    inline = backend
    const lost = count(PROGRESS.sealed) - count(PROGRESS.written)
    if (lost > 0) {
      lostWithThread = lost
      backend.push({ kind: 'loss', count: lost, reason: 'sealer-failed', since: new Date().toISOString() })
    }
    const taken = count(PROGRESS.consumed)
    for (const batch of kept.splice(0)) {
      batch.items.forEach((s, i) => {
        if (batch.first + i >= taken) backend.push(decodeItem(s))
      })
    }
    for (const s of pending.take()) backend.push(decodeItem(s))
    // A close the thread took and may not have written: the new stream needs its own.
    if (closeAt >= 0 && closeAt < taken) backend.push({ kind: 'close', reason: 'sealing thread failed' })
    if (expired) backend.expire()
    // Whoever waits for the thread was promised these items written: settle once they are.
    void backend
      .flush()
      .then(() => (ended ? backend.end() : undefined))
      .then(() => {
        for (const resolve of waiting.values()) resolve()
        waiting.clear()
        onEnded?.()
        onEnded = undefined
      })
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
      case 'flushed': {
        const resolve = waiting.get(message.id)
        waiting.delete(message.id)
        resolve?.()
        unrefIfIdle()
        break
      }
      case 'ended':
        endedByThread = true
        onEnded?.()
        onEnded = undefined
        unrefIfIdle()
        void worker.terminate()
        break
    }
  })
  worker.on('error', (err) => {
    if (!endedByThread) fallBack(`failed (${errorName(err)})`)
  })
  worker.on('exit', (code) => {
    // Not just `ended`: a thread that stops after end() was asked for but before it answered may
    // not have written everything.
    if (!endedByThread) fallBack(`stopped (exit code ${code})`)
  })
  // After the listeners: adding a 'message' listener refs the thread again. Unref'd, it never keeps
  // the process alive; flush() and end() ref it while they wait for its answer.
  worker.unref()

  /** Everything posted is taken and written (or no longer writable). */
  const drained = () => count(PROGRESS.consumed) >= postedItems && count(PROGRESS.idle) === 1

  const expire = () => {
    expired = true
    if (inline) return inline.expire()
    post()
    Atomics.store(state, 2, 1)
    worker.postMessage({ type: 'expire' })
  }

  return {
    push(item) {
      if (inline) return inline.push(item)
      if (item.kind === 'close') closeAt = pushed
      pushed++
      pending.add(encodeItem(item))
    },
    get used() {
      if (inline) return inline.used
      return pending.chars + postedChars - count(PROGRESS.consumedChars)
    },
    flush() {
      if (inline) return inline.flush()
      post()
      return new Promise<void>((resolve) => {
        const id = ++nextId
        waiting.set(id, resolve)
        refWhileWaiting()
        worker.postMessage({ type: 'flush', id })
      })
    },
    flushSync(expireAt, deadline) {
      if (inline) return inline.flushSync(expireAt, deadline)
      post()
      // No message can be received now (this runs at 'exit'): watch the shared counters instead.
      for (;;) {
        if (Atomics.load(state, 1) === SEAL_STATE.failed) {
          fallBack('could not start')
          return inline!.flushSync(expireAt, deadline)
        }
        const seen = Atomics.load(state, 0)
        if (drained()) return
        const now = Date.now()
        if (now >= deadline) return
        if (!expired && now >= expireAt) expire()
        Atomics.wait(state, 0, seen, Math.min(deadline - now, expired ? deadline - now : expireAt - now, 100))
      }
    },
    end() {
      ended = true
      if (inline) return inline.end()
      post()
      return new Promise<void>((resolve) => {
        onEnded = resolve
        refWhileWaiting()
        worker.postMessage({ type: 'end' })
      })
    },
    expire,
    get written() {
      return count(PROGRESS.written) + (inline?.written ?? 0)
    },
    get dropped() {
      return count(PROGRESS.dropped) + lostWithThread + (inline?.dropped ?? 0)
    },
    get textDropped() {
      return count(PROGRESS.textDropped) + (inline?.textDropped ?? 0)
    },
    get healthy() {
      return inline ? inline.healthy : healthy
    },
    get mode() {
      return inline ? 'inline' : 'worker'
    },
  }
}
