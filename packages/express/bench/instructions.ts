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
 * the packages' sources with one change: the writers' hand-over delay (writer/batch.ts, 10 ms) is
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
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { build } from 'esbuild'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000)
// Seconds a response may take: under valgrind on a busy machine, autocannon's default 10 s is not
// enough and a request counted as an error stops the run.
const TIMEOUT = Number(process.env.BENCH_TIMEOUT ?? 120)
const CASES = (
  process.env.BENCH_CASES ??
  'bare,floor-als-close,floor-als-close-pino-line,floor-als-close-audit-line,floor-als-close-audit-line-sha256,pino-http,boundary-audit,boundary-audit-no-chain,boundary-audit-middleware-only'
).split(',')
const NODE_FLAGS = ['--predictable', '--max-semi-space-size=16', '--min-semi-space-size=16']

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  console.error('bench:instructions needs valgrind (e.g. apt-get install valgrind)')
  process.exit(2)
}

const here = fileURLToPath(new URL('.', import.meta.url))
// Inside the package (.tmp is git-ignored) so the bundle resolves express, pino... from node_modules.
mkdirSync(join(here, '..', '.tmp'), { recursive: true })
const work = mkdtempSync(join(here, '..', '.tmp', 'instr-'))
const bundle = join(work, 'server.mjs')
await build({
  entryPoints: [join(here, 'server.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  conditions: ['source'],
  // Third-party packages load from node_modules as usual; core and express come from src.
  external: ['express', 'pino', 'pino-http', 'sonic-boom', 'ioredis', '@opentelemetry/*'],
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  outfile: bundle,
  logLevel: 'warning',
  plugins: [
    {
      name: 'stretch-batch-delay',
      setup(b) {
        b.onLoad({ filter: /writer[\\/]batch\.ts$/ }, (args) => {
          const text = readFileSync(args.path, 'utf8')
          const stretched = text.replace('BATCH_DELAY_MS = 10', 'BATCH_DELAY_MS = 1000')
          if (stretched === text) throw new Error('bench: BATCH_DELAY_MS = 10 not found in writer/batch.ts')
          return { contents: stretched, loader: 'ts' }
        })
      },
    },
  ],
})
// The sealing thread's script, where the bundle looks for it (next to itself).
execFileSync('cp', [join(here, '..', '..', 'core', 'dist', 'seal-worker.cjs'), join(work, 'seal-worker.cjs')])

async function count(kase: string): Promise<number> {
  const dir = mkdtempSync(join(work, `${kase}-`))
  const child: ChildProcess = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'cg.out')}`,
      '--smc-check=all-non-file',
      process.execPath,
      ...NODE_FLAGS,
      bundle,
      kase,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      cwd: dir,
      env: {
        ...process.env,
        BENCH_REDIS_BATCH_MS: process.env.BENCH_REDIS_BATCH_MS ?? '1000',
        BENCH_REDIS_TIMEOUT_MS: process.env.BENCH_REDIS_TIMEOUT_MS ?? '60000',
      },
    },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: any) => resolve(m.port))
      child.once('exit', (code) => reject(new Error(`${kase} exited with ${code}: ${stderr.slice(-2000)}`)))
    })
    const url = `http://127.0.0.1:${port}/hello`
    await autocannon({ url, connections: 10, pipelining: 1, amount: 4 * REQUESTS, timeout: TIMEOUT })
    execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' })
    const r = await autocannon({ url, connections: 10, pipelining: 1, amount: REQUESTS, timeout: TIMEOUT })
    execFileSync('callgrind_control', ['--dump=measured', String(child.pid)], { stdio: 'ignore' })
    if (r.errors + r.non2xx > 0) throw new Error(`${kase}: ${r.errors} errors, ${r.non2xx} non-2xx`)
    let total = 0
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8')
      if (!text.includes('measured')) continue
      const m = text.match(/^(?:summary|totals): (\d+)/m)
      if (m) total += Number(m[1])
    }
    if (total === 0) throw new Error(`${kase}: no callgrind dump found`)
    return total / r.requests.total
  } finally {
    child.kill('SIGKILL')
  }
}

const results = new Map<string, number>()
// Two at a time: valgrind runs a process on one core; counts do not depend on what runs beside it.
for (let i = 0; i < CASES.length; i += 2) {
  const pair = CASES.slice(i, i + 2)
  const counts = await Promise.all(pair.map(count))
  pair.forEach((k, j) => {
    results.set(k, counts[j]!)
    console.error(`${k}: ${(counts[j]! / 1000).toFixed(1)} k instructions/request`)
  })
}
// BENCH_KEEP=1 keeps the callgrind files for callgrind_annotate (the path is printed).
if (process.env.BENCH_KEEP === '1') console.error(`callgrind files kept in ${work}`)
else rmSync(work, { recursive: true, force: true })

const bare = results.get('bare')
const pinoHttp = results.get('pino-http')
console.log(
  `\nNode ${process.version}, valgrind callgrind, node ${NODE_FLAGS.join(' ')}, ${REQUESTS} requests after ${4 * REQUESTS} warm-up\n`,
)
console.log('| case | k instructions / request | bare / case | pino-http / case |')
console.log('|---|---:|---:|---:|')
for (const [kase, n] of results) {
  const vsBare = bare ? (bare / n).toFixed(3) : '-'
  const vsPino = pinoHttp ? (pinoHttp / n).toFixed(3) : '-'
  console.log(`| ${kase} | ${(n / 1000).toFixed(1)} | ${vsBare} | ${vsPino} |`)
}
