// What several replicas share through Redis: the counts (one script call for all the accesses of
// a few milliseconds, keeping the same bounded sliding windows as store-memory.ts in a sorted
// set and a list per actor) and the enforcement state (blocks and scram, in one hash, announced on a
// channel so that every replica refuses a blocked actor or a scrammed route at once; see
// docs/monitoring.md). If Redis is unreachable the monitor counts and enforces per process (see
// index.ts) and says so once; it never makes a request wait for Redis.
import { randomBytes } from 'node:crypto'
import { defaultLoader, type ModuleLoader } from '../otel/load'
import type { RedisConfig } from './options'
import type { SharedChange } from './shared-state'
import { parseSharedChange, serializeSharedChange } from './shared-state'
import type { CountSettings, Counts } from './store-memory'

/** What the live monitor needs of a shared store. */
export interface SharedStore {
  /** True while replies can be expected (connected). */
  readonly ready: boolean
  /** Told when the store goes down (true) or comes back (false). */
  onDown?: (down: boolean) => void
  /**
   * Counts one access; `done(token, counts)` (given at creation) gets the actor's counts after it,
   * or undefined when Redis did not answer in time or failed (the caller then uses its per-process
   * counts). Never throws.
   */
  add(actor: string, individual: string | undefined, time: number, token: unknown): void
  /** Records a change of enforcement state made here, for every replica. Never throws. */
  share(change: SharedChange): void
  /**
   * Told of changes made by other replicas, and of the whole shared state after each (re)connect,
   * with the time (performance.now()) the state was asked for.
   */
  onShared?: (changes: SharedChange[], since?: number) => void
  close(): Promise<void>
}

// The two windows of an actor, as cheap for Redis as store-memory.ts is in process (a few O(1) or
// O(log N) commands per access; Redis runs beside the service, often on the same cores):
// - individuals: a sorted set, member the individual, score its last access (GT: a replica whose
//   clock lags does not move it back). Counted with ZCOUNT over (now - W, +inf]; beyond cap
//   (threshold + 1) members the oldest goes, which cannot change whether the count exceeds the
//   threshold (the same argument as DistinctWindow).
// - records: a list of the last cap access times, newest first. The count exceeds the threshold
//   exactly when the cap-th newest is inside the window; below it the answer is a bound (at most
//   the threshold), which no rule reads.
// KEYS: two per access. ARGV: the windows and caps, then time and individual per access. Returns
// three numbers per access: the two counts, and which rules may alert (1 breadth, 2 rate): a count
// over its threshold with no alert for that actor within the window before it (by access times,
// as RuleEngine.admit judges) on any replica, so that replicas sharing counts raise one alert per
// window between them, as one process would. The alert marks (`<key>a`, the last alert's time)
// are not in KEYS: they share the keys' hash tag, hence their slot.
const SCRIPT = `
local function individuals(key, w, cap, now, member)
  if w <= 0 then return 0 end
  if member ~= '' and redis.call('ZADD', key, 'GT', now, member) == 1 then
    local n = redis.call('ZCARD', key)
    if n > cap then redis.call('ZREMRANGEBYRANK', key, 0, n - cap - 1) end
  end
  redis.call('PEXPIRE', key, w)
  return redis.call('ZCOUNT', key, '(' .. (now - w), '+inf')
end
local function records(key, w, cap, now)
  if w <= 0 then return 0 end
  local n = redis.call('LPUSH', key, now)
  if n > cap then redis.call('LTRIM', key, 0, cap - 1) end
  redis.call('PEXPIRE', key, w)
  local last = tonumber(redis.call('LINDEX', key, cap - 1))
  if last ~= nil and last > now - w then return cap end
  return math.min(n, cap - 1)
end
local function fresh(key, n, cap, w, now)
  if w <= 0 or n < cap then return 0 end
  local last = tonumber(redis.call('GET', key .. 'a'))
  if last ~= nil and now - last < w then return 0 end
  redis.call('SET', key .. 'a', now, 'PX', w)
  return 1
end
local bw, bcap = tonumber(ARGV[1]), tonumber(ARGV[2])
local rw, rcap = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for j = 1, #KEYS / 2 do
  local now = tonumber(ARGV[3 + 2 * j])
  local ki, kr = KEYS[2 * j - 1], KEYS[2 * j]
  local i = individuals(ki, bw, bcap, now, ARGV[4 + 2 * j])
  local r = records(kr, rw, rcap, now)
  out[3 * j - 2] = i
  out[3 * j - 1] = r
  out[3 * j] = fresh(ki, i, bcap, bw, now) + 2 * fresh(kr, r, rcap, rw, now)
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
  duplicate(): RedisLike
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

interface Pending {
  actor: string
  individual: string | undefined
  time: number
  token: unknown
}

/** Connects (or uses the caller's client) and returns the shared store. Never throws after loadRedis. */
export function createRedisStore(
  config: RedisConfig,
  counts: CountSettings,
  report: (message: string) => void,
  done: (token: unknown, counts: Counts | undefined) => void,
  Ctor: RedisCtor | undefined,
): SharedStore {
  const owned = config.client === undefined
  const client: RedisLike = owned
    ? new (Ctor as RedisCtor)(config.url as string, {
        // Commands fail at once while disconnected instead of queueing: the monitor then counts in process.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: Math.max(config.timeoutMs, 1000),
        retryStrategy: (times: number) => Math.min(200 * times, 5000),
      })
    : (config.client as RedisLike)
  const command = 'boundaryAuditMonitorAdd'
  if (typeof client[command] !== 'function') client.defineCommand(command, { lua: SCRIPT } as never)
  const run = client[command] as (...args: (string | number)[]) => Promise<number[]>

  // One hash tag for all of a service's monitor keys: a batch names many actors' keys, which Redis
  // Cluster accepts in one script only when they share a slot.
  const base = `${config.keyPrefix}{monitor}:`
  const stateKey = `${base}enforcement`
  const channel = stateKey
  const b = counts.breadth
  const r = counts.rate
  const head = [b ? b.windowMs : 0, b ? b.threshold + 1 : 0, r ? r.windowMs : 0, r ? r.threshold + 1 : 0]
  const tag = randomBytes(4).toString('hex')
  let queue: Pending[] = []
  let scheduled = false
  let closed = false

  const flush = () => {
    if (closed) return
    scheduled = false
    while (queue.length > 0) {
      const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH)
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH)
      send(batch)
    }
  }

  const send = (batch: Pending[]) => {
    const args: (string | number)[] = [batch.length * 2]
    for (const p of batch) args.push(`${base}${p.actor}:i`, `${base}${p.actor}:r`)
    args.push(...head)
    for (const p of batch) args.push(p.time, p.individual ?? '')
    let settled = false
    const settle = (reply: number[] | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i] as Pending
        try {
          done(
            p.token,
            reply === undefined
              ? undefined
              : {
                  individuals: Number(reply[3 * i]),
                  records: Number(reply[3 * i + 1]),
                  fresh: Number(reply[3 * i + 2]),
                },
          )
        } catch {
          // the monitor's own callback never throws; nothing to do if it did
        }
      }
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
      call = run.apply(client, args)
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

  // Enforcement state: changes made here while Redis was away are written when it is back, then the
  // whole state is read (what other replicas did meanwhile).
  // The latest unsent change per field (an actor's block, the scram): a long outage cannot grow
  // this past the actors it concerns, and only the last word on each matters.
  const unsent = new Map<string, SharedChange>()
  const fieldOf = (change: SharedChange) =>
    change.state === 'scram-started' || change.state === 'scram-ended' ? 'scram' : `block:${change.actor}`
  const keep = (change: SharedChange) => {
    const field = fieldOf(change)
    unsent.delete(field)
    unsent.set(field, change)
  }
  const write = (change: SharedChange): Promise<unknown> => {
    const field = fieldOf(change)
    const text = serializeSharedChange(change, tag)
    const multi = (client.multi as () => any).call(client)
    if (change.state === 'blocked' || change.state === 'scram-started') multi.hset(stateKey, field, text)
    else multi.hdel(stateKey, field)
    multi.publish(channel, text)
    return multi.exec()
  }
  const resync = async () => {
    if (closed || client.status !== 'ready' || !subscribed) return
    try {
      for (const [field, change] of unsent) {
        await write(change)
        // A newer change made while this one was on its way stays for the next round.
        if (unsent.get(field) === change) unsent.delete(field)
      }
      const since = performance.now()
      const all = (await (client.hgetall as (k: string) => Promise<Record<string, string>>).call(
        client,
        stateKey,
      )) as Record<string, string>
      const changes: SharedChange[] = []
      const expired: string[] = []
      for (const [field, text] of Object.entries(all ?? {})) {
        const c = parseSharedChange(text)
        if (c?.change.state === 'blocked' && c.change.until <= Date.now()) expired.push(field)
        else if (c) changes.push(c.change)
      }
      // Blocks end by expiry on each replica without a word to the others; their fields go here.
      if (expired.length > 0)
        await (client.hdel as (...a: string[]) => Promise<unknown>).call(client, stateKey, ...expired)
      store.onShared?.(changes, since)
    } catch {
      down()
    }
  }

  let subscribed = false
  const sub: RedisLike = client.duplicate()
  const onMessage = (...args: unknown[]) => {
    const [ch, text] = args
    if (ch !== channel || typeof text !== 'string') return
    const c = parseSharedChange(text)
    if (c === undefined || c.origin === tag) return
    try {
      store.onShared?.([c.change])
    } catch {
      // the monitor's own callback never throws
    }
  }
  const onSubReady = () => {
    ;(sub.subscribe as (c: string) => Promise<unknown>).call(sub, channel).then(
      () => {
        subscribed = true
        void resync()
      },
      () => down(),
    )
  }
  const onSubEnd = () => {
    subscribed = false
  }
  sub.on('message', onMessage)
  sub.on('ready', onSubReady)
  sub.on('end', onSubEnd)
  sub.on('close', onSubEnd)
  sub.on('error', () => {
    // reported through the main client's own error; the subscriber reconnects by itself
  })

  const store: SharedStore = {
    onDown: undefined,
    onShared: undefined,
    get ready() {
      return client.status === 'ready'
    },
    add(actor, individual, time, token) {
      queue.push({ actor, individual, time, token })
      if (queue.length >= MAX_BATCH) flush()
      else if (!scheduled) {
        scheduled = true
        // Accesses gather for config.batchMs: under load one call then carries the accesses of
        // several requests (one socket write and one reply for all of them, which is most of what
        // Redis costs the service); an alert or a block comes at most that much later.
        setTimeout(flush, config.batchMs).unref()
      }
    },
    share(change) {
      if (closed) return
      if (client.status !== 'ready' || !subscribed) {
        keep(change)
        return
      }
      write(change).then(undefined, () => {
        keep(change)
        down()
      })
    },
    async close() {
      // What was counted so far is sent before the connection goes.
      if (client.status === 'ready') flush()
      closed = true
      client.removeListener('error', onError)
      client.removeListener('ready', onReady)
      client.removeListener('end', down)
      sub.removeListener('message', onMessage)
      sub.removeListener('ready', onSubReady)
      sub.disconnect()
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
    if (closed) return
    report(
      'Redis is unreachable: the privacy monitor counts and enforces per process (each replica on its own) until it is back',
    )
    store.onDown?.(true)
  }
  const onError = () => down()
  const onReady = () => {
    store.onDown?.(false)
    void resync()
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
