// The rules over a trail after the fact: the same rule code as the live monitor (engine.ts), fed
// from exported lines instead of the logger, so a privacy officer can try thresholds on last month's
// trail before turning enforcement on. Pure: no I/O, no clock; records are judged by their @timestamp.
import { compilePolicy } from '../redact/index'
import { type Finding, RuleEngine } from './engine'
import { compileMonitorOptions } from './options'
import { MemoryCounts } from './store-memory'
import type { AccessView, MonitorAlert, MonitorOptions } from './types'
import { accessViewOf, isoTimeReader } from './view'

export interface ReplayOptions {
  /** Pseudonym secret(s) of the trail, needed only for `watched.ids` (clear ids). */
  pseudonymKey?: string | Buffer
}

export interface ReplayResult {
  /** Records read (lines that were not JSON objects are skipped and counted in `skipped`). */
  records: number
  skipped: number
  /** Records the rules judged (accesses by an actor). */
  accesses: number
  /** Alerts, in time order, as the live monitor would have raised them. */
  alerts: MonitorAlert[]
  /** Alerts the live monitor already wrote into this trail (`event.kind: "alert"`). */
  recordedAlerts: number
  /** Alerts per rule. */
  byRule: Record<string, number>
}

/**
 * Runs the monitor's rules over records (parsed objects or NDJSON lines) in time order.
 * `options` are the same as createAuditLogger's `monitor` option; enforcement is reported on each
 * alert (what would have been done), never carried out; Redis settings are ignored.
 */
export function replayMonitor(
  records: Iterable<unknown>,
  options: MonitorOptions = {},
  replay: ReplayOptions = {},
): ReplayResult {
  const config = compileReplayOptions(options, replay)
  let count = 0
  let skipped = 0
  let recordedAlerts = 0
  const views: AccessView[] = []
  const timeOf = isoTimeReader()
  for (const item of records) {
    let record: unknown = item
    if (typeof item === 'string') {
      if (item.trim() === '') continue
      try {
        record = JSON.parse(item)
      } catch {
        skipped++
        continue
      }
    }
    if (record === null || typeof record !== 'object') {
      skipped++
      continue
    }
    count++
    if ((record as { event?: { kind?: unknown } }).event?.kind === 'alert') recordedAlerts++
    const view = accessViewOf(record, timeOf)
    if (view) views.push(view)
  }
  const judged = judgeAccesses(views, config)
  return { records: count, skipped, accesses: views.length, recordedAlerts, ...judged }
}

export type ReplayConfig = ReturnType<typeof compileMonitorOptions>

/** The rules as the replay runs them; throws createAuditLogger()'s messages on bad options. */
export function compileReplayOptions(options: MonitorOptions, replay: ReplayOptions): ReplayConfig {
  const policy =
    replay.pseudonymKey !== undefined ? compilePolicy({ pseudonymKey: replay.pseudonymKey }) : undefined
  const { redis: _ignored, ...rest } = (options ?? {}) as MonitorOptions
  return compileMonitorOptions({ ...rest, enabled: true }, { policy, env: {} })
}

/** The accesses judged by the rules in time order (sorted here when they are not). */
export function judgeAccesses(
  views: AccessView[],
  config: ReplayConfig,
): Pick<ReplayResult, 'alerts' | 'byRule'> {
  const engine = new RuleEngine(config)
  const memory = new MemoryCounts(config.counts)
  // Exports come from several streams and shippers: judge accesses in time order (stable for ties).
  let ordered = true
  for (let i = 1; i < views.length && ordered; i++)
    ordered = (views[i] as AccessView).time >= (views[i - 1] as AccessView).time
  if (!ordered) views.sort((a, b) => a.time - b.time)

  const alerts: MonitorAlert[] = []
  const byRule: Record<string, number> = {}
  const raise = (list: Finding[] | undefined) => {
    if (!list) return
    for (const f of list) {
      byRule[f.rule] = (byRule[f.rule] ?? 0) + 1
      alerts.push(toAlert(f, config.block, config.scram))
    }
  }
  for (const a of views) {
    raise(engine.direct(a))
    if (engine.counted(a))
      raise(engine.fromCounts(a, memory.add(a.actor, engine.countedIndividual(a), a.time)))
  }
  return { alerts, byRule }
}

export function toAlert(f: Finding, block: Set<string>, scram: Set<string>): MonitorAlert {
  const enforcement: ('block' | 'scram')[] = []
  if (block.has(f.rule)) enforcement.push('block')
  if (scram.has(f.rule)) enforcement.push('scram')
  const alert: MonitorAlert = {
    rule: f.rule,
    actor: f.actor,
    message: f.message,
    time: new Date(f.time).toISOString(),
  }
  if (f.count !== undefined) alert.count = f.count
  if (f.threshold !== undefined) alert.threshold = f.threshold
  if (f.windowSeconds !== undefined) alert.windowSeconds = f.windowSeconds
  if (f.individual !== undefined) alert.individual = f.individual
  if (enforcement.length > 0) alert.enforcement = enforcement
  return alert
}
