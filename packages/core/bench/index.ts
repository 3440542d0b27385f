/**
 * Core benchmark (issue 2, and issue 18's chain on/off target): the same ten-field event through
 *   (a) plain pino, (b) pino with ten `redact` paths, (c) this core with its default HIPAA policy and
 *   the chain off, (c') the chain on, unkeyed (the defaults), (c'') the chain on, keyed,
 * all writing to /dev/null in this one process (pino and the core with the chain off through
 * SonicBoom; the chain on through its sealing thread), each round waiting until every line is
 * handed to the OS.
 *
 * The machine is shared and noisy, and one round of a case is a fraction of a second, so:
 * - rounds are interleaved: in each round the core's three cases run back to back (so the on/off
 *   ratios compare runs a fraction of a second apart), and the order rotates every round, of the
 *   groups and within them (c c' c'', then c' c'' c, ...): no case always follows the same one,
 *   whose garbage its round may end up collecting;
 * - the chain's cost is read as a ratio within each round (off's CPU per event / on's), reported as
 *   the median of the rounds with its quartiles and range, and as the pooled ratio (all rounds' CPU
 *   added up, every collection counted wherever it fell);
 * - CPU is process.cpuUsage() of the whole process (user + system, every thread: the sealing thread,
 *   SonicBoom's writes, V8's helpers), per event; events/s is wall clock from the first event of a
 *   round to its last line written.
 * Linux: where the CPU went, by thread (/proc/self/task/<tid>/schedstat), median per case.
 *
 * BENCH_BASELINE=<a built dist/ directory> adds (c), (c'), (c'') of that build as cases of their own,
 * interleaved with this one's in the same rounds: before and after, side by side.
 *
 * Run: npm run bench -w @boundary-audit/core (a script, not a test), or from the repo root
 *   node scripts/node-versions.mjs run 24 -- npx tsx packages/core/bench/index.ts
 *   BENCH_EVENTS (events a case a round, default 20,000), BENCH_ROUNDS (default 15).
 */
import os from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
// The package by its name: the built dist at run time, as users run it (running src through tsx
// adds esbuild helpers per function that would inflate the figures); src for the type check.
import * as core from '@boundary-audit/core'
import pino from 'pino'
import { type Case, type Round, type Thread, timeRound } from './round'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const BASELINE = process.env.BENCH_BASELINE

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

type Core = Pick<typeof core, 'createAuditLogger'>

function coreCase(lib: Core, name: string, integrity: boolean, verifierKey?: string): Case {
  const audit = lib.createAuditLogger({
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
    done: async () => {
      await audit.flush()
      // Every event written: a logger that dropped some (its buffer full) would look cheaper.
      const stats = audit.stats()
      if (stats.dropped > 0 || stats.written !== stats.accepted) {
        throw new Error(`${name}: ${stats.dropped} dropped, ${stats.accepted - stats.written} unwritten`)
      }
    },
  }
}

const OFF = '(c) core, default policy, integrity off'
const UNKEYED = "(c') core, defaults (integrity on, unkeyed)"
const KEYED = "(c'') core, integrity on, keyed (verifier key)"

function coreCases(lib: Core, suffix: string, verifierKey: string): Case[] {
  return [
    coreCase(lib, OFF + suffix, false),
    coreCase(lib, UNKEYED + suffix, true),
    coreCase(lib, KEYED + suffix, true, verifierKey),
  ]
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
/** The value at fraction q of the sorted values (nearest rank). */
const quantile = (xs: number[], q: number) => sorted(xs)[Math.round((xs.length - 1) * q)]!
const median = (xs: number[]) => quantile(xs, 0.5)
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const f2 = (x: number) => x.toFixed(2)

/** A per-round ratio: median [quartiles] (range), and the pooled ratio. */
function spread(ratios: number[], pooled: number): string {
  return `median ${f2(median(ratios))} [${f2(quantile(ratios, 0.25))}-${f2(quantile(ratios, 0.75))}] (${f2(Math.min(...ratios))}-${f2(Math.max(...ratios))}), pooled ${f2(pooled)}`
}

async function main() {
  const verifierKey = core.generateVerifierKeyPair().publicKeyPem
  // Groups of cases: pino's two, and the core's off / on unkeyed / on keyed (and the baseline's).
  // A round runs every group, the cases of a group back to back, so that the on/off ratios compare
  // runs a fraction of a second apart; the order of the groups and within each rotates every round.
  const groups: Case[][] = [
    [pinoCase('(a) pino', {}), pinoCase('(b) pino + 10 redact paths', { redact: redactPaths })],
    coreCases(core, '', verifierKey),
  ]
  if (BASELINE) {
    const base: Core = await import(pathToFileURL(resolve(BASELINE, 'index.js')).href)
    groups.push(coreCases(base, ' [baseline]', verifierKey))
  }
  const cases = groups.flat()
  // Warm up every case so the JIT has seen all of them before timing.
  for (const c of cases) {
    c.run(5_000)
    await c.done()
  }
  const rounds = new Map<string, Round[]>(cases.map((c) => [c.name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (let g = 0; g < groups.length; g++) {
      const group = groups[(r + g) % groups.length]!
      for (let i = 0; i < group.length; i++) {
        const c = group[(r + i) % group.length]!
        rounds.get(c.name)!.push(await timeRound(c, EVENTS))
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
  }

  console.log(
    `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )}, ${EVENTS} events x ${ROUNDS} rounds (rotating order), median round${BASELINE ? `; baseline ${BASELINE}` : ''}`,
  )
  console.log('| case | events / CPU-s | µs CPU / event | main / sealing / other threads | events/s (wall) |')
  console.log('|---|---:|---:|---|---:|')
  for (const [name, rs] of rounds) {
    const cpu = median(rs.map((x) => x.cpu))
    const by = (t: Thread) => median(rs.map((x) => x.threads[t])).toFixed(1)
    console.log(
      `| ${name} | ${Math.round(1e6 / cpu).toLocaleString('en-US')} | ${cpu.toFixed(1)} | ${by('main')} / ${by('sealing')} / ${by('other')} | ${Math.round(median(rs.map((x) => x.rate))).toLocaleString('en-US')} |`,
    )
  }
  const b = median(rounds.get('(b) pino + 10 redact paths')!.map((x) => x.cpu))
  console.log(`\nCPU c/b = ${f2(b / median(rounds.get(OFF)!.map((x) => x.cpu)))}`)

  console.log('\nintegrity on vs off, per round (off / on for CPU per event, on / off for events/s):')
  const suffixes = BASELINE ? ['', ' [baseline]'] : ['']
  for (const suffix of suffixes) {
    const off = rounds.get(OFF + suffix)!
    for (const on of [UNKEYED, KEYED]) {
      const rs = rounds.get(on + suffix)!
      const cpu = rs.map((x, i) => off[i]!.cpu / x.cpu)
      const rate = rs.map((x, i) => x.rate / off[i]!.rate)
      const pooledCpu = sum(off.map((x) => x.cpu)) / sum(rs.map((x) => x.cpu))
      // Pooled events/s: all events over all wall time, i.e. the harmonic means of the rates.
      const pooledRate = sum(off.map((x) => 1 / x.rate)) / sum(rs.map((x) => 1 / x.rate))
      const label = `${on.startsWith("(c'')") ? 'keyed' : 'unkeyed'}${suffix}`
      console.log(`${label.padEnd(20)} CPU ${spread(cpu, pooledCpu)}`)
      console.log(`${''.padEnd(20)} events/s ${spread(rate, pooledRate)}`)
    }
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
