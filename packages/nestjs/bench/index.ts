/**
 * NestJS benchmark: autocannon against `GET /hello/:id` on
 *   bare Nest 12 (Express platform) | Nest + BoundaryAuditModule (defaults, integrity chain on)
 *   | Nest + BoundaryAuditModule with the chain off.
 * Each server runs in its own child process (stdout -> /dev/null), autocannon in this one. Rounds
 * are interleaved because the machine is shared; the best round of each case is reported.
 *
 * Run: npm run bench -w @boundary-audit/nestjs
 * Env: BENCH_SECONDS (default 10), BENCH_ROUNDS (2), BENCH_CONNECTIONS (100), BENCH_PIPELINING (10)
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
const CASES = (process.env.BENCH_CASES ?? 'bare,boundary-audit,boundary-audit-no-chain').split(',')
const serverFile = fileURLToPath(new URL('./server.ts', import.meta.url))

async function startServer(kase: string) {
  const child = fork(serverFile, [kase], {
    // The `source` condition loads core and this package from src (no build needed); tsx compiles
    // them once at start-up, so the measured steady state is the same code as the dist.
    execArgv: ['--conditions=source', '--import', 'tsx'],
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

const best = new Map<string, { rps: number; p99: number; cpuPerReq: number }>()
for (let round = 0; round < ROUNDS; round++) {
  for (const kase of CASES) {
    const server = await startServer(kase)
    await run(server.url, 2) // warm-up: JIT, tsx compilation, connection pools
    server.begin()
    const r = await run(server.url, SECONDS)
    const cpu = await server.cpuMicros()
    await server.stop()
    const rps = r.requests.average
    const entry = { rps, p99: r.latency.p99, cpuPerReq: cpu / Math.max(1, r.requests.total) }
    const prev = best.get(kase)
    if (!prev || entry.rps > prev.rps) best.set(kase, entry)
    console.error(
      `round ${round + 1} ${kase}: ${rps.toFixed(0)} req/s, p99 ${r.latency.p99} ms, non2xx ${r.non2xx}`,
    )
  }
}

const base = best.get('bare')
console.log(
  `\nNest 12 + Express 5, ${os.cpus().length} CPUs, node ${process.version}, ${SECONDS}s x ${ROUNDS} rounds, ${CONNECTIONS} connections, pipelining ${PIPELINING}; best round per case`,
)
console.log('case                      req/s    vs bare   p99 ms   CPU µs/req')
for (const [kase, e] of best) {
  const rel = base ? `${((e.rps / base.rps - 1) * 100).toFixed(1)}%` : ''
  console.log(
    `${kase.padEnd(24)} ${e.rps.toFixed(0).padStart(7)} ${rel.padStart(9)} ${String(e.p99).padStart(8)} ${e.cpuPerReq.toFixed(1).padStart(11)}`,
  )
}
