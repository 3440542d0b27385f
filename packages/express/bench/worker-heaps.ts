/**
 * For bench/memory.ts: keeps every worker thread the process starts (the sealing thread) so the
 * server can report their heaps, which `process.memoryUsage()` leaves out. Must run before core is
 * loaded: it replaces `Worker` in node:worker_threads, ESM bindings included.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module'

type WorkerLike = { getHeapStatistics?: () => Promise<{ used_heap_size: number; total_heap_size: number }> }

const workers: WorkerLike[] = []
const threads = createRequire(import.meta.url)('node:worker_threads') as {
  Worker: new (...a: any[]) => object
}
const Original = threads.Worker
threads.Worker = class extends Original {
  constructor(...args: any[]) {
    super(...args)
    workers.push(this as WorkerLike)
  }
}
syncBuiltinESMExports()

/** Used and total heap of the worker threads (a thread that has exited reports nothing). */
export async function workerHeaps(): Promise<{ used: number; total: number }> {
  let used = 0
  let total = 0
  for (const w of workers) {
    try {
      const s = await w.getHeapStatistics?.()
      if (s) {
        used += s.used_heap_size
        total += s.total_heap_size
      }
    } catch {
      // exited
    }
  }
  return { used, total }
}
