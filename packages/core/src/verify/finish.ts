/**
 * What only the whole input tells: lineage between an instance's streams, silent tails, each
 * stream's status, the exit code and the one-line summary.
 */
import { allowanceSeconds, finding, iso, type StreamReport, seqRange, type VerifyReport } from './findings'
import type { StreamOutcome } from './stream-report'

/** Successors name their predecessor and the last checkpoint it reached. */
export function checkLineage(outcomes: ReadonlyMap<string, StreamOutcome>): void {
  for (const succ of outcomes.values()) {
    const prev = succ.report.previous
    if (!prev) continue
    const pred = outcomes.get(prev.stream)
    if (!pred) continue
    prev.present = true
    pred.successor = succ.report.stream
    const lastValid = pred.walker.lastValid?.seq ?? -1
    if (prev.seq > lastValid) {
      pred.report.findings.push(
        finding(
          pred.report.stream,
          'deleted',
          `${seqRange(lastValid + 1, prev.seq)} missing: the next stream of this instance (${succ.report.stream}) recorded that this one had reached seq ${prev.seq}`,
          { from: lastValid + 1, to: prev.seq },
        ),
      )
      continue
    }
    const marks = pred.walker.marks
    const mac = marks.get(prev.seq)
    // The successor names a checkpoint (the instance's state is saved at each): a record there that
    // is not one, or one with another MAC, means one of the two streams was rewritten.
    const oldestKept = marks.size > 0 ? marks.keys().next().value! : Number.POSITIVE_INFINITY
    const notACheckpoint = mac === undefined && pred.walker.validAt(prev.seq) && prev.seq >= oldestKept
    if (notACheckpoint || (mac !== undefined && succ.previousMac !== undefined && mac !== succ.previousMac)) {
      succ.report.findings.push(
        finding(
          succ.report.stream,
          'lineage-mismatch',
          `this stream's genesis names seq ${prev.seq} of stream ${prev.stream} with another MAC than the one present: one of the two streams was rewritten`,
          { seq: 0 },
        ),
      )
    }
  }
}

/** A stream without closing record: followed by another of its instance, or silent too long before `until`. */
export function checkTail(o: StreamOutcome, until: number | undefined): void {
  const r = o.report
  const last = o.walker.lastValid
  if (r.closed || last === undefined) return
  if (o.successor !== undefined) {
    r.findings.push(
      finding(
        r.stream,
        'never-closed',
        `the stream has no closing record after seq ${last.seq} (${iso(last.time)}), and the same instance then started stream ${o.successor}: the process stopped without closing, or the tail was deleted`,
        { seq: last.seq },
      ),
    )
    return
  }
  const interval = r.interval
  if (interval === undefined || interval <= 0 || until === undefined || !Number.isFinite(last.time)) return
  if ((until - last.time) / 1000 > allowanceSeconds(interval)) {
    r.findings.push(
      finding(
        r.stream,
        'truncated-tail',
        `no checkpoint or closing record within ${interval} s after seq ${last.seq} (${iso(last.time)}); the input runs to ${iso(until)}: records after seq ${last.seq} were deleted, or the process stopped without closing`,
        { seq: last.seq },
      ),
    )
  }
}

export function setStatus(r: StreamReport): void {
  const sev = new Set(r.findings.map((f) => f.severity))
  if (sev.has('tamper')) r.status = 'tampered'
  else if (sev.has('gap') || sev.has('order')) r.status = 'gaps'
  else if (sev.has('unverifiable') || r.keyed === undefined) r.status = 'unverified'
  else if (r.keyed === false) r.status = 'unauthenticated'
  else if (!r.closed) r.status = 'open'
  else r.status = 'intact'
}

export function exitCodeOf(reports: readonly StreamReport[]): 0 | 1 | 2 {
  const severities = new Set(reports.flatMap((r) => r.findings.map((f) => f.severity)))
  if (severities.has('tamper') || severities.has('gap') || severities.has('order')) return 1
  if (severities.has('unverifiable') || reports.length === 0) return 2
  return 0
}

export function summarise(report: VerifyReport): string {
  const n = report.streams.length
  if (n === 0) return 'no audit records found in the input'
  const bad = report.streams.filter((s) => s.status === 'tampered' || s.status === 'gaps').length
  if (report.exitCode === 1) {
    return `TAMPERING OR GAPS FOUND: ${report.findings.filter((f) => f.severity !== 'unverifiable').length} finding(s) in ${bad} of ${n} stream(s)`
  }
  if (report.exitCode === 2)
    return `NOT VERIFIED: ${n} stream(s), MACs could not be checked (verifier key missing)`
  const unauth = report.streams.filter((s) => s.status === 'unauthenticated').length
  if (unauth > 0) {
    return `no damage found in ${n} stream(s), but ${unauth} are unauthenticated (unkeyed chain): tampering by someone able to recompute hashes would not show`
  }
  return `intact: ${n} stream(s), ${report.input.records - report.input.duplicates} records, every MAC checked`
}
