/**
 * Nest benchmark counted in CPU instructions instead of seconds: the servers of bench/index.ts
 * (bench/server.ts) under valgrind's callgrind, bundled from the packages' sources. Repeatable
 * whatever else the shared machine does (see scripts/callgrind-server.mjs and the Express package's
 * bench/instructions.ts for the method); instructions are not time, but rank cases as CPU time does.
 *
 * Needs valgrind. Takes ~2 min per case, two cases at a time.
 * Run: npm run bench:instructions -w @boundary-audit/nestjs
 * Env: BENCH_REQUESTS (default 3000), BENCH_CASES (comma-separated, default below; the floor cases
 * floor-als-close-audit-line-sha256 and nestjs-pino-audit-line-sha256 are in bench/server.ts),
 * BENCH_TIMEOUT (seconds a response may take, default 120), BENCH_KEEP=1 (keep the callgrind files
 * to annotate), BENCH_PARALLEL (cases counted side by side, default 2)
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleServer, countAndReport, requireValgrind } from '../../../scripts/callgrind-server.mjs'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000)
const TIMEOUT = Number(process.env.BENCH_TIMEOUT ?? 120)
const CASES = (process.env.BENCH_CASES ?? 'bare,nestjs-pino,boundary-audit,boundary-audit-no-chain').split(
  ',',
)

requireValgrind('bench:instructions')

const here = fileURLToPath(new URL('.', import.meta.url))
const { bundle, work } = await bundleServer({
  entry: join(here, 'server.ts'),
  external: [
    '@nestjs/*',
    'nestjs-pino',
    'pino',
    'pino-http',
    'sonic-boom',
    'express',
    'reflect-metadata',
    'rxjs',
    '@opentelemetry/*',
  ],
})

// BENCH_KEEP=1 keeps the callgrind files for callgrind_annotate (the path is printed).
await countAndReport({
  bundle,
  cases: CASES,
  work,
  path: '/hello/42',
  requests: REQUESTS,
  timeout: TIMEOUT,
  anchor: 'nestjs-pino',
  keep: process.env.BENCH_KEEP === '1',
  title: 'Nest 12 + Express 5',
  parallel: Number(process.env.BENCH_PARALLEL ?? 2),
})
