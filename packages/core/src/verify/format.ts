/** Human-readable text of a verification report (the CLI's default output). */
import type { Finding, StreamReport, VerifyReport } from './findings'

const LABEL: Record<Finding['kind'], string> = {
  modified: 'MODIFIED',
  remacked: 'MODIFIED, RE-MACED WITH A LATER KEY',
  inserted: 'INSERTED / FORGED',
  deleted: 'DELETED',
  reordered: 'REORDERED',
  'truncated-tail': 'TRUNCATED TAIL',
  'never-closed': 'NEVER CLOSED',
  'checkpoint-missing': 'CHECKPOINT MISSING',
  'genesis-missing': 'GENESIS MISSING',
  'genesis-invalid': 'GENESIS ALTERED',
  'broken-link': 'BROKEN LINK',
  'lineage-mismatch': 'LINEAGE MISMATCH',
  unauthenticated: 'UNAUTHENTICATED',
  'key-unavailable': 'NOT VERIFIED',
  dropped: 'EVENTS DROPPED',
  unreadable: 'UNREADABLE LINES',
  unproven: 'NOT AUTHENTICATED',
}

const STATUS: Record<StreamReport['status'], string> = {
  intact: 'intact, closed',
  open: 'intact so far, still open (no closing record yet, checkpoints up to the end of the input)',
  unauthenticated: 'no damage found, but UNAUTHENTICATED (unkeyed chain)',
  unverified: 'NOT VERIFIED (MACs not checked)',
  tampered: 'TAMPERED',
  gaps: 'GAPS',
}

function ranges(r: Array<[number, number]>): string {
  if (r.length === 0) return 'none'
  const shown = r.slice(0, 8).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
  return shown.join(', ') + (r.length > 8 ? `, ... (${r.length} runs)` : '')
}

export function formatReport(report: VerifyReport): string {
  const out: string[] = []
  const inp = report.input
  out.push(
    `read ${inp.lines} line(s): ${inp.records} audit record(s) (${inp.duplicates} duplicate(s)), ${inp.skipped} other JSON, ${inp.unparsable} not JSON, ${inp.unreadable} unreadable${unreadableLines(inp.unreadableLines)}${report.until ? `; input runs to ${report.until}` : ''}`,
  )
  for (const s of report.streams) {
    out.push('')
    const who = [s.service, s.instance].filter(Boolean).join(' @ ')
    const chain = s.keyed === true ? 'keyed' : s.keyed === false ? 'unkeyed' : 'chain type unknown'
    out.push(`stream ${s.stream}${who ? ` (${who})` : ''}, ${chain}: ${STATUS[s.status]}`)
    const span = s.start ? `, ${s.start} .. ${s.end}` : ''
    out.push(
      `  ${s.records} record(s)${s.duplicates ? ` + ${s.duplicates} duplicate(s)` : ''}, seq ${s.firstSeq ?? '-'}..${s.lastSeq ?? '-'}${span}`,
    )
    if (s.authenticated || s.keyed === false) out.push(`  intact: seq ${ranges(s.intact)}`)
    if (s.previous) {
      out.push(
        `  follows stream ${s.previous.stream} (its last checkpoint: seq ${s.previous.seq}${s.previous.closed ? ', closed' : ', not closed'})${s.previous.present ? '' : ' - not in this input'}`,
      )
    }
    for (const f of s.findings) out.push(`  ${LABEL[f.kind]}: ${f.message}${lines(f)}`)
  }
  out.push('')
  out.push(report.summary)
  return `${out.join('\n')}\n`
}

function lines(f: Finding): string {
  if (!f.lines || f.lines.length === 0) return ''
  const l = f.lines.slice(0, 10)
  return ` [line${l.length > 1 ? 's' : ''} ${l.join(', ')}${f.lines.length > 10 ? ', ...' : ''}]`
}

function unreadableLines(lines: readonly number[]): string {
  if (lines.length === 0) return ''
  return ` (line${lines.length > 1 ? 's' : ''} ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', ...' : ''})`
}
