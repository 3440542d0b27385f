/**
 * The sealing thread: holds the integrity chain (its key never exists on the caller's thread),
 * seals the records the logger prepared, in the order they were accepted, and writes the lines.
 *
 * Built on its own (dist/seal-worker.cjs) and started by writer/sealing-sink.ts, which describes
 * the protocol. Writes are synchronous here: this thread has nothing else to do, and the caller's
 * thread may be waiting for them at process exit (flushSync).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { destination as pinoDestination } from 'pino'
import { MAX_WRITE } from '../writer/sink'
import { decodePrepared } from './assemble'
import { type Chain, createChain } from './chain'
import { SEAL_PROTOCOL, SEAL_STATE, type SealWorkerData, type ToMain, type ToWorker } from './seal-protocol'

const data = workerData as SealWorkerData
const port = parentPort!
const shared = new Int32Array(data.progress, 0, 2) // [0] batches written, [1] state
const doneChars = new Float64Array(data.progress, 8, 1)

const send = (message: ToMain) => port.postMessage(message)

/** Tells the logger's thread, by message and in shared memory (it may be blocked in flushSync). */
function fail(message: string): void {
  Atomics.store(shared, 1, SEAL_STATE.failed)
  Atomics.notify(shared, 0)
  send({ type: 'failed', message })
}

function start(): void {
  if (data.protocol !== SEAL_PROTOCOL) {
    // Source and build out of step (a stale dist while testing from src): better not to seal at all.
    fail(`sealing thread speaks protocol ${SEAL_PROTOCOL}, not ${data.protocol}`)
    return
  }
  let chain: Chain
  let boom: ReturnType<typeof pinoDestination>
  try {
    chain = createChain(data.chain)
    const fd = data.dest === 'stdout' ? 1 : data.dest === 'stderr' ? 2 : data.dest
    boom = pinoDestination({
      dest: fd,
      sync: true,
      mkdir: typeof fd === 'string',
      append: true,
      maxWrite: MAX_WRITE,
      // Lines are written as bytes (below): no string is built or measured per batch.
      contentMode: 'buffer',
    })
  } catch (err) {
    fail(describe(err))
    return
  }
  let healthy = true
  boom.on('error', (err: unknown) => {
    if (healthy)
      send({ type: 'error', message: `destination failed (${describe(err)}); events are being dropped` })
    healthy = false
  })

  const writeBatch = (batch: string) => {
    // Each sealed line goes straight into one buffer as UTF-8: a batch joined into one string, then
    // measured and encoded by the writer, cost more than the sealing itself. A fresh buffer per
    // batch, since the writer may hold on to it.
    let out: Buffer = Buffer.allocUnsafeSlow(batch.length * 2 + 1024)
    let at = 0
    let lines = 0
    let from = 0
    while (from < batch.length) {
      let to = batch.indexOf('\n', from)
      if (to === -1) to = batch.length
      // sealParts never throws: a record it cannot read is replaced by an error record.
      const sealed = chain.sealParts(decodePrepared(batch.slice(from, to)))
      const line = `${sealed.head}${sealed.integrity}${sealed.tail}\n`
      if (at + line.length * 3 > out.length) out = grow(out, at, at + line.length * 3)
      at += out.write(line, at)
      lines++
      from = to + 1
    }
    if (!healthy) {
      send({ type: 'dropped', count: lines })
      return
    }
    try {
      boom.write(out.subarray(0, at) as unknown as string) // contentMode buffer: typed for strings only
    } catch (err) {
      healthy = false
      send({
        type: 'error',
        message: `destination write failed (${describe(err)}); events are being dropped`,
      })
      send({ type: 'dropped', count: lines })
    }
  }

  port.on('message', (message: ToWorker) => {
    if (typeof message === 'string') {
      writeBatch(message)
      doneChars[0] = doneChars[0]! + message.length
      Atomics.add(shared, 0, 1)
      Atomics.notify(shared, 0)
    } else if (message.type === 'flush') {
      send({ type: 'flushed', id: message.id })
    } else if (message.type === 'end') {
      const finish = () => send({ type: 'ended' })
      try {
        boom.once('close', finish)
        boom.end()
      } catch {
        finish()
      }
    }
  })
  Atomics.store(shared, 1, SEAL_STATE.ready)
  send({ type: 'ready' })
}

/** A larger buffer holding the first `used` bytes of `b`. */
function grow(b: Buffer, used: number, need: number): Buffer {
  const bigger = Buffer.allocUnsafeSlow(Math.max(need, b.length * 2))
  b.copy(bigger, 0, 0, used)
  return bigger
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
