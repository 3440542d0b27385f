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
  /**
   * Counts one access; `done` gets the actor's counts after it, or undefined when Redis did not
   * answer in time or failed (the caller then uses its per-process counts). Never throws.
   */
  add(
    actor: string,
    individual: string | undefined,
    time: number,
    done: (counts: Counts | undefined) => void,
  ): void
  close(): Promise<void>
}

// One call judges a batch of accesses (all those of one event-loop turn, up to MAX_BATCH): KEYS
// holds two keys per access, the actor's individuals (member: individual, score: last access) and
// records (member: a unique id, score: time); ARGV the windows and caps, then time, individual and
// record id per access. Entries at or before now - window leave; beyond cap (threshold + 1) the
// oldest leave, which cannot change whether the count exceeds the threshold. GT: a replica whose
// clock lags does not move an individual's last access back. Returns two counts per access.
const SCRIPT = `
local bw = tonumber(ARGV[1])
local bcap = tonumber(ARGV[2])
local rw = tonumber(ARGV[3])
local rcap = tonumber(ARGV[4])
local out = {}
for j = 1, #KEYS / 2 do
  local ki = KEYS[2 * j - 1]
  local kr = KEYS[2 * j]
  local now = tonumber(ARGV[2 + 3 * j])
  local individual = ARGV[3 + 3 * j]
  local individuals = 0
  local records = 0
  if bw > 0 then
    if individual ~= '' then redis.call('ZADD', ki, 'GT', now, individual) end
    redis.call('ZREMRANGEBYSCORE', ki, '-inf', now - bw)
    individuals = redis.call('ZCARD', ki)
    if individuals > bcap then
      redis.call('ZREMRANGEBYRANK', ki, 0, individuals - bcap - 1)
      individuals = bcap
    end
    redis.call('PEXPIRE', ki, bw)
  end
  if rw > 0 then
    redis.call('ZADD', kr, now, ARGV[4 + 3 * j])
    redis.call('ZREMRANGEBYSCORE', kr, '-inf', now - rw)
    records = redis.call('ZCARD', kr)
    if records > rcap then
      redis.call('ZREMRANGEBYRANK', kr, 0, records - rcap - 1)
      records = rcap
    end
    redis.call('PEXPIRE', kr, rw)
  end
  out[2 * j - 1] = individuals
  out[2 * j] = records
end
return out
`

/** Accesses judged by one script call at most. */
const MAX_BATCH = 256

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
  const command = 'boundaryAuditMonitorAdd'
  if (typeof client[command] !== 'function') client.defineCommand(command, { lua: SCRIPT } as never)
  const run = client[command] as (...args: (string | number)[]) => Promise<number[]>

  const prefix = config.keyPrefix
  const b = counts.breadth
  const r = counts.rate
  const head = [b ? b.windowMs : 0, b ? b.threshold + 1 : 0, r ? r.windowMs : 0, r ? r.threshold + 1 : 0]
  const tag = randomBytes(4).toString('hex')
  let sequence = 0
  let queue: Pending[] = []
  let scheduled = false

  const flush = () => {
    scheduled = false
    while (queue.length > 0) {
      const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH)
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH)
      send(batch)
    }
  }

  const send = (batch: Pending[]) => {
    const keys: string[] = []
    const args: (string | number)[] = [...head]
    for (const p of batch) {
      // One hash tag per actor keeps an actor's two keys together.
      const base = `${prefix}{${p.actor}}`
      keys.push(`${base}:i`, `${base}:r`)
      args.push(p.time, p.individual ?? '', `${p.time}:${tag}:${sequence++}`)
    }
    let settled = false
    const settle = (reply: number[] | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      batch.forEach((p, i) => {
        const c =
          reply === undefined
            ? undefined
            : { individuals: Number(reply[2 * i]), records: Number(reply[2 * i + 1]) }
        try {
          p.done(c)
        } catch {
          // the monitor's own callback never throws; nothing to do if it did
        }
      })
    }
    const timer = setTimeout(() => {
      report(
        `Redis did not answer within ${config.timeoutMs} ms; the privacy monitor counted those accesses per process`,
      )
      settle(undefined)
    }, config.timeoutMs)
    timer.unref?.()
    let call: Promise<number[]>
    try {
      call = run.call(client, keys.length, ...keys, ...args)
    } catch {
      down()
      settle(undefined)
      return
    }
    call.then(settle, () => {
      down()
      settle(undefined)
    })
  }

  const store: SharedCounts = {
    onDown: undefined,
    get ready() {
      return client.status === 'ready'
    },
    add(actor, individual, time, done) {
      queue.push({ actor, individual, time, done })
      if (!scheduled) {
        scheduled = true
        // Everything counted in this turn of the event loop goes in one call.
        setImmediate(flush)
      }
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

interface Pending {
  actor: string
  individual: string | undefined
  time: number
  done: (counts: Counts | undefined) => void
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
