/**
 * Worker threads that read segments (worker.ts): each job goes to the thread with the fewest jobs
 * waiting, and results come back as promises, so the caller can take them in input order.
 *
 * A thread that fails (an exception, out of memory, killed) fails every job it holds and every job
 * after it: the verifier then reports an error (exit 2), never a result built on what was not read.
 */
import { Worker } from 'node:worker_threads'
import { builtScript } from '../../built-script'
import type { KeyMessage, SegmentJob, SegmentResult } from './read-segment'

interface Pending {
  resolve: (r: SegmentResult) => void
  reject: (err: Error) => void
}

interface Thread {
  worker: Worker
  pending: Map<number, Pending>
  /** Result buffers to hand back with the next job. */
  returns: ArrayBuffer[]
}

/** The built worker script (dist/verify-worker.cjs); undefined when there is none: one thread. */
export function verifyWorkerFile(): string | undefined {
  return builtScript('verify-worker.cjs')
}

export class WorkerPool {
  private readonly threads: Thread[] = []
  private failure: Error | undefined
  private nextId = 0

  constructor(file: string, size: number) {
    for (let i = 0; i < size; i++) {
      // execArgv: [] keeps the host's preloads (--import hooks, APMs) out of the thread.
      const worker = new Worker(file, { execArgv: [], stdout: true, stderr: false })
      const thread: Thread = { worker, pending: new Map(), returns: [] }
      worker.on('message', (r: SegmentResult) => {
        const p = thread.pending.get(r.id)
        if (!p) return
        thread.pending.delete(r.id)
        r.thread = i
        p.resolve(r)
      })
      worker.on('error', (err) => this.fail(thread, `a verifier thread failed: ${err.message}`))
      worker.on('exit', (code) => this.fail(thread, `a verifier thread exited (code ${code})`))
      this.threads.push(thread)
    }
  }

  /** Hands every thread a stream's k[0] (undefined: unkeyed), so that they check its MACs. */
  shareKey(stream: string, k0: Buffer | undefined): void {
    const message: KeyMessage = { stream, key: k0 ? new Uint8Array(k0) : null }
    for (const t of this.threads) t.worker.postMessage(message)
  }

  /** Hands a result's buffers back to the thread that wrote them, to be used again. */
  recycle(r: SegmentResult): void {
    const t = this.threads[r.thread ?? -1]
    if (!t) return
    for (const b of [r.events.buffer, r.inputs.buffer] as ArrayBuffer[])
      if (b.byteLength > 0) t.returns.push(b)
  }

  /**
   * Reads a segment on the least busy thread. `bytes` must start a buffer of its own: the buffer is
   * moved to the thread (unusable here) and comes back in the result's `source`.
   */
  read(bytes: Uint8Array, facts: SegmentJob['facts'], who?: SegmentJob['who']): Promise<SegmentResult> {
    if (this.failure) return Promise.reject(this.failure)
    let best = this.threads[0]!
    for (const t of this.threads) if (t.pending.size < best.pending.size) best = t
    const id = this.nextId++
    return new Promise<SegmentResult>((resolve, reject) => {
      best.pending.set(id, { resolve, reject })
      const recycle = best.returns.splice(0)
      const job: SegmentJob = { id, bytes, facts, recycle }
      if (who) job.who = who
      try {
        best.worker.postMessage(job, [bytes.buffer as ArrayBuffer, ...recycle])
      } catch (err) {
        this.fail(best, `a verifier thread could not be given its work: ${(err as Error).message}`)
      }
    })
  }

  /** Stops the threads (jobs still pending are failed). */
  async close(): Promise<void> {
    this.failure ??= new Error('verifier threads closed')
    const threads = this.threads.splice(0)
    for (const t of threads) this.rejectAll(t, this.failure)
    await Promise.all(threads.map((t) => t.worker.terminate()))
  }

  private fail(thread: Thread, message: string): void {
    if (!this.threads.includes(thread)) return
    this.failure ??= new Error(message)
    // Every thread's jobs: results must come in input order, and one is gone.
    for (const t of this.threads) this.rejectAll(t, this.failure)
  }

  private rejectAll(t: Thread, err: Error): void {
    const pending = [...t.pending.values()]
    t.pending.clear()
    for (const p of pending) p.reject(err)
  }
}
