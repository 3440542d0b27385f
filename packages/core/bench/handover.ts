/**
 * What the sealing thread costs per hand-over: events at a steady rate (or saturated) through
 * createAuditLogger to /dev/null, CPU per event split by thread (from /proc/self/task/<tid>/schedstat,
 * nanoseconds on CPU), so that the sealing thread's own share at low rates shows.
 *
 * The sealing thread has execArgv [] (no tsx loader there), so what it costs is the built script's.
 *
 * Run (after the build), in packages/core: npx tsx bench/handover.ts [RATE=100,1000,5000,0] [SECONDS=5]
 *   [CHAIN=worker|inline|off] [WARMUP=1] [DIST=dir]
 *   RATE 0 = saturated (BURST events per loop turn). DIST: a built dist/ to load instead of the
 *   package's (to compare two builds, e.g. a copy of main's dist/). Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { createAuditLogger as Create } from '@boundary-audit/core'
import { accessEvent } from './access-event'

const arg = <T extends string | undefined>(name: string, fallback: T): string | T => {
  const hit = process.argv.slice(2).find((a) => a.startsWith(`${name}=`))
  return hit ? hit.slice(name.length + 1) : fallback
}
const RATES = arg('RATE', '100,1000,5000,0').split(',').map(Number)
const SECONDS = Number(arg('SECONDS', '5'))
const CHAIN = arg('CHAIN', 'worker')
const DIST = arg('DIST', undefined)
const BURST = 200

const { createAuditLogger }: { createAuditLogger: typeof Create } = DIST
  ? await import(pathToFileURL(resolve(DIST, 'index.js')).href)
  : await import('@boundary-audit/core')

type Group = 'main' | 'seal' | 'v8' | 'libuv'

/** CPU nanoseconds of every thread of this process, by thread id. */
const threads = () => {
  const out = new Map<string, { comm: string; ns: number }>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      out.set(tid, { comm, ns })
    } catch {
      // the thread ended
    }
  }
  return out
}
const group = (comm: string): Group =>
  comm === 'MainThread'
    ? 'main'
    : comm === 'WorkerThread'
      ? 'seal'
      : comm.startsWith('libuv')
        ? 'libuv'
        : 'v8'

const audit = createAuditLogger({
  service: { name: 'bench', version: '1.0.0', environment: 'bench', instance: 'bench-0' },
  destination: '/dev/null',
  integrity:
    CHAIN === 'off'
      ? { enabled: false }
      : { enabled: true, thread: CHAIN as 'worker' | 'inline', checkpointIntervalSeconds: 0 },
})
const one = () => audit.access(accessEvent())

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Events at `rate` per second for `seconds` (every 10 ms a tick's share), or saturated (rate 0). */
async function drive(rate: number, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000
  let n = 0
  if (rate === 0) {
    while (performance.now() < end) {
      for (let i = 0; i < BURST; i++) one()
      n += BURST
      await new Promise((r) => setImmediate(r))
    }
    return n
  }
  const t0 = performance.now()
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate)
    while (n < due) {
      one()
      n++
    }
    await sleep(Math.max(1, Math.min(10, 1000 / rate)))
  }
  return n
}

console.log(
  `node ${process.version}, chain ${CHAIN}, dist ${DIST ?? '@boundary-audit/core'}, ${SECONDS} s per rate`,
)
await drive(2000, Number(arg('WARMUP', '1'))) // warm-up
await audit.flush()
await sleep(200)
for (const rate of RATES) {
  const before = threads()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const n = await drive(rate, SECONDS)
  await audit.flush()
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const after = threads()
  const by: Record<Group, number> = { main: 0, seal: 0, v8: 0, libuv: 0 }
  for (const [tid, t] of after) by[group(t.comm)] += t.ns - (before.get(tid)?.ns ?? 0)
  const us = (ns: number) => (ns / 1000 / n).toFixed(2)
  console.log(
    `rate ${rate || 'max'}: ${n} events, ${Math.round(n / wall)}/s | µs CPU/event: process ${((cpu.user + cpu.system) / n).toFixed(2)}` +
      ` main ${us(by.main)} seal ${us(by.seal)} v8 ${us(by.v8)} libuv ${us(by.libuv)}`,
  )
  await sleep(200)
}
await audit.close()
