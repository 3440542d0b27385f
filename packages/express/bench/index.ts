/**
 * Express benchmark (issue 3): autocannon against a hello-world route on
 *   bare Express 5 | Express + pino-http (defaults) | Express + auditMiddleware (defaults, integrity chain on)
 * and, for reference, auditMiddleware with the integrity chain off, the middleware alone (the
 * logger writes nothing), and the floor Node itself sets (floor-als-close and floor-pino-line run by default; all
 * of them: BENCH_CASES=bare,floor-als,floor-close,floor-als-close,floor-pino-line):
 *   floor-als        bare + a middleware that only does `als.run({}, next)` (node:async_hooks AsyncLocalStorage)
 *   floor-close      bare + a middleware that only adds a `res.on('close')` listener
 *   floor-als-close  both: the least any middleware can do that runs the request in an audit context
 *                    and learns when the response is over
 *   floor-pino-line  bare + one plain pino line per request (no redaction, context or chain): the
 *                    least any request log costs (runs by default)
 *   floor-als-close-pino-line  the two above together: the least any middleware that meets issue 3's
 *                    context requirement and writes a line per request can cost (runs by default)
 *   floor-als-close-audit-line  the same with a line as long as the audit line (~830 bytes, a filler
 *                    field): what writing a line of the audit record's size costs
 *   floor-als-close-audit-line-sha256  and each line linked to the previous one by one SHA-256: the
 *                    least any middleware with a per-record hash chain over audit-sized lines costs
 * Each server runs in its own child process (stdout -> /dev/null), autocannon in this one, so they
 * never share an event loop. Rounds are interleaved because the machine is shared; the best round
 * of each case is reported (noise only ever slows a case down).
 *
 * Run: npm run bench (root: builds, then runs every bench) or, after `npm run build`,
 *      npm run bench -w @boundary-audit/express
 * Env: BENCH_SECONDS (default 10), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS (50), BENCH_PIPELINING (4),
 *      BENCH_CPU_PROF=DIR: each server writes a V8 CPU profile (node --cpu-prof) of its whole run into DIR
 */
import { fork } from 'node:child_process'
import { existsSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 4)
const CASES = (
  process.env.BENCH_CASES ??
  'bare,floor-als-close,floor-pino-line,floor-als-close-pino-line,pino-http,boundary-audit,boundary-audit-no-chain,boundary-audit-middleware-only'
).split(',')

const CPU_PROF = process.env.BENCH_CPU_PROF
const serverFile = fileURLToPath(new URL('./server.ts', import.meta.url))
for (const pkg of ['core', 'express']) {
  if (!existsSync(fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url)))) {
    console.error(
      `bench: packages/${pkg}/dist is missing; run \`npm run build\` first (npm run bench at the root does).`,
    )
    process.exit(2)
  }
}

async function startServer(kase: string) {
  const devnull = openSync('/dev/null', 'w')
  const child = fork(serverFile, [kase], {
    // No `source` condition: the servers load the built dist of core and express.
    execArgv: [
      ...(CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${kase}-${Date.now()}.cpuprofile`]
        : []),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', devnull, 'inherit', 'ipc'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: any) => resolve(m.port))
    child.once('exit', (code) => reject(new Error(`${kase} server exited with ${code}`)))
  })
  const ask = (what: string) =>
    new Promise<any>((resolve) => {
      child.once('message', resolve)
      child.send(what)
    })
  return {
    url: `http://127.0.0.1:${port}/hello`,
    begin: () => child.send('begin'),
    cpuMicros: async () => (await ask('cpu')).cpuMicros as number,
    redis: () => ask('redis') as Promise<RedisFigures>,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.send('stop')
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      }),
  }
}

/** What Redis did during a monitor-redis case (monitor-cases.ts). */
interface RedisFigures {
  calls: number
  accessesPerCall: number
  redisUsPerReq: number
}

interface Result {
  rps: number
  p99: number
  errors: number
  /** Server CPU time (user + system) per request, in microseconds. */
  cpuPerReq: number
  redis?: RedisFigures
}

async function measure(kase: string): Promise<Result> {
  const server = await startServer(kase)
  try {
    // warm-up: JIT, connection setup
    await autocannon({ url: server.url, connections: CONNECTIONS, pipelining: PIPELINING, duration: 2 })
    server.begin()
    const r = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
      duration: SECONDS,
    })
    const cpu = await server.cpuMicros()
    const redis = kase === 'monitor-redis' ? await server.redis() : undefined
    return {
      redis,
      rps: r.requests.average,
      p99: r.latency.p99,
      errors: r.errors + r.non2xx,
      cpuPerReq: cpu / r.requests.total,
    }
  } finally {
    await server.stop()
  }
}

const best = new Map<string, Result>()
const redisRounds: RedisFigures[] = []
const cpu = new Map<string, number[]>()
const all = new Map<string, number[]>()
for (let round = 1; round <= ROUNDS; round++) {
  for (const kase of CASES) {
    const r = await measure(kase)
    all.set(kase, [...(all.get(kase) ?? []), Math.round(r.rps)])
    cpu.set(kase, [...(cpu.get(kase) ?? []), r.cpuPerReq])
    if (!best.has(kase) || r.rps > best.get(kase)!.rps) best.set(kase, r)
    if (r.redis) redisRounds.push(r.redis)
    console.error(
      `round ${round} ${kase}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, ${r.cpuPerReq.toFixed(1)} CPU us/req, errors ${r.errors}`,
    )
  }
}

const bare = best.get('bare')?.rps
const pinoHttp = best.get('pino-http')?.rps
console.log(
  `\nExpress ${createRequire(import.meta.url)('express/package.json').version}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), ` +
    `autocannon ${CONNECTIONS} connections x ${PIPELINING} pipelined, ${SECONDS} s per case, best of ${ROUNDS} interleaved rounds\n`,
)
// Lowest CPU per request over the rounds (contention only ever adds to it). Ratios of CPU per
// request are what throughput ratios would be with a core to itself.
const minCpu = (k: string) => Math.min(...(cpu.get(k) ?? [Number.NaN]))
console.log(
  '| case | req/s (best) | req/s per round | p99 ms | vs bare | vs pino-http | server CPU us/req (min) | CPU: vs bare | CPU: vs pino-http |',
)
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|')
for (const kase of CASES) {
  const r = best.get(kase)!
  const vsBare = bare ? (r.rps / bare).toFixed(2) : '-'
  const vsPino = pinoHttp ? (r.rps / pinoHttp).toFixed(2) : '-'
  const c = minCpu(kase)
  const cBare = CASES.includes('bare') ? (minCpu('bare') / c).toFixed(2) : '-'
  const cPino = CASES.includes('pino-http') ? (minCpu('pino-http') / c).toFixed(2) : '-'
  console.log(
    `| ${kase} | ${Math.round(r.rps)} | ${all.get(kase)!.join(', ')} | ${r.p99} | ${vsBare} | ${vsPino} | ${c.toFixed(1)} | ${cBare} | ${cPino} |`,
  )
}
if (redisRounds.length > 0) {
  console.log(
    `\nmonitor-redis per round: ${redisRounds.map((x) => x.accessesPerCall.toFixed(1)).join(', ')} accesses per script call; redis-server ${redisRounds.map((x) => x.redisUsPerReq.toFixed(1)).join(', ')} CPU us per request (INFO cpu: every client of that Redis)`,
  )
}
