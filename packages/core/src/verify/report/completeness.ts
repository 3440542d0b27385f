/**
 * Whether the counts rest on a complete record: every stream with records in the window verified
 * intact through the window. A finding that lies wholly after the window (its first seq past the
 * record after the stream's last one in the window) does not touch the counts; reordering is not a
 * loss. Unreadable input anywhere is a reason too: it may have held records of any stream.
 */
import { type Finding, finding, type StreamReport, type VerifyReport } from '../findings'

export interface Window {
  from?: number
  to?: number
}

function overlaps(s: StreamReport, w: Window): boolean {
  if (s.start === undefined || s.end === undefined) return true
  const start = Date.parse(s.start)
  const end = Date.parse(s.end)
  const tailMissing = s.findings.some((f) => f.kind === 'truncated-tail' || f.kind === 'never-closed')
  return (
    start <= (w.to ?? Number.POSITIVE_INFINITY) &&
    (end >= (w.from ?? Number.NEGATIVE_INFINITY) || tailMissing)
  )
}

function afterWindow(f: Finding, lastSeqInWindow: number | undefined): boolean {
  const first = f.seq ?? f.from
  return lastSeqInWindow !== undefined && first !== undefined && first > lastSeqInWindow + 1
}

/** The findings that make the report incomplete (empty: complete). */
export function incompleteBecause(
  verify: VerifyReport,
  w: Window,
  lastSeqInWindow: ReadonlyMap<string, number>,
): Finding[] {
  const out: Finding[] = []
  for (const s of verify.streams) {
    if (!overlaps(s, w)) continue
    const last = lastSeqInWindow.get(s.stream)
    for (const f of s.findings) {
      if (f.severity === 'order' || afterWindow(f, last)) continue
      out.push(f)
    }
  }
  const attributed = verify.findings
    .filter((f) => f.kind === 'unreadable')
    .reduce((n, f) => n + (f.count ?? 0), 0)
  if (verify.input.unreadable > attributed) {
    out.push(
      finding(
        '',
        'unreadable',
        `${verify.input.unreadable} unreadable line(s) in the input (lines ${verify.input.unreadableLines.slice(0, 10).join(', ')}${verify.input.unreadable > 10 ? ', ...' : ''}): they may have held records`,
        { count: verify.input.unreadable, lines: verify.input.unreadableLines.slice(0, 10) },
      ),
    )
  }
  return out
}
