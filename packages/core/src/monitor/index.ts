// The live privacy monitor: sees every record the logger writes (after redaction: pseudonyms only),
// runs the rules, writes alerts and enforcement changes into the same sealed trail.
import { currentContext } from '../context'
import { type AuditRecord, type BuildEnv, text } from '../events/record'
import { Enforcement } from './enforcement'
import { type Finding, RuleEngine } from './engine'
import { compileMonitorOptions, MONITOR_DEFAULTS, type MonitorConfig, type RedisConfig } from './options'
import { alertRecord, type StateChange, stateRecord } from './records'
import { toAlert } from './replay'
import { type Counts, MemoryCounts } from './store-memory'
import { createRedisStore, loadRedis, type SharedStore } from './store-redis'
import type { AccessView, AuditMonitor, MonitorStats } from './types'
import { accessViewOf, isoTimeReader } from './view'
import { monotonic } from './window'

export interface LiveMonitor extends AuditMonitor {
  /** Called by the logger with each record it wrote. Never throws. */
  observe(record: AuditRecord): void
  /** Stops timers, the signal handler and the Redis connection it opened. */
  close(): Promise<void>
}

export interface MonitorDeps {
  env: BuildEnv
  /** Writes (and seals) one record, whatever the logger's level. */
  write(record: AuditRecord): void
  /** One warning per distinct message. */
  report(message: string): void
  /** Opens the shared store, when Redis is configured (see store-redis.ts), with the callback of counts. */
  connect?: (done: (token: unknown, counts: Counts | undefined) => void) => SharedStore
}

/** What the monitor remembers of an access sent to the shared store until its counts come back. */
interface Waiting {
  view: AccessView
  individuals: number
  records: number
}

export function createMonitor(config: MonitorConfig, deps: MonitorDeps): LiveMonitor {
  const { env, write, report } = deps
  const engine = new RuleEngine(config)
  const memory = new MemoryCounts(config.counts)
  const clock = monotonic()
  const timeOf = isoTimeReader()
  let accesses = 0
  let alerts = 0
  let hookErrors = 0

  const counted = (a: AccessView, c: Counts) => raiseAll(engine.fromCounts(a, c))
  // Counts from the shared store; on failure the per-process counts of that access decide.
  const shared = deps.connect?.((token, c) => {
    const w = token as Waiting
    counted(w.view, c ?? { individuals: w.individuals, records: w.records })
  })

  const enforcement = new Enforcement({
    phiRoutes: config.phiRoutes,
    openRoutes: config.openRoutes,
    recordId: (id) => text(String(id), env.policy),
    share: shared
      ? (change) =>
          shared.share(
            change.reason === undefined ? change : { ...change, reason: text(change.reason, env.policy) },
          )
      : undefined,
    record(change: StateChange, operator: boolean) {
      try {
        write(stateRecord(env, operator ? currentContext() : undefined, change))
      } catch {
        report('the privacy monitor could not write an enforcement event')
      }
    },
  })
  if (shared) shared.onShared = (changes, since) => enforcement.applyShared(changes, since)
  // The rules without a window alert once per actor (and individual) within repeatSeconds across
  // the replicas, as the counting rules do: the mark goes to Redis with the batch (no round trip of
  // its own); without an answer this process decides.
  if (shared) {
    engine.shareOnce = (f, key, quietMs) => {
      if (!shared.ready) return false
      shared.once(`${f.rule}\u0000${key}`, quietMs, f.time, (first) => {
        if (first ?? engine.admitHere(f, key, quietMs)) raise(f)
      })
      return true
    }
  }
  if (shared && config.redis?.failClosed) {
    // Fail closed: PHI routes are refused until Redis answers, from the start.
    enforcement.storeDown = !shared.ready
    shared.onDown = (down) => {
      enforcement.storeDown = down
    }
  }

  const raise = (f: Finding): void => {
    alerts++
    const actions: ('block' | 'scram')[] = []
    if (config.block.has(f.rule)) actions.push('block')
    if (config.scram.has(f.rule)) actions.push('scram')
    try {
      write(alertRecord(env, f, actions))
    } catch {
      report('the privacy monitor could not write an alert')
    }
    for (const action of actions) {
      if (action === 'block') {
        const seconds = config.blockSeconds ?? f.windowSeconds ?? config.repeatMs / 1000
        enforcement.block(f.actor, seconds, `rule:${f.rule}`, f.message, false)
      } else {
        enforcement.scram(`rule:${f.rule}`, `${f.rule}: actor ${f.actor} ${f.message}`, false)
      }
    }
    const hook = config.onAlert
    if (hook) {
      const alert = toAlert(f, config.block, config.scram)
      try {
        const r = hook(alert) as unknown
        if (r && typeof (r as Promise<unknown>).then === 'function') {
          ;(r as Promise<unknown>).then(undefined, () => hookFailed())
        }
      } catch {
        hookFailed()
      }
    }
  }
  const hookFailed = () => {
    hookErrors++
    report('monitor.onAlert threw; the alert was still written to the trail')
  }
  const raiseAll = (list: Finding[] | undefined) => {
    if (list) for (const f of list) raise(f)
  }
  let signalHandler: (() => void) | undefined
  if (config.signal) {
    const signal = config.signal
    signalHandler = () => enforcement.scram(`signal:${signal}`, `${signal} received`, false)
    process.on(signal, signalHandler)
  }

  const monitor: LiveMonitor = {
    observe(record) {
      if (!config.enabled) return
      try {
        const a = accessViewOf(record, timeOf)
        if (a === undefined) return
        accesses++
        a.time = clock(a.time)
        raiseAll(engine.direct(a))
        if (!engine.counted(a)) return
        const individual = engine.countedIndividual(a)
        const local = memory.add(a.actor, individual, a.time)
        if (shared === undefined || !shared.ready) {
          counted(a, local)
          return
        }
        // At most one round trip (accesses batched over batchMs, and while the previous call is
        // out); the request does not wait for it.
        // The per-process counts are copied: memory.add reuses its answer.
        const waiting: Waiting = { view: a, individuals: local.individuals, records: local.records }
        shared.add(a.actor, individual, a.time, waiting)
      } catch {
        engine.ruleErrors++
      }
    },
    block(actorId, options) {
      if (!validId(actorId))
        throw new TypeError('boundary-audit: monitor.block(actorId) needs a non-empty actor id')
      const seconds = options?.seconds ?? config.blockSeconds ?? MONITOR_DEFAULTS.operatorBlockSeconds
      if (typeof seconds !== 'number' || !(seconds > 0)) {
        throw new TypeError(
          'boundary-audit: monitor.block(actorId, { seconds }) needs a positive number of seconds (Infinity: until unblocked)',
        )
      }
      enforcement.block(actorId, seconds, 'operator', options?.reason, true)
    },
    unblock(actorId, options) {
      if (!validId(actorId))
        throw new TypeError('boundary-audit: monitor.unblock(actorId) needs a non-empty actor id')
      enforcement.unblock(actorId, 'operator', options?.reason, true)
    },
    scram(options) {
      enforcement.scram('operator', options?.reason, true)
    },
    unscram(options) {
      enforcement.unscram('operator', options?.reason, true)
    },
    isBlocked: (actorId) => validId(actorId) && enforcement.isBlocked(actorId),
    get scrammed() {
      return enforcement.scrammed
    },
    blocked: () => enforcement.blocked(),
    verdict(actorId, path, reachesPhi) {
      try {
        return enforcement.verdict(actorId, path, reachesPhi)
      } catch {
        return 0
      }
    },
    get active() {
      return enforcement.active
    },
    stats(): MonitorStats {
      return {
        enabled: config.enabled,
        accesses,
        alerts,
        ruleErrors: engine.ruleErrors + hookErrors,
        store: shared === undefined ? 'memory' : shared.ready ? 'redis' : 'memory-fallback',
      }
    },
    async close() {
      enforcement.stop()
      if (signalHandler && config.signal) process.removeListener(config.signal, signalHandler)
      await shared?.close()
    },
  }
  return monitor
}

/**
 * Compiles the `monitor` option (throws on bad options: call before opening anything) and returns
 * a starter the logger calls once its writer exists.
 */
export function prepareMonitor(
  options: unknown,
  ctx: { policy: BuildEnv['policy']; serviceName: string },
): (deps: Omit<MonitorDeps, 'connect'>) => LiveMonitor {
  const config = compileMonitorOptions(options, ctx)
  // Redis shares the counts and the enforcement state (blocks, scram), so it is used even with
  // the counting rules off.
  const useRedis = config.enabled && config.redis !== undefined
  const Ctor = useRedis && config.redis?.client === undefined ? loadRedis() : undefined
  return (deps) =>
    createMonitor(config, {
      ...deps,
      connect: useRedis
        ? (done) => createRedisStore(config.redis as RedisConfig, config.counts, deps.report, done, Ctor)
        : undefined,
    })
}

function validId(id: unknown): id is string {
  return (typeof id === 'string' && id.length > 0) || typeof id === 'number'
}
