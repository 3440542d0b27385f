/**
 * Integrity benchmark (issue 7): events/s through createAuditLogger to /dev/null with the chain
 * off, on and keyed (HMAC, evolving key, sealed to a verifier key), and on but unkeyed (SHA-256),
 * each with the chain on its sealing thread (the default) and inline, in this one process. Rounds
 * are interleaved because the machine is shared and noisy; the median round of each is reported.
 *
 * Two figures per case, because the sealing thread changes what "cost" means:
 * - events/s: wall-clock throughput, from the first event until the last line is written (the
 *   issue's measure; target keyed/off >= 0.8). With the sealing thread, hashing runs beside the
 *   event loop, on a second core when there is one.
 * - CPU µs/event: user + system time of the whole process, every thread included: what the events
 *   cost in CPU wherever they ran (a pod with a one-CPU limit pays this).
 * A second table isolates the chain: seal() against JSON.stringify of the same finished record.
 *
 * Run: npm run bench -w @boundary-audit/core (after npm run build), or npx tsx packages/core/bench/integrity.ts
 *      (BENCH_EVENTS, BENCH_ROUNDS to change the size; BENCH_EVENT=six|ten for one event)
 */
import os from 'node:os'
// The logger by its package name: the built dist (and its sealing-thread script), as users run it.
import { createAuditLogger } from '@boundary-audit/core'
import { createChain, generateVerifierKeyPair } from '../src/integrity/index'
import { accessEvent, actor } from './access-event'
import { type Case, timeRound } from './round'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const { publicKeyPem } = generateVerifierKeyPair()

/**
 * Two events, each measured on its own: the lean six-field access event (the hardest case for the
 * ratio: the less an event costs to build, the larger the chain's share) and the ten-field event of
 * the core benchmark (issue 2), which adds four `details` fields. BENCH_EVENT=six or ten runs one.
 */
const EVENTS_MEASURED: { name: string; details?: Record<string, unknown> }[] = [
  { name: 'six' },
  {
    name: 'ten',
    details: {
      requestId: 'req-5b7f1c9a',
      clientIp: '10.2.3.4',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
      durationMs: 12.5,
    },
  },
].filter((e) => process.env.BENCH_EVENT === undefined || process.env.BENCH_EVENT === e.name)

function loggerCase(
  name: string,
  details: Record<string, unknown> | undefined,
  integrity: { enabled: boolean; verifierKey?: string; thread?: 'worker' | 'inline' },
): Case {
  const audit = createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench', instance: 'bench-0' },
    destination: '/dev/null',
    integrity: { ...integrity, checkpointIntervalSeconds: 0 },
  })
  return {
    name,
    run(n) {
      for (let i = 0; i < n; i++) audit.access(accessEvent(details))
    },
    done: () => audit.flush(),
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

interface Figures {
  /** Wall-clock events per second. */
  rate: number
  /** CPU microseconds per event, all threads. */
  cpu: number
}

async function measure(cases: Case[], events: number, rounds: number): Promise<Map<string, Figures>> {
  const rates = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  const cpus = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  for (const c of cases) {
    c.run(Math.min(5000, events)) // warm-up
    await c.done()
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const round = await timeRound(c, events)
      rates.get(c.name)!.push(round.rate)
      cpus.get(c.name)!.push(round.cpu)
    }
  }
  return new Map(
    cases.map((c) => [c.name, { rate: median(rates.get(c.name)!), cpu: median(cpus.get(c.name)!) }]),
  )
}

function sealCases(): Case[] {
  const record = () => ({
    '@timestamp': new Date().toISOString(),
    'log.level': 'info',
    message: 'patient-record-read',
    'ecs.version': '8.17.0',
    event: {
      kind: 'event',
      category: ['database'],
      type: ['access'],
      action: 'patient-record-read',
      outcome: 'success',
      id: '0b9c8f3e-2d1a-4f5b-8c7d-6e5f4a3b2c1d',
      reason: 'chart review before rounds',
    },
    service: { name: 'bench', node: { name: 'bench-0' }, version: '1.0.0', environment: 'bench' },
    user: actor,
    audit: { purpose: 'treatment', resource: { type: 'patient', id: 'psn_3kq9XbT0aLw2' } },
  })
  const keyed = createChain({
    service: { name: 'b', instance: 'i' },
    verifierKey: publicKeyPem,
    checkpointIntervalSeconds: 0,
  })
  const unkeyed = createChain({ service: { name: 'b', instance: 'i' }, checkpointIntervalSeconds: 0 })
  let sink = 0
  const mk = (name: string, f: (r: Record<string, unknown>) => string): Case => ({
    name,
    run(n) {
      for (let i = 0; i < n; i++) sink += f(record()).length
    },
    done: async () => {
      if (sink < 0) console.log(sink)
    },
  })
  return [
    mk('JSON.stringify', (r) => JSON.stringify(r)),
    mk('seal (keyed)', (r) => keyed.seal(r)),
    mk('seal (unkeyed)', (r) => unkeyed.seal(r)),
  ]
}

async function main() {
  console.log(
    `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${EVENTS} events x ${ROUNDS} rounds (median)`,
  )
  for (const event of EVENTS_MEASURED) {
    const d = event.details
    const logger = await measure(
      [
        loggerCase('integrity off', d, { enabled: false }),
        loggerCase('on, keyed, sealing thread (default)', d, { enabled: true, verifierKey: publicKeyPem }),
        loggerCase('on, unkeyed, sealing thread', d, { enabled: true }),
        loggerCase('on, keyed, inline', d, { enabled: true, verifierKey: publicKeyPem, thread: 'inline' }),
        loggerCase('on, unkeyed, inline', d, { enabled: true, thread: 'inline' }),
      ],
      EVENTS,
      ROUNDS,
    )
    const off = logger.get('integrity off')!
    console.log(`\ncreateAuditLogger -> /dev/null, audit.access(), ${event.name}-field event`)
    console.log(
      '| case | events/s | vs off | CPU µs/event (all threads) | CPU vs off |\n|---|---:|---:|---:|---:|',
    )
    for (const [name, v] of logger)
      console.log(
        `| ${name} | ${Math.round(v.rate).toLocaleString('en')} | ${(v.rate / off.rate).toFixed(2)} | ${v.cpu.toFixed(1)} | ${(off.cpu / v.cpu).toFixed(2)} |`,
      )
  }

  const seal = await measure(sealCases(), EVENTS, ROUNDS)
  const base = seal.get('JSON.stringify')!.rate
  console.log('\nserialisation alone, inline (same finished record)')
  console.log('| case | records/s | vs JSON.stringify |\n|---|---:|---:|')
  for (const [name, v] of seal)
    console.log(`| ${name} | ${Math.round(v.rate).toLocaleString('en')} | ${(v.rate / base).toFixed(2)} |`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
