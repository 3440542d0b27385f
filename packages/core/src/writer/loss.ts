/**
 * Loss accounting: every event the logger accepted and did not write is counted here, and the
 * count goes into the chain as a loss record, sealed before the next record (or before the closing
 * record), so that `verify` reports it (CONTRACTS.md §1). Checkpoint and closing records carry the
 * running total, so a loss that never got its own record (the stream ended first) still shows as a
 * difference.
 */

/** Why events were not written. */
export type LossReason = 'buffer-full' | 'destination-error' | 'shutdown-deadline' | 'sealer-failed' | 'other'

export const LOSS_ACTION = 'audit-events-dropped'

export interface LossLedger {
  /** Counts `count` events lost for `reason`; `since` is when the first of them was lost (ISO time). */
  note(count: number, reason: LossReason, since?: string): void
  /** Events lost since the last loss record. */
  readonly pending: number
  /** Events lost in the stream so far (including pending). */
  readonly total: number
  /** The loss record for what is pending, and nothing pending afterwards; undefined when nothing is. */
  take(time: string): Record<string, unknown> | undefined
}

export function createLossLedger(): LossLedger {
  let pending = 0
  let total = 0
  // The reason of the largest share since the last record: one record names one reason.
  const byReason = new Map<LossReason, number>()
  let since: string | undefined
  return {
    note(count, reason, at) {
      if (!(count > 0)) return
      pending += count
      total += count
      byReason.set(reason, (byReason.get(reason) ?? 0) + count)
      since ??= at ?? new Date().toISOString()
    },
    get pending() {
      return pending
    },
    get total() {
      return total
    },
    take(time) {
      if (pending === 0) return undefined
      let reason: LossReason = 'other'
      let most = 0
      for (const [r, n] of byReason) {
        if (n > most) {
          most = n
          reason = r
        }
      }
      const record = lossRecord(time, pending, total, reason, since ?? time)
      pending = 0
      byReason.clear()
      since = undefined
      return record
    },
  }
}

/** The loss record (CONTRACTS.md §1); the sealer adds service and ecs.version. */
export function lossRecord(
  time: string,
  dropped: number,
  total: number,
  reason: LossReason,
  since: string,
): Record<string, unknown> {
  return {
    '@timestamp': time,
    'log.level': 'error',
    message: `${dropped} audit events dropped (${reason})`,
    event: {
      kind: 'event',
      category: ['process'],
      type: ['info'],
      action: LOSS_ACTION,
      outcome: 'failure',
    },
    audit: { loss: { dropped, total, reason, since } },
  }
}

/** Adds `audit.loss.total` to a checkpoint or closing record when anything was lost. */
export function withLossTotal(record: Record<string, unknown>, total: number): Record<string, unknown> {
  if (total > 0) {
    const audit = (record.audit as Record<string, unknown> | undefined) ?? {}
    audit.loss = { total }
    record.audit = audit
  }
  return record
}
