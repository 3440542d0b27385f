/**
 * NestJS benchmark: autocannon against `GET /hello/:id` on
 *   bare Nest 12 (Express platform) | Nest + nestjs-pino (`LoggerModule.forRoot()`, its defaults: the
 *   anchor) | Nest + BoundaryAuditModule (defaults, integrity chain on) | the same with the chain off.
 * Each server runs in its own child process (stdout -> /dev/null), autocannon in this one. Rounds
 * are interleaved because the machine is shared; the best round of each case is reported.
 *
 * Two figures per case: req/s (best round) and the server's CPU time per request (lowest round:
 * contention only ever adds to it), which is what the ratios are taken on when the machine is shared.
 *
 * Run: npm run bench -w @boundary-audit/nestjs (after npm run build; the servers load the built dist)
 * Env: BENCH_SECONDS (default 10), BENCH_ROUNDS (2), BENCH_CONNECTIONS (100), BENCH_PIPELINING (10),
 * BENCH_CASES (comma-separated, default below; floor cases in bench/server.ts), BENCH_NODE_FLAGS
 * (added to every server's node flags, e.g. `--single-threaded-gc --max-semi-space-size=16`, the GC
 * settings of the instruction counts; Node refuses such V8 flags in NODE_OPTIONS)
 */
import { fork } from 'node:child_process'
import { openSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100)
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 10)
const CASES = (process.env.BENCH_CASES ?? 'bare,nestjs-pino,boundary-audit,boundary-audit-no-chain').split(
  ',',
)
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
const serverFile = fileURLToPath(new URL('./server.ts', import.meta.url))

async function startServer(kase: string) {
  const child = fork(serverFile, [kase], {
    // No `source` condition: core and this package load from their built dist, as users run them
    // (tsx would transpile src with esbuild's keepNames, a defineProperty per closure created).
    execArgv: ['--import', 'tsx', ...NODE_FLAGS],
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit', 'ipc'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: any) => resolve(m.port))
    child.once('exit', (code) => reject(new Error(`${kase} server exited with ${code}`)))
  })
  const ask = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m: any) => resolve(m.cpuMicros))
      child.send('cpu')
    })
  return {
    url: `http://127.0.0.1:${port}/hello/42`,
    begin: () => child.send('begin'),
    cpuMicros: ask,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.send('stop')
      }),
  }
}

function run(url: string, duration: number) {
  return autocannon({ url, connections: CONNECTIONS, pipelining: PIPELINING, duration })
}

const best = new Map<string, { rps: number; p99: number }>()
const minCpu = new Map<string, number>()
for (let round = 0; round < ROUNDS; round++) {
  for (const kase of CASES) {
    const server = await startServer(kase)
    await run(server.url, 2) // warm-up: JIT, tsx compilation, connection pools
    server.begin()
    const r = await run(server.url, SECONDS)
    const cpu = await server.cpuMicros()
    await server.stop()
    const rps = r.requests.average
    const cpuPerReq = cpu / Math.max(1, r.requests.total)
    const prev = best.get(kase)
    if (!prev || rps > prev.rps) best.set(kase, { rps, p99: r.latency.p99 })
    minCpu.set(kase, Math.min(minCpu.get(kase) ?? Number.POSITIVE_INFINITY, cpuPerReq))
    console.error(
      `round ${round + 1} ${kase}: ${rps.toFixed(0)} req/s, p99 ${r.latency.p99} ms, ${cpuPerReq.toFixed(1)} CPU µs/req, non2xx ${r.non2xx}`,
    )
  }
}

const base = best.get('bare')
const anchor = best.get('nestjs-pino')
const cpuOf = (k: string) => minCpu.get(k) ?? Number.NaN
console.log(
  `\nNest 12 + Express 5, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}${NODE_FLAGS.length > 0 ? ` ${NODE_FLAGS.join(' ')}` : ''}, ${SECONDS} s x ${ROUNDS} rounds, ${CONNECTIONS} connections, pipelining ${PIPELINING}; req/s: best round, CPU: lowest round\n`,
)
console.log(
  '| case | req/s | vs bare | vs nestjs-pino | p99 ms | server CPU µs/req | CPU: nestjs-pino / case |',
)
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const [kase, e] of best) {
  const vsBare = base ? (e.rps / base.rps).toFixed(2) : '-'
  const vsPino = anchor ? (e.rps / anchor.rps).toFixed(2) : '-'
  const cpuVsPino = anchor ? (cpuOf('nestjs-pino') / cpuOf(kase)).toFixed(2) : '-'
  console.log(
    `| ${kase} | ${e.rps.toFixed(0)} | ${vsBare} | ${vsPino} | ${e.p99} | ${cpuOf(kase).toFixed(1)} | ${cpuVsPino} |`,
  )
}
