// What several replicas share through Redis: the counts (one script call for all the accesses of
// a few milliseconds, keeping the same bounded sliding windows as store-memory.ts in a sorted
// set and a list per actor) and the enforcement state (blocks and scram, in one hash, announced on a
// channel so that every replica refuses a blocked actor or a scrammed route at once; see
// docs/monitoring.md). If Redis is unreachable the monitor counts and enforces per process (see
// index.ts) and says so once; it never makes a request wait for Redis.
import { randomBytes } from 'node:crypto'
import { defaultLoader, type ModuleLoader } from '../otel/load'
import { RecentMap } from '../recent-map'
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
   * Counts one access; `done(token, counts)` (given at creation) gets the actor's counts after it
   * when a rule may alert on it, QUIET counts (`fresh` 0) when none may, or undefined when Redis
   * did not answer in time or failed (the caller then uses its per-process counts). `individual`:
   * the pseudonym's hex digits (pseudonymDigits); `time`: whole milliseconds. Never throws.
   */
  add(actor: string, individual: string | undefined, time: number, token: unknown): void
  /**
   * Whether a finding of a rule without a window is the first for `key` (rule, actor and
   * individual) within quietMs of access time on any replica: `done(true)` if so (its mark is set),
   * `done(false)` if not, `done(undefined)` when Redis did not answer (the caller decides alone).
   * Goes with the accesses' batch. Never throws.
   */
  once(key: string, quietMs: number, time: number, done: (first: boolean | undefined) => void): void
  /** Records a change of enforcement state made here, for every replica. Never throws. */
  share(change: SharedChange): void
  /**
   * Told of changes made by other replicas, and of the whole shared state after each (re)connect,
   * with the time (performance.now()) the state was asked for.
   */
  onShared?: (changes: SharedChange[], since?: number) => void
  close(): Promise<void>
}

// The two windows of an actor, as cheap for Redis as store-memory.ts is in process. Redis often
// runs beside the service, on the same cores, so what the script costs per access counts as much
// as what the call costs the service. Times go to Redis negated (`-<ms>`): the newest sorts first.
// - individuals (`<key>:d`): a sorted set, member the individual, score its last access, negated.
//   A set of up to 128 members is a listpack, where ZADD walks from the front to the new score's
//   place: a step for the newest first, the whole set for oldest first (30 k instructions per
//   access on a 100-member set, a third of the script's cost). LT (a greater time only) keeps a
//   replica whose clock lags from moving a time back. Beyond cap (threshold + 1) members the oldest
//   (the last ranks) go, which cannot change whether the count exceeds the threshold (the same
//   argument as DistinctWindow). The set's size bounds the count in the window from above, so the
//   count itself (ZCOUNT below -(now - W)) is asked only when the set is full, and not even then
//   while the actor's last alert is less than a window old (the count could not alert).
// - records (`<key>:c`): a list of the last cap access times (negated), newest first. The count
//   exceeds the threshold exactly when the cap-th newest is inside the window. An actor's accesses
//   of one batch go in with one LPUSH; the cap-th newest as of each of them is then LINDEX (its
//   place + cap - 1), asked only once the list holds cap entries and no alert is less than a window
//   old. The list is trimmed back to cap once it holds 32 more (one LTRIM per 32 batches of a busy
//   actor instead of one per batch).
// - expiry: both keys live W + R (R = the longer window / 4) after their last renewal. The service
//   asks for it (see `renewed` below) for an actor whose accesses reach an R-long slice of time
//   that this replica has not renewed its keys in, and the script renews a key it finds new (ZCARD
//   0, or LPUSH onto nothing). The accesses since a renewal by a replica are all in its slice, less
//   than R after it, so the keys outlive every access by a window (each replica renews for its own
//   accesses; N replicas renew an active actor's keys at most N times per R).
// So an actor's accesses of a batch cost Redis one ZCARD and one LPUSH together and one ZADD each,
// and nothing is converted to a number unless a window is full. Every argument of those calls is a
// string the script was given or a literal: Lua turns a number into a command's argument with
// sprintf("%.14g"), ~2.6 k instructions each, as much as a simple command's own work here, and
// tonumber() costs as much (strtod). Nothing is parsed in Lua either: each access is two arguments
// (a pattern match over a packed string cost more than Redis's parsing of two arguments).
// KEYS: the enforcement hash (it names the slot: every monitor key shares its hash tag, so the
// actors' keys, built here, are in that slot too). ARGV: the key base, the windows and caps, the
// number of actors whose keys are renewed (they come first), then per actor of the batch its id,
// its number of accesses n, n individuals (24 hex digits, or '' for none) and their n times, negated.
// Returns four numbers per access that may alert, and only those (most batches: none): its place
// in the batch as sent, the two counts, and which rules may alert (1 breadth, 2 rate): a count over
// its threshold with no alert for that actor within the window before it (by access times, as
// RuleEngine.admit judges) on any replica, so that replicas sharing counts raise one alert per
// window between them, as one process would. The alert marks: `<key>a`, the last alert's time.
// Before the actors, ARGV[7] says how many findings of the rules without a window follow, three
// arguments each (the mark's name: rule, actor, individual; the quiet time; the access time):
// the reply starts with 1 (first within the quiet time on any replica: its mark is set) or 0 for each.
const SCRIPT = `
local base = ARGV[1]
local bw, bcap = tonumber(ARGV[2]), tonumber(ARGV[3])
local rw, rcap = tonumber(ARGV[4]), tonumber(ARGV[5])
local out, place = {}, 0
local slice = math.max(1, math.floor(math.max(bw, rw) / 4))
-- Whole milliseconds for PX and PEXPIRE (a window may be a fraction of a millisecond longer).
local function ms(x)
  return tostring(math.max(1, math.ceil(x)))
end
local bkeep, rlast, rroom = ARGV[3], tostring(rcap - 1), rcap + 32
local bpx, rpx, bttl, rttl = ms(bw), ms(rw), ms(bw + slice), ms(rw + slice)
local function mark(key)
  return tonumber(redis.call('GET', key .. 'a')) or false
end
local onces = tonumber(ARGV[7])
for o = 8, 7 + 3 * onces, 3 do
  local key, quiet, now = base .. 'once:' .. ARGV[o], tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
  local last = tonumber(redis.call('GET', key))
  if last ~= nil and now - last < quiet then
    out[#out + 1] = 0
  else
    redis.call('SET', key, ARGV[o + 2], 'PX', ms(quiet))
    out[#out + 1] = 1
  end
end
local g, actor, renewing, nargs = 8 + 3 * onces, 0, tonumber(ARGV[6]), #ARGV
while g <= nargs do
  local ki, kr = base .. ARGV[g] .. ':d', base .. ARGV[g] .. ':c'
  local n = tonumber(ARGV[g + 1])
  -- The actor's individuals are ARGV[m + 1 .. m + n], their times ARGV[m + n + 1 .. m + 2n].
  local m, s = g + 1, g + 1 + n
  g, actor = s + n + 1, actor + 1
  local card, held, imark, rmark = 0, 0, nil, nil
  local renew = actor <= renewing
  if bw > 0 then
    card = redis.call('ZCARD', ki)
    if card == 0 then renew = true end
  end
  if rw > 0 then
    held = redis.call('LPUSH', kr, unpack(ARGV, s + 1, s + n)) - n
    if held == 0 then renew = true end
  end
  for j = 1, n do
    local stamp, fresh, i, r = ARGV[s + j], 0, 0, 0
    if bw > 0 then
      local member = ARGV[m + j]
      if member ~= '' and redis.call('ZADD', ki, 'LT', stamp, member) == 1 then
        card = card + 1
        if card > bcap then
          redis.call('ZREMRANGEBYRANK', ki, bkeep, '-1')
          card = bcap
        end
      end
      if card >= bcap then
        local now = -tonumber(stamp)
        if imark == nil then imark = mark(ki) end
        if not imark or now - imark >= bw then
          i = redis.call('ZCOUNT', ki, '-inf', '(' .. (bw - now))
          if i >= bcap then
            redis.call('SET', ki .. 'a', now, 'PX', bpx)
            imark, fresh = now, 1
          end
        end
      end
    end
    if rw > 0 and held + j >= rcap then
      local now = -tonumber(stamp)
      if rmark == nil then rmark = mark(kr) end
      if not rmark or now - rmark >= rw then
        local last = tonumber(redis.call('LINDEX', kr, n - j + rcap - 1))
        if last ~= nil and -last > now - rw then
          r = rcap
          redis.call('SET', kr .. 'a', now, 'PX', rpx)
          rmark, fresh = now, fresh + 2
        end
      end
    end
    if fresh > 0 then
      out[#out + 1] = place
      out[#out + 1] = i
      out[#out + 1] = r
      out[#out + 1] = fresh
    end
    place = place + 1
  end
  if rw > 0 and held + n > rroom then redis.call('LTRIM', kr, '0', rlast) end
  if renew then
    if bw > 0 then redis.call('PEXPIRE', ki, bttl) end
    if rw > 0 then redis.call('PEXPIRE', kr, rttl) end
  end
end
return out
`

/** Accesses judged by one script call at most. */
const MAX_BATCH = 256
/** Actors whose last renewal this replica remembers; one forgotten is renewed again at its next batch. */
const MAX_RENEWED = 100_000

/**
 * The counts of an access that cannot alert (what most of the script's answer is, unsaid): the
 * engine reads only `fresh` from a shared store's counts, and the counts when it alerts.
 */
const QUIET: Counts = Object.freeze({ individuals: 0, records: 0, fresh: 0 })

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

interface PendingOnce {
  key: string
  quietMs: number
  time: number
  done: (first: boolean | undefined) => void
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
  const command = 'boundaryAuditMonitorCount'
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
  // The slice of time of the script's renewals (see the script), and the slice this replica last
  // renewed each actor's keys in: one renewal per actor and slice from here, whatever the batches.
  const slice = Math.max(1, Math.floor(Math.max(head[0] as number, head[2] as number) / 4))
  const renewed = new RecentMap<string, number>(MAX_RENEWED)
  const tag = randomBytes(4).toString('hex')
  let queue: Pending[] = []
  let onces: PendingOnce[] = []
  let scheduled = false
  let closed = false
  // Script calls not yet answered (or timed out), and whether accesses became due meanwhile.
  let inFlight = 0
  let due = false

  // Sends everything queued, MAX_BATCH accesses per call.
  const flush = () => {
    if (closed) return
    due = false
    while (queue.length > 0 || onces.length > 0) {
      const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH)
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH)
      const marks = onces
      onces = []
      send(batch, marks)
    }
  }
  // One call in flight at a time: what comes while it is out waits for its reply and then goes in
  // one call (or several of MAX_BATCH, sent together). Under load the batches grow with the round
  // trip instead of the round trips growing with the load: a call's fixed cost (the socket write,
  // the reply's read and the wake-up, the timers, Redis's own per-call work) is what Redis costs
  // the service per access when batches are small.
  const ready = () => {
    scheduled = false
    if (inFlight === 0) flush()
    else due = true
  }
  const schedule = () => {
    if (scheduled || due) return
    scheduled = true
    // Accesses gather for config.batchMs (then as long as a call is out): an alert or a block
    // comes that much later.
    setTimeout(ready, config.batchMs).unref()
  }
  const answered = () => {
    inFlight--
    if (inFlight === 0 && due) flush()
  }

  const send = (batch: Pending[], marks: PendingOnce[]) => {
    // The batch by actor (first seen first), each actor's accesses in the order they came.
    const byActor = new Map<string, number[]>()
    for (let i = 0; i < batch.length; i++) {
      const actor = (batch[i] as Pending).actor
      const places = byActor.get(actor)
      if (places === undefined) byActor.set(actor, [i])
      else places.push(i)
    }
    // The actors whose keys this replica has not renewed in the slice of their last access here
    // go first (the script renews the first ARGV[6] actors' keys).
    const renewing: string[] = []
    const rest: string[] = []
    for (const [actor, places] of byActor) {
      const at = Math.floor(stamp((batch[places[places.length - 1] as number] as Pending).time) / slice)
      if (renewed.get(actor) === at) rest.push(actor)
      else {
        renewed.set(actor, at)
        renewing.push(actor)
      }
    }
    const args: (string | number)[] = [1, stateKey, base, ...head, renewing.length, marks.length]
    for (const m of marks) args.push(m.key, m.quietMs, stamp(m.time))
    // sent[k]: the batch index of the k-th access as sent (the script's `place`).
    const sent =
      byActor.size === batch.length && (renewing.length === 0 || rest.length === 0)
        ? undefined
        : new Array<number>(batch.length)
    let k = 0
    for (const list of [renewing, rest]) {
      for (const actor of list) {
        const places = byActor.get(actor) as number[]
        args.push(actor, places.length)
        for (const i of places) {
          const individual = (batch[i] as Pending).individual
          args.push(individual ?? '')
          if (sent !== undefined) sent[k++] = i
        }
        for (const i of places) args.push(-stamp((batch[i] as Pending).time))
      }
    }
    let settled = false
    inFlight++
    const settle = (reply: number[] | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Released last (finally): the next batch goes once this one's callbacks have run.
      try {
        deliver(reply)
      } finally {
        answered()
      }
    }
    const deliver = (reply: number[] | undefined) => {
      // Without an answer the renewals may not have happened: the next batch asks again.
      if (reply === undefined) for (const actor of renewing) renewed.delete(actor)
      for (let j = 0; j < marks.length; j++) {
        try {
          ;(marks[j] as PendingOnce).done(reply === undefined ? undefined : Number(reply[j]) === 1)
        } catch {
          // the monitor's own callback never throws
        }
      }
      // Only the accesses that may alert come back; the others get QUIET.
      let found: (Counts | undefined)[] | undefined
      if (reply !== undefined && reply.length > marks.length) {
        found = new Array<Counts | undefined>(batch.length)
        for (let j = marks.length; j + 3 < reply.length; j += 4) {
          const place = Number(reply[j])
          found[sent === undefined ? place : (sent[place] as number)] = {
            individuals: Number(reply[j + 1]),
            records: Number(reply[j + 2]),
            fresh: Number(reply[j + 3]),
          }
        }
      }
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i] as Pending
        try {
          done(p.token, reply === undefined ? undefined : (found?.[i] ?? QUIET))
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
      // A full batch goes at once unless a call is out (then it grows until the reply).
      if (queue.length >= MAX_BATCH && inFlight === 0) flush()
      else schedule()
    },
    once(key, quietMs, time, done) {
      onces.push({ key, quietMs, time, done })
      schedule()
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

/** An access time as the script takes it: whole milliseconds, never negative (the pattern's `%d+`). */
function stamp(time: number): number {
  return time > 0 ? Math.round(time) : 0
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
