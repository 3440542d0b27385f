/**
 * The sealing thread: holds the integrity chain (its key never exists on the caller's thread) and
 * runs the sealer (sealer.ts) into its own output (fd-output.ts). Built on its own
 * (dist/seal-worker.cjs) and started by thread.ts; seal-protocol.ts describes what they say.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type Chain, createChain } from '../integrity/chain'
import { fdOutput } from './fd-output'
import type { Output } from './output'
import {
  PROGRESS,
  PROGRESS_SLOTS,
  SEAL_PROTOCOL,
  SEAL_STATE,
  type SealWorkerData,
  THREAD_CHUNK_CHARS,
  type ToMain,
  type ToWorker,
} from './seal-protocol'
import { createSealer, isAscii, type Sealer } from './sealer'

const data = workerData as SealWorkerData
const port = parentPort!
const state = new Int32Array(data.progress, 0, 4)
const counters = new Float64Array(data.progress, 16, PROGRESS_SLOTS)

const send = (message: ToMain) => port.postMessage(message)

/** Tells the logger's thread, in shared memory (it may be blocked in Atomics.wait) and by message. */
function setState(value: number): void {
  Atomics.store(state, 1, value)
  Atomics.add(state, 0, 1)
  Atomics.notify(state, 0)
}

function start(): void {
  if (data.protocol !== SEAL_PROTOCOL) {
    // Source and build out of step (a stale dist while testing from src): better not to seal at all.
    setState(SEAL_STATE.failed)
    send({ type: 'failed', message: `sealing thread speaks protocol ${SEAL_PROTOCOL}, not ${data.protocol}` })
    return
  }
  let chain: Chain
  let output: Output
  let sealer: Sealer | undefined
  const publish = () => {
    if (!sealer) return
    counters[PROGRESS.consumedChars] = sealer.consumedChars
    counters[PROGRESS.sealed] = sealer.sealed
    counters[PROGRESS.written] = output.written
    counters[PROGRESS.dropped] = sealer.dropped + output.lost
    counters[PROGRESS.textDropped] = sealer.textDropped
    counters[PROGRESS.consumed] = sealer.consumed
    counters[PROGRESS.began] = sealer.began ? 1 : 0
    counters[PROGRESS.idle] = sealer.queuedChars === 0 && output.idle ? 1 : 0
    Atomics.add(state, 0, 1)
    Atomics.notify(state, 0)
  }
  const onChange = () => {
    if (!sealer) return
    if (Atomics.load(state, 2) === 1) sealer.expire()
    sealer.pump()
    publish()
  }
  try {
    chain = createChain(data.chain)
    output = fdOutput(data.dest, {
      onChange,
      report: (message) => send({ type: 'error', message }),
    })
    sealer = createSealer({
      chain,
      service: data.service,
      ecsVersion: data.ecsVersion,
      output,
      maxLineBytes: data.maxLineBytes,
      lazyGenesis: true,
      chunkChars: THREAD_CHUNK_CHARS,
    })
  } catch (err) {
    setState(SEAL_STATE.failed)
    send({ type: 'failed', message: describe(err) })
    return
  }
  const s = sealer
  port.on('message', (message: ToWorker) => {
    if (typeof message === 'string') {
      // One pass over the batch (flat here, so measuring it is cheap) spares measuring each chunk
      // of lines before writing it (fd-output.ts).
      const ascii = isAscii(message)
      let from = 0
      while (from <= message.length) {
        let to = message.indexOf('\n', from)
        if (to === -1) to = message.length
        s.push(message.slice(from, to), ascii)
        from = to + 1
      }
      onChange()
    } else if (message.type === 'flush') {
      s.whenDone(() => {
        publish()
        send({ type: 'flushed', id: message.id })
      })
    } else if (message.type === 'end') {
      s.whenDone(() => {
        void output.end().then(() => {
          publish()
          setState(SEAL_STATE.ended)
          send({ type: 'ended' })
        })
      })
    } else if (message.type === 'expire') {
      s.expire()
      publish()
    }
  })
  setState(SEAL_STATE.ready)
  send({ type: 'ready' })
  publish()
}

function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown }
    if (typeof e.code === 'string') return e.code
    if (typeof e.message === 'string') return e.message
  }
  return String(err)
}

start()
