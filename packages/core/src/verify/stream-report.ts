/** A walked stream's report: its findings in a fixed order, its intact runs, span and status. */
import { classifyFailure } from './classify'
import { finding, type StreamReport, seqRange } from './findings'
import { anyBetween, subtractRanges, unionRanges } from './ranges'
import type { StreamWalker } from './walker'

/** What lineage and tail checks need of a stream after its report is made. */
export interface StreamOutcome {
  report: StreamReport
  walker: StreamWalker
  /** MAC the successor's genesis says this stream's checkpoint had. */
  previousMac?: string
  successor?: string
}

export function streamReport(w: StreamWalker, ignoreOrder: boolean): StreamOutcome {
  const start = w.start!
  const report: StreamReport = {
    stream: w.id,
    keyed: start.keyed,
    authenticated: start.k0 !== undefined,
    status: 'intact',
    records: w.records,
    duplicates: w.duplicates,
    intact: [],
    closed: false,
    findings: [...start.findings, ...w.walkFindings],
  }
  if (w.service !== undefined) report.service = w.service
  if (w.instance !== undefined) report.instance = w.instance
  if (w.interval !== undefined) report.interval = w.interval
  if (start.previous) {
    const { mac: _mac, ...previous } = start.previous
    report.previous = { ...previous, present: false }
  }

  const intact = unionRanges(w.intact, w.fills)
  const gaps = subtractRanges(w.gaps, w.fills)
  const lastValidSeq = w.lastValid?.seq ?? -1
  report.closed = w.closedSeq !== undefined && w.closedSeq === lastValidSeq

  const facts = {
    stream: w.id,
    validAt: (s: number) => w.validAt(s),
    lastValid: w.lastValid,
    closedSeq: w.closedSeq,
  }
  const failures = [...w.failures, ...w.lateFailures].sort((a, b) => a.seq - b.seq)
  for (const f of failures) report.findings.push(classifyFailure(f, facts))
  if (w.failuresNotKept > 0) {
    report.findings.push(
      finding(
        w.id,
        'modified',
        `${w.failuresNotKept} more record(s) do not match their MAC (not listed one by one)`,
        {
          count: w.failuresNotKept,
        },
      ),
    )
  }

  const end = Math.max(lastValidSeq, w.closedSeq ?? -1)
  const genesisMissing = start.findings.some((f) => f.kind === 'genesis-missing')
  for (const [from, to0] of gaps) {
    if (from > end) break
    const to = Math.min(to0, end)
    if (genesisMissing && from === 0 && to === 0) continue
    report.findings.push(finding(w.id, 'deleted', `${seqRange(from, to)} missing`, { from, to }))
  }
  report.findings.push(...w.lossFindings)
  report.findings.push(...w.silenceFindings((a, b) => anyBetween(gaps, a, b)))
  if (!ignoreOrder && !w.anyIndexed && w.order.count > 0) {
    report.findings.push(finding(w.id, 'reordered', w.order.describe(), { lines: w.order.lines.slice() }))
  }

  if (w.canCheck) report.intact = intact
  if (w.firstSeq !== undefined) {
    report.firstSeq = w.firstSeq
    report.lastSeq = lastValidSeq >= 0 ? lastValidSeq : w.maxPresent
  }
  if (Number.isFinite(w.minTime)) {
    report.start = new Date(w.minTime).toISOString()
    report.end = new Date(w.maxTime).toISOString()
  }
  return { report, walker: w, previousMac: start.previous?.mac }
}
