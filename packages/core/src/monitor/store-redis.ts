// Counts shared by several replicas through Redis: one Lua script per access (one round trip; the
// client pipelines scripts sent in the same tick), keeping the same bounded sliding windows as
// store-memory.ts in two sorted sets per actor. If Redis is unreachable the monitor counts per
// process (see index.ts) and says so once; it never makes a request wait for Redis.
import { randomBytes } from 'node:crypto'
import { defaultLoader, type ModuleLoader } from '../otel/load'
import type { RedisConfig } from './options'
import type { CountSettings, Counts } from './store-memory'

/** What the live monitor needs of a shared store. */
export interface SharedCounts {
  /** True while replies can be expected (connected). */
  readonly ready: boolean
  /** Told when the store goes down (true) or comes back (false). */
  onDown?: (down: boolean) => void
  /** The actor's counts after this access, or undefined when Redis did not answer in time. */
  add(actor: string, individual: string | undefined, time: number): Promise<Counts | undefined>
  close(): Promise<void>
}

// KEYS[1]: the actor's individuals (member: individual, score: last access); KEYS[2]: the actor's
// records (member: a unique id, score: time). Entries at or before now - window leave; beyond
// cap (threshold + 1) the oldest leave, which cannot change whether the count exceeds the threshold.
// GT: a replica whose clock lags does not move an individual's last access back.
const SCRIPT = `
local now = tonumber(ARGV[1])
local bw = tonumber(ARGV[3])
local rw = tonumber(ARGV[5])
local individuals = 0
local records = 0
if bw > 0 then
  local cap = tonumber(ARGV[4])
  if ARGV[2] ~= '' then redis.call('ZADD', KEYS[1], 'GT', now, ARGV[2]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - bw)
  individuals = redis.call('ZCARD', KEYS[1])
  if individuals > cap then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, individuals - cap - 1)
    individuals = cap
  end
  redis.call('PEXPIRE', KEYS[1], bw)
end
if rw > 0 then
  local cap = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[2], now, ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - rw)
  records = redis.call('ZCARD', KEYS[2])
  if records > cap then
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, records - cap - 1)
    records = cap
  end
  redis.call('PEXPIRE', KEYS[2], rw)
end
return { individuals, records }
`

interface RedisLike {
  status: string
  on(event: string, fn: (...args: unknown[]) => void): unknown
  removeListener(event: string, fn: (...args: unknown[]) => void): unknown
  defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void
  quit(): Promise<unknown>
  disconnect(): void
  [command: string]: unknown
}

export type RedisCtor = new (url: string, options: Record<string, unknown>) => RedisLike

/** Loads ioredis (an optional peer); throws a message saying what to do when it is not installed. */
export function loadRedis(load: ModuleLoader = defaultLoader()): RedisCtor {
  let mod: unknown
  try {
    mod = load('ioredis')
  } catch {
    throw new TypeError(
      'boundary-audit: monitor.redis needs the ioredis package (npm i ioredis), or remove monitor.redis / BOUNDARY_AUDIT_REDIS_URL to count per process',
    )
  }
  const m = mod as { default?: unknown; Redis?: unknown }
  return (
    typeof m.Redis === 'function' ? m.Redis : typeof m.default === 'function' ? m.default : mod
  ) as RedisCtor
}

/** Connects (or uses the caller's client) and returns the shared store. Never throws after loadRedis. */
export function createRedisCounts(
  config: RedisConfig,
  counts: CountSettings,
  report: (message: string) => void,
  Ctor: RedisCtor | undefined,
): SharedCounts {
  const owned = config.client === undefined
  const client: RedisLike = owned
    ? new (Ctor as RedisCtor)(config.url as string, {
        // Commands fail at once while disconnected instead of queueing: the monitor then counts in process.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        enableAutoPipelining: true,
        connectTimeout: Math.max(config.timeoutMs, 1000),
        retryStrategy: (times: number) => Math.min(200 * times, 5000),
      })
    : (config.client as RedisLike)
  const command = `boundaryAuditMonitorAdd`
  if (typeof client[command] !== 'function') client.defineCommand(command, { numberOfKeys: 2, lua: SCRIPT })
  const run = client[command] as (...args: (string | number)[]) => Promise<[number, number]>

  const prefix = config.keyPrefix
  const b = counts.breadth
  const r = counts.rate
  const tag = randomBytes(4).toString('hex')
  let sequence = 0

  const store: SharedCounts = {
    onDown: undefined,
    get ready() {
      return client.status === 'ready'
    },
    add(actor, individual, time) {
      // One hash tag per actor: both keys in one slot (Redis Cluster runs a script on one node).
      const base = `${prefix}{${actor}}`
      const call = run.call(
        client,
        `${base}:i`,
        `${base}:r`,
        time,
        individual ?? '',
        b ? b.windowMs : 0,
        b ? b.threshold + 1 : 0,
        r ? r.windowMs : 0,
        r ? r.threshold + 1 : 0,
        `${time}:${tag}:${sequence++}`,
      )
      return withTimeout(call, config.timeoutMs).then(
        (reply) => {
          if (reply === undefined) {
            report(
              `Redis did not answer within ${config.timeoutMs} ms; the privacy monitor counted this access per process`,
            )
            return undefined
          }
          return { individuals: Number(reply[0]), records: Number(reply[1]) }
        },
        () => {
          down()
          return undefined
        },
      )
    },
    async close() {
      client.removeListener('error', onError)
      client.removeListener('ready', onReady)
      client.removeListener('end', down)
      if (!owned) return
      try {
        await withTimeout(client.quit(), 1000)
      } catch {
        // already gone
      }
      client.disconnect()
    },
  }

  function down() {
    report(
      'Redis is unreachable: the privacy monitor counts per process (each replica on its own) until it is back',
    )
    store.onDown?.(true)
  }
  const onError = () => down()
  const onReady = () => {
    store.onDown?.(false)
  }
  client.on('error', onError)
  client.on('ready', onReady)
  client.on('end', down)
  return store
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    timer.unref?.()
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}
