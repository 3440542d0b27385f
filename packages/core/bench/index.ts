/**
 * Core benchmark (issue 2): the same ten-field event through
 *   (a) plain pino, (b) pino with ten `redact` paths, (c) this core with its default HIPAA policy,
 * all writing to /dev/null in this one process. Rounds are interleaved (a b c a b c ...) because the
 * machine is shared and noisy; the median round is reported.
 *
 * Run: npm run bench -w @boundary-audit/core   (a script, not a test)
 */
import os from 'node:os'
// The package by its name: the built dist at run time, as users run it (running src through tsx
// adds esbuild helpers per function that would inflate the figures); src for the type check.
import { createAuditLogger, generateVerifierKeyPair } from '@boundary-audit/core'
import pino from 'pino'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)

// Ten fields of a typical record-access event, with realistic (non-PHI) values.
const actor = {
  id: 'CiQwOGE4Njg0Yi1kYjg4',
  roles: ['clinician', 'ward-7'],
  domain: 'https://dex.example.org',
}
const fields = {
  action: 'patient-record-read',
  outcome: 'success',
  user: actor,
  resource: { type: 'patient', id: '8c1d2f6e-4b1a-4c55-9a57-0d7b7c1a1f20' },
  requestId: 'req-5b7f1c9a',
  clientIp: '10.2.3.4',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
  purpose: 'treatment',
  reason: 'chart review before rounds',
  durationMs: 12.5,
}

const redactPaths = [
  'resource.id',
  'user.email',
  'patient.ssn',
  'patient.dob',
  'patient.email',
  'patient.phone',
  'patient.address',
  'patient.name',
  'req.headers.authorization',
  'req.headers.cookie',
]

type Case = { name: string; run: (n: number) => void; done: () => Promise<void> }

function pinoCase(name: string, opts: pino.LoggerOptions): Case {
  const dest = pino.destination({ dest: '/dev/null', sync: false })
  const logger = pino(opts, dest)
  return {
    name,
    run(n) {
      for (let i = 0; i < n; i++) logger.info(fields, 'patient-record-read')
    },
    done: () => drained(dest),
  }
}

/**
 * Resolves once SonicBoom has handed everything to the OS. pino's own flush(cb) returns at once when
 * minLength is 0 (its default), which would time only the enqueueing; both sides must pay for the I/O.
 */
function drained(dest: unknown): Promise<void> {
  const boom = dest as { _len: number; _writing: boolean }
  return new Promise((resolve) => {
    const check = () => (boom._len === 0 && !boom._writing ? resolve() : setImmediate(check))
    check()
  })
}

function coreCase(name: string, integrity: boolean, verifierKey?: string): Case {
  const audit = createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench' },
    destination: '/dev/null',
    integrity: { enabled: integrity, checkpointIntervalSeconds: 0, verifierKey },
  })
  return {
    name,
    run(n) {
      for (let i = 0; i < n; i++) {
        audit.access({
          action: fields.action,
          outcome: 'success',
          actor,
          resource: fields.resource,
          purpose: fields.purpose,
          reason: fields.reason,
          details: {
            requestId: fields.requestId,
            clientIp: fields.clientIp,
            userAgent: fields.userAgent,
            durationMs: fields.durationMs,
          },
        })
      }
    },
    done: () => audit.flush(),
  }
}

async function main() {
  const cases: Case[] = [
    pinoCase('(a) pino', {}),
    pinoCase('(b) pino + 10 redact paths', { redact: redactPaths }),
    coreCase('(c) core, default policy, integrity off', false),
    coreCase("(c') core, defaults (integrity on, unkeyed)", true),
    coreCase("(c'') core, integrity on, keyed (verifier key)", true, generateVerifierKeyPair().publicKeyPem),
  ]
  // Warm up every case so the JIT has seen all of them before timing.
  for (const c of cases) {
    c.run(5_000)
    await c.done()
  }
  const results = new Map<string, number[]>()
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      // CPU time of this process (user + system, writer threads included) rather than wall time:
      // other work on this shared machine stretches wall time, not our CPU seconds.
      const cpu0 = process.cpuUsage()
      c.run(EVENTS)
      await c.done()
      const cpu = process.cpuUsage(cpu0)
      const secs = (cpu.user + cpu.system) / 1e6
      results.set(c.name, [...(results.get(c.name) ?? []), EVENTS / secs])
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  console.log(
    `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, ${EVENTS} events x ${ROUNDS} rounds, median`,
  )
  const m = new Map([...results].map(([k, v]) => [k, median(v)]))
  for (const [name, eps] of m)
    console.log(
      `${name.padEnd(46)} ${Math.round(eps).toLocaleString('en-US').padStart(10)} events/CPU-s  (${(1e6 / eps).toFixed(1)} µs CPU/event)`,
    )
  const b = m.get('(b) pino + 10 redact paths')!
  const c = m.get('(c) core, default policy, integrity off')!
  const c2 = m.get("(c') core, defaults (integrity on, unkeyed)")!
  const c3 = m.get("(c'') core, integrity on, keyed (verifier key)")!
  console.log(
    `ratio c/b = ${(c / b).toFixed(2)}   integrity on/off: unkeyed ${(c2 / c).toFixed(2)}, keyed ${(c3 / c).toFixed(2)}`,
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
