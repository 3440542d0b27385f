/**
 * Integrity benchmark (issue 7): events/s through createAuditLogger to /dev/null with the chain
 * off, on and keyed (HMAC, evolving key, sealed to a verifier key), and on but unkeyed (SHA-256),
 * in this one process. Rounds are interleaved (off, keyed, unkeyed, off, ...) because the machine is
 * shared and noisy; the median round of each is reported, and keyed/off is the figure the issue
 * asks for (target >= 0.8). A second table isolates the chain: seal() against JSON.stringify of the
 * same finished record.
 *
 * Run: npx tsx packages/core/bench/integrity.ts   (BENCH_EVENTS, BENCH_ROUNDS to change the size)
 */
import os from 'node:os'
import { createAuditLogger } from '../src/index'
import { createChain, generateVerifierKeyPair } from '../src/integrity/index'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const { publicKeyPem } = generateVerifierKeyPair()

const actor = {
  id: 'CiQwOGE4Njg0Yi1kYjg4',
  roles: ['clinician', 'ward-7'],
  domain: 'https://dex.example.org',
}

type Case = { name: string; run: (n: number) => void; done: () => Promise<void> }

function loggerCase(name: string, integrity: { enabled: boolean; verifierKey?: string }): Case {
  const audit = createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench', instance: 'bench-0' },
    destination: '/dev/null',
    integrity: { ...integrity, checkpointIntervalSeconds: 0 },
  })
  return {
    name,
    run(n) {
      for (let i = 0; i < n; i++) {
        audit.access({
          action: 'patient-record-read',
          outcome: 'success',
          actor,
          resource: { type: 'patient', id: '8c1d2f6e-4b1a-4c55-9a57-0d7b7c1a1f20' },
          purpose: 'treatment',
          reason: 'chart review before rounds',
        })
      }
    },
    done: () => audit.flush(),
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function measure(cases: Case[], events: number, rounds: number): Promise<Map<string, number>> {
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  for (const c of cases) {
    c.run(Math.min(5000, events)) // warm-up
    await c.done()
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const t0 = process.hrtime.bigint()
      c.run(events)
      await c.done()
      const ns = Number(process.hrtime.bigint() - t0)
      results.get(c.name)!.push(events / (ns / 1e9))
    }
  }
  return new Map([...results].map(([k, v]) => [k, median(v)]))
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
  const logger = await measure(
    [
      loggerCase('integrity off', { enabled: false }),
      loggerCase('integrity on, keyed', { enabled: true, verifierKey: publicKeyPem }),
      loggerCase('integrity on, unkeyed', { enabled: true }),
    ],
    EVENTS,
    ROUNDS,
  )
  const off = logger.get('integrity off')!
  console.log('\ncreateAuditLogger -> /dev/null, audit.access()')
  console.log('| case | events/s | vs off |\n|---|---:|---:|')
  for (const [name, v] of logger)
    console.log(`| ${name} | ${Math.round(v).toLocaleString('en')} | ${(v / off).toFixed(2)} |`)

  const seal = await measure(sealCases(), EVENTS, ROUNDS)
  const base = seal.get('JSON.stringify')!
  console.log('\nserialisation alone (same finished record)')
  console.log('| case | records/s | vs JSON.stringify |\n|---|---:|---:|')
  for (const [name, v] of seal)
    console.log(`| ${name} | ${Math.round(v).toLocaleString('en')} | ${(v / base).toFixed(2)} |`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
