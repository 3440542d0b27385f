/** The evidence report as a privacy officer reads it (short tables) and as CSV, one row per individual. */
import type { EvidenceReport } from './evidence'

const ROWS = 50

/** Control characters from the trail (ANSI escapes, newlines) must not reach the terminal. */
function clean(value: unknown, max = 80): string {
  let s = value === undefined || value === null ? '' : String(value)
  if (s.length > max) s = `${s.slice(0, max - 1)}…`
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )
}

function table(head: string[], rows: string[][]): string[] {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i]!))).join('  ')
  return [line(head), ...rows.map(line)]
}

export function formatEvidence(r: EvidenceReport): string {
  const out: string[] = []
  const from = r.window.from ?? 'the start of the input'
  const to = r.window.to ?? 'the end of the input'
  out.push(`${r.resourceType} records from ${from} to ${to}, ${r.streams.length} stream(s) in the input`)
  out.push(r.summary)
  if (r.byIndividual.length > 0) {
    out.push('')
    const rows = r.byIndividual
      .slice(0, ROWS)
      .map((i) => [
        clean(i.id, 40),
        clean(i.patient ?? '', 24),
        String(i.records),
        i.first,
        i.last,
        clean(i.actions.join(' '), 60),
      ])
    out.push(...table(['individual', 'given as', 'records', 'first', 'last', 'actions'], rows))
    if (r.byIndividual.length > ROWS)
      out.push(`... ${r.byIndividual.length - ROWS} more (--csv or --json for all)`)
  }
  if (r.byActor.length > 0) {
    out.push('')
    const rows = r.byActor
      .slice(0, ROWS)
      .map((a) => [clean(a.id, 40), String(a.records), String(a.individuals)])
    out.push(...table(['actor', 'records', 'individuals'], rows))
    if (r.byActor.length > ROWS) out.push(`... ${r.byActor.length - ROWS} more (--json for all)`)
  }
  if (r.requestsWithoutAccessEvent.length > 0) {
    out.push('')
    out.push(
      `${r.requestsWithoutAccessEvent.length} request(s) carried pseudonymised route parameters but no access event: they may have reached individuals not named by an access event`,
    )
    for (const q of r.requestsWithoutAccessEvent.slice(0, 10)) {
      out.push(`  ${q.time}  ${clean(q.actor ?? '-', 30)}  ${clean(q.path, 100)}`)
    }
    if (r.requestsWithoutAccessEvent.length > 10) out.push('  ... (--json for all)')
  }
  if (r.monitor) out.push('', ...formatReplay(r.monitor))
  if (r.findings.length > 0) {
    out.push('')
    out.push('why the counts are a lower bound:')
    for (const f of r.findings.slice(0, 20)) {
      out.push(`  ${f.stream ? `stream ${f.stream}: ` : ''}${f.kind}: ${clean(f.message, 300)}`)
    }
    if (r.findings.length > 20) out.push(`  ... ${r.findings.length - 20} more (--json for all)`)
  }
  return `${out.join('\n')}\n`
}

/** A CSV cell: quoted when needed, and never read as a formula by a spreadsheet. */
function cell(value: string): string {
  let v = value
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

export function formatEvidenceCsv(r: EvidenceReport): string {
  const rows = [['individual', 'given_as', 'records', 'first', 'last', 'actions', 'actors']]
  for (const i of r.byIndividual) {
    rows.push([
      i.id,
      i.patient ?? '',
      String(i.records),
      i.first,
      i.last,
      i.actions.join(' '),
      i.actors.join(' '),
    ])
  }
  return `${rows.map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`
}

/** `--rules`: what the monitor's rules raise over the window's authentic records. */
function formatReplay(m: NonNullable<EvidenceReport['monitor']>): string[] {
  const byRule = Object.entries(m.byRule)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ')
  const out = [
    `monitor rules replayed over ${m.records} authentic record(s) (${m.accesses} accesses): ${m.alerts.length} alert(s)${byRule ? ` (${byRule})` : ''}; the live monitor wrote ${m.recordedAlerts}`,
  ]
  for (const a of m.alerts.slice(0, ROWS)) {
    const extra = [
      a.individual ? `individual ${clean(a.individual, 40)}` : '',
      a.enforcement ? `would ${a.enforcement.join(' + ')}` : '',
    ].filter(Boolean)
    out.push(
      `  ${a.time}  ${clean(a.rule, 12).padEnd(12)} ${clean(a.actor, 30).padEnd(20)} ${clean(a.message, 120)}${extra.length ? `  (${extra.join(', ')})` : ''}`,
    )
  }
  if (m.alerts.length > ROWS) out.push(`  ... ${m.alerts.length - ROWS} more (--json for all)`)
  return out
}
