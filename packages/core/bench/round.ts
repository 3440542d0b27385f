/**
 * One timed round of a benchmark case, as the core's benchmarks take it: the case's events run and
 * written, with the CPU of the whole process (process.cpuUsage: user + system, every thread) and the
 * wall clock from the first event to the last line written; on Linux also the CPU of each thread
 * (/proc/self/task/<tid>/schedstat): the main thread, the sealing thread, the rest.
 */
import { readdirSync, readFileSync } from 'node:fs'

export type Case = { name: string; run: (n: number) => void; done: () => Promise<void> }

export type Thread = 'main' | 'sealing' | 'other'

export interface Round {
  /** CPU µs per event, whole process. */
  cpu: number
  /** Events per wall-clock second. */
  rate: number
  /** CPU µs per event by thread (Linux; zeros elsewhere). */
  threads: Record<Thread, number>
}

/** CPU nanoseconds of every thread of this process by thread id (Linux), else nothing. */
function threadTimes(): Map<string, { thread: Thread; ns: number }> {
  const out = new Map<string, { thread: Thread; ns: number }>()
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      const thread = comm === 'MainThread' ? 'main' : comm === 'WorkerThread' ? 'sealing' : 'other'
      out.set(tid, { thread, ns })
    } catch {
      // the thread ended
    }
  }
  return out
}

export async function timeRound(c: Case, events: number): Promise<Round> {
  const before = threadTimes()
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  c.run(events)
  await c.done()
  const ns = Number(process.hrtime.bigint() - t0)
  const cpu = process.cpuUsage(cpu0)
  const threads: Record<Thread, number> = { main: 0, sealing: 0, other: 0 }
  for (const [tid, t] of threadTimes())
    threads[t.thread] += (t.ns - (before.get(tid)?.ns ?? 0)) / 1000 / events
  return { cpu: (cpu.user + cpu.system) / events, rate: events / (ns / 1e9), threads }
}
