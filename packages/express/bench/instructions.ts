/**
 * Express benchmark, counted in CPU instructions instead of seconds (issue 3).
 *
 * Wall-clock req/s on a shared 2-vCPU VM moved by 25% and more between identical runs, which hides
 * the differences that matter here. Valgrind's callgrind counts the instructions the server process
 * executes (every thread: event loop, sealing thread, GC, libuv), whatever else the machine is
 * doing; with V8's --predictable (no concurrent compiler or GC threads, fixed seeds) and a fixed
 * young generation, two runs of one case agree within 0.1%. Instructions are not time (cache misses
 * and syscalls are not in them) but they rank cases the way CPU time does, repeatably.
 *
 * Each case runs bench/server.ts (the same servers as bench/index.ts) under callgrind, bundled from
 * the packages' sources with one change: the writers' hand-over delay (writer/batch.ts, 10-50 ms) is
 * stretched to 1 s, because under valgrind everything runs ~100x slower and a 10 ms batch would hold
 * one record instead of the dozens it holds at full speed. A warm-up of 4N requests (JIT), then
 * callgrind is zeroed, N requests are sent (autocannon, 10 connections, no pipelining) and the
 * count is dumped: instructions per request = count / N.
 *
 * The privacy monitor's Redis case (monitor-redis) gathers its accesses for 1 s instead of 2 ms
 * (BENCH_REDIS_BATCH_MS; timeout BENCH_REDIS_TIMEOUT_MS, 60 s) for the same reason: at full speed a
 * script call carries a hundred accesses or more (bench/index.ts prints how many), not one.
 * Needs valgrind (callgrind_control). Takes ~1-2 min per case, two cases at a time.
 * Run: npm run bench:instructions -w @boundary-audit/express
 * Env: BENCH_REQUESTS (default 6000), BENCH_CASES (comma-separated, default below), BENCH_TIMEOUT
 * (seconds a response may take, default 120), BENCH_KEEP=1 (keep the callgrind files to annotate)
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleServer, countAndReport, requireValgrind } from '../../../scripts/callgrind-server.mjs'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000)
// Seconds a response may take (under valgrind on a busy machine autocannon's 10 s is not enough).
const TIMEOUT = Number(process.env.BENCH_TIMEOUT ?? 120)
const CASES = (
  process.env.BENCH_CASES ??
  'bare,floor-als-close,floor-als-close-pino-line,floor-als-close-audit-line,floor-als-close-audit-line-sha256,pino-http,boundary-audit,boundary-audit-no-chain,boundary-audit-middleware-only'
).split(',')

requireValgrind('bench:instructions')

const here = fileURLToPath(new URL('.', import.meta.url))
const { bundle, work } = await bundleServer({
  entry: join(here, 'server.ts'),
  external: ['express', 'pino', 'pino-http', 'sonic-boom', 'ioredis', '@opentelemetry/*'],
})

// BENCH_KEEP=1 keeps the callgrind files for callgrind_annotate (the path is printed).
await countAndReport({
  bundle,
  cases: CASES,
  work,
  path: '/hello',
  requests: REQUESTS,
  timeout: TIMEOUT,
  anchor: 'pino-http',
  keep: process.env.BENCH_KEEP === '1',
  env: {
    BENCH_REDIS_BATCH_MS: process.env.BENCH_REDIS_BATCH_MS ?? '1000',
    BENCH_REDIS_TIMEOUT_MS: process.env.BENCH_REDIS_TIMEOUT_MS ?? '60000',
  },
})
