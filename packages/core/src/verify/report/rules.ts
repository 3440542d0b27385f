/**
 * `report --rules`: the privacy monitor's rules replayed over the authentic records of the window,
 * in the same pass as verification (monitor/replay.ts judges them with the live rule code), so a
 * privacy officer can test thresholds on last month's trail. Memory: one small view per access in
 * the window (the rules need them in time order, and an export is not).
 */
import { compileReplayOptions, judgeAccesses, type ReplayConfig } from '../../monitor/replay'
import type { AccessView, MonitorAlert, MonitorOptions } from '../../monitor/types'
import type { Entry } from '../entry'
import type { RecordFacts } from './facts'

export interface RulesReplay {
  /** Authentic records in the window. */
  records: number
  /** Accesses the rules judged. */
  accesses: number
  /** Alerts the rules raise over them, in time order. */
  alerts: MonitorAlert[]
  byRule: Record<string, number>
  /** Alerts the live monitor wrote into the trail (authentic, in the window). */
  recordedAlerts: number
}

export class RulesCollector {
  private readonly views: AccessView[] = []
  private records = 0
  private recordedAlerts = 0
  private readonly config: ReplayConfig

  /** Throws createAuditLogger()'s messages when the rules are not valid monitor options. */
  constructor(
    rules: MonitorOptions,
    private readonly inWindow: (time: number) => boolean,
    pseudonymKey: Buffer | undefined,
  ) {
    this.config = compileReplayOptions(rules, { pseudonymKey })
  }

  add(e: Entry): void {
    const f = e.facts as RecordFacts | undefined
    if (!f || !this.inWindow(f.time)) return
    this.records++
    if (f.alert) this.recordedAlerts++
    if (f.access) this.views.push(f.access)
  }

  finish(): RulesReplay {
    const { alerts, byRule } = judgeAccesses(this.views, this.config)
    return {
      records: this.records,
      accesses: this.views.length,
      alerts,
      byRule,
      recordedAlerts: this.recordedAlerts,
    }
  }
}
