/**
 * What the privacy monitor's Redis store costs per access (issue 19), in CPU time, which the
 * machine's noise moves far less than requests/s:
 *   - the service's process: process.cpuUsage() over N `audit.access()` calls, monitor counting
 *     per process (`memory`) against the same with Redis (`redis`): the difference is what
 *     store-redis.ts costs the service (batching, encoding the script call, reading its reply);
 *   - redis-server: `INFO cpu` (used_cpu_user + used_cpu_sys) before and after, and the script's
 *     own time (`INFO commandstats`, evalsha usec). Other clients of the same Redis add to the first.
 * The accesses come K per event-loop turn (a server under load handles several requests per turn),
 * 200 actors x 100 patients each as in the Express bench (packages/express/bench/monitor-cases.ts).
 * Each case runs in a child process of its own; rounds are interleaved, the lowest figure is kept.
 *
 * Run: npm run build && npm run bench:monitor-redis -w @boundary-audit/core
 * Env: BENCH_ACCESSES (default 60000), BENCH_PER_TURN (20), BENCH_ROUNDS (3),
 *      BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_CORE_B=PATH: a third case, `redis-b`, the
 *      same as `redis` with another build of this package (e.g. an older checkout's dist copied
 *      into packages/core/dist-b, so that its dependencies resolve: BENCH_CORE_B=../dist-b/index.js)
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import Redis from 'ioredis'

const ACCESSES = Number(process.env.BENCH_ACCESSES ?? 60_000)
const PER_TURN = Number(process.env.BENCH_PER_TURN ?? 20)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const CORE_B = process.env.BENCH_CORE_B

interface Figures {
  nodeUs: number
  /** The kernel's part of nodeUs (a socket write on loopback runs Redis's TCP receive path too). */
  nodeSysUs: number
  redisUs?: number
  scriptUs?: number
  accessesPerCall?: number
}

async function redisInfo(admin: Redis) {
  const cpu = await admin.info('cpu')
  const stats = await admin.info('commandstats')
  const num = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0)
  return {
    cpu: num(cpu, /used_cpu_user:([\d.]+)/) + num(cpu, /used_cpu_sys:([\d.]+)/),
    calls: num(stats, /cmdstat_evalsha:calls=(\d+)/),
    usec: num(stats, /cmdstat_evalsha:calls=\d+,usec=(\d+)/),
  }
}

/** One case in this (child) process. */
async function runCase(kase: string): Promise<Figures> {
  const prefix = `boundary-audit-bench:${randomBytes(4).toString('hex')}:`
  const core: typeof import('@boundary-audit/core') = await import(
    kase === 'redis-b' ? (CORE_B as string) : '@boundary-audit/core'
  )
  const redis = kase !== 'memory'
  const audit = core.createAuditLogger({
    service: { name: 'bench', version: '1.0.0', environment: 'bench' },
    redaction: { pseudonymKey: 'bench-pseudonym-key-0123456789abcdef' },
    integrity: { enabled: false },
    destination: { write() {} },
    monitor: redis ? { redis: { url: URL, keyPrefix: prefix } } : {},
  })
  const admin = new Redis(URL)
  try {
    for (let i = 0; i < 500 && redis && audit.monitor.stats().store !== 'redis'; i++)
      await new Promise((r) => setTimeout(r, 10))
    let n = 0
    const run = async (count: number) => {
      for (let done = 0; done < count; ) {
        for (let k = 0; k < PER_TURN; k++, done++) {
          n++
          // Each access in a context of its own, as each request's is.
          audit.runWithContext({}, () =>
            audit.access({
              action: 'patient-record-read',
              resource: { type: 'patient', id: `MRN-${n % 20_000}` },
              actor: { id: `clinician-${n % 200}`, roles: ['clinician'] },
            }),
          )
        }
        await new Promise((r) => setImmediate(r))
      }
      // The last batch's reply.
      await new Promise((r) => setTimeout(r, 50))
    }
    await run(Math.min(ACCESSES, 20_000)) // warm-up: JIT, each actor's windows filled
    const before = await redisInfo(admin)
    const cpu = process.cpuUsage()
    await run(ACCESSES)
    const used = process.cpuUsage(cpu)
    const after = await redisInfo(admin)
    if (redis && audit.monitor.stats().store !== 'redis') throw new Error('Redis went away')
    const calls = after.calls - before.calls
    return {
      // The 50 ms wait for the last reply is idle time: nothing to subtract.
      nodeUs: (used.user + used.system) / ACCESSES,
      nodeSysUs: used.system / ACCESSES,
      ...(redis
        ? {
            redisUs: ((after.cpu - before.cpu) * 1e6) / ACCESSES,
            scriptUs: (after.usec - before.usec) / ACCESSES,
            accessesPerCall: calls > 0 ? ACCESSES / calls : 0,
          }
        : {}),
    }
  } finally {
    await audit.close()
    const keys = await admin.keys(`${prefix}*`)
    if (keys.length > 0) await admin.del(...keys)
    await admin.quit()
  }
}

if (process.argv[2]) {
  const figures = await runCase(process.argv[2])
  process.send?.(figures)
  process.exit(0)
} else {
  const self = fileURLToPath(import.meta.url)
  const results = new Map<string, Figures[]>()
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kase of CORE_B ? ['memory', 'redis', 'redis-b'] : ['memory', 'redis']) {
      const child = fork(self, [kase], { execArgv: ['--import', 'tsx'] })
      const f = await new Promise<Figures>((resolve, reject) => {
        child.once('message', (m) => resolve(m as Figures))
        child.once('exit', (code) => reject(new Error(`${kase} exited with ${code}`)))
      })
      results.set(kase, [...(results.get(kase) ?? []), f])
      console.error(
        `round ${round} ${kase}: node ${f.nodeUs.toFixed(1)} µs/access (sys ${f.nodeSysUs.toFixed(1)})` +
          (f.redisUs === undefined
            ? ''
            : `, redis-server ${f.redisUs.toFixed(1)} µs/access (script ${f.scriptUs?.toFixed(1)}), ${f.accessesPerCall?.toFixed(0)} accesses/call`),
      )
    }
  }
  const min = (k: string, f: (x: Figures) => number | undefined) =>
    Math.min(...(results.get(k) ?? []).map((x) => f(x) ?? Number.NaN))
  const mem = min('memory', (x) => x.nodeUs)
  console.log(
    `\nNode ${process.version}, ${ACCESSES} accesses x ${ROUNDS} rounds, ${PER_TURN} per event-loop turn (lowest of the rounds)\n`,
  )
  console.log(
    '| case | service CPU µs/access | redis-server CPU µs/access | script µs/access | accesses/call |',
  )
  console.log('|---|---:|---:|---:|---:|')
  console.log(`| memory | ${mem.toFixed(1)} | - | - | - |`)
  for (const kase of CORE_B ? ['redis', 'redis-b'] : ['redis']) {
    const red = min(kase, (x) => x.nodeUs)
    console.log(
      `| ${kase} | ${red.toFixed(1)} (+${(red - mem).toFixed(1)}) | ${min(kase, (x) => x.redisUs).toFixed(1)} | ${min(kase, (x) => x.scriptUs).toFixed(1)} | ${Math.max(...(results.get(kase) ?? []).map((x) => x.accessesPerCall ?? 0)).toFixed(0)} |`,
    )
  }
}
