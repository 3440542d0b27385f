/**
 * Instructions redis-server spends per access on the privacy monitor's script (issue 19), counted
 * by callgrind: repeatable whatever else the machine does, which CPU time on a shared box is not.
 * A redis-server of its own on a spare port runs under valgrind; store-redis.ts (the real store,
 * the real script) feeds it: every actor's windows filled first (200 actors x 100 patients by
 * default, as in the Express bench), then the counters are zeroed, BATCHES batches of BATCH
 * accesses are sent (each waits for its reply) and the count is dumped.
 *
 * Run: npm run bench:monitor-redis-instructions -w @boundary-audit/core   (needs valgrind and
 *      redis-server; a few minutes)
 * Args: [actors] [batch] [batches], default 200 100 20. Env BENCH_STORE: another store-redis.ts
 * (e.g. an older checkout's) to compare; BENCH_KEEP=DIR keeps callgrind's output there (for
 * callgrind_annotate: where in redis-server the instructions go). BENCH_CPU=1: no valgrind; the
 * same redis-server's CPU time (INFO cpu, user + sys) per access instead, over more batches (e.g.
 * 200 100 400): what the instructions cost in time on this machine (noisy when it is busy).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type StoreModule = typeof import('../src/monitor/store-redis')
const { createRedisStore, loadRedis } = (await import(
  process.env.BENCH_STORE || '../src/monitor/store-redis'
)) as StoreModule

const [ACTORS = 200, BATCH = 100, BATCHES = 20] = process.argv.slice(2).map(Number)
const PORT = 16_400 + Math.floor(Math.random() * 1000)
const dir = mkdtempSync(join(tmpdir(), 'redis-instr-'))
const CPU = process.env.BENCH_CPU === '1'
const redisArgs = ['--port', String(PORT), '--save', '', '--appendonly', 'no']
const server = CPU
  ? spawn('redis-server', redisArgs, { stdio: 'ignore' })
  : spawn(
      'valgrind',
      ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.out')}`, 'redis-server', ...redisArgs],
      { stdio: 'ignore' },
    )
const Redis = loadRedis()
const admin = new Redis(`redis://127.0.0.1:${PORT}`, { lazyConnect: true, retryStrategy: () => 50 })
/** redis-server's CPU seconds so far (user + sys). */
const cpuSeconds = async () => {
  const info = String(await (admin.info as (s: string) => Promise<string>).call(admin, 'cpu'))
  const num = (re: RegExp) => Number(re.exec(info)?.[1] ?? 0)
  return num(/used_cpu_user:([\d.]+)/) + num(/used_cpu_sys:([\d.]+)/)
}
let cpuUs = 0
// Accesses sent and not yet answered; `settled` wakes the sender when none are left.
let pending = 0
let settled: (() => void) | undefined
const store = createRedisStore(
  {
    url: `redis://127.0.0.1:${PORT}`,
    client: undefined,
    keyPrefix: 'bench:',
    timeoutMs: 60_000,
    // Each batch's accesses are added in one turn, so they go in one call all the same; a longer
    // wait would only add serverCron's work per access (it runs 10 times a second, idle or not).
    batchMs: 0,
    failClosed: false,
  },
  { breadth: { threshold: 100, windowMs: 3_600_000 }, rate: { threshold: 600, windowMs: 600_000 } },
  () => {},
  () => {
    if (--pending === 0) settled?.()
  },
  Redis,
)
try {
  for (let i = 0; i < 3000 && !store.ready; i++) await new Promise((r) => setTimeout(r, 20))
  if (!store.ready) throw new Error(`redis-server under valgrind did not answer on port ${PORT}`)
  await new Promise((r) => setTimeout(r, 500))
  let n = 0
  let time = Date.UTC(2026, 0, 1)
  const send = async (batches: number, size: number) => {
    for (let b = 0; b < batches; b++) {
      for (let k = 0; k < size; k++) {
        n++
        time++
        pending++
        store.add(`clinician-${n % ACTORS}`, (n % 20_000).toString(16).padStart(24, '0'), time, n)
      }
      if (pending > 0) await new Promise<void>((r) => (settled = r))
    }
  }
  await send(Math.ceil(20_000 / 256), 256)
  if (CPU) {
    const before = await cpuSeconds()
    await send(BATCHES, BATCH)
    cpuUs = ((await cpuSeconds()) - before) * 1e6
  } else {
    execFileSync('callgrind_control', ['-z', String(server.pid)], { stdio: 'ignore' })
    await send(BATCHES, BATCH)
    execFileSync('callgrind_control', ['-d', String(server.pid)], { stdio: 'ignore' })
  }
} finally {
  await store.close()
  admin.disconnect()
  server.kill('SIGTERM')
  await new Promise((r) => server.once('exit', r))
}
const version = /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1]
if (CPU) {
  rmSync(dir, { recursive: true, force: true })
  console.log(
    `redis-server ${version}, ${ACTORS} actors, batches of ${BATCH}: ${(cpuUs / (BATCHES * BATCH)).toFixed(2)} µs of CPU per access (INFO cpu)`,
  )
  process.exit(0)
}
let total = 0
for (const f of readdirSync(dir)) {
  if (!f.startsWith('cg.out.')) continue
  total += Number(/^summary: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0)
}
if (process.env.BENCH_KEEP) execFileSync('cp', ['-r', `${dir}/.`, process.env.BENCH_KEEP])
rmSync(dir, { recursive: true, force: true })
console.log(
  `redis-server ${version}, ${ACTORS} actors, batches of ${BATCH}: ` +
    `${(total / (BATCHES * BATCH) / 1000).toFixed(1)} k instructions per access`,
)
