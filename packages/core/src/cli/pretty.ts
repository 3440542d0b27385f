import { parseArgs } from 'node:util'
import { expandKeys } from '../integrity/canonical'
import { type CliIO, readRecords } from './io'

export const PRETTY_USAGE = `usage: boundary-audit pretty [--no-color] [FILE|-]...

One line per audit event: time, level, action, outcome, actor, summary (resource, rows, duration,
request id, SQLSTATE, reason, seq). Reads the same inputs as
\`verify\` (raw NDJSON, CRI, Fluentd/Docker, Elasticsearch exports); standard input when no FILE.
`

type Obj = Record<string, unknown>

const COLORS: Record<string, string> = { error: '31', warn: '33', info: '32', debug: '90' }

/** Control characters (ANSI escapes, newlines) from logged strings must not reach the terminal. */
function clean(value: unknown, max = 200): string {
  let s = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value)
  if (s.length > max) s = `${s.slice(0, max - 1)}…`
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )
}

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined
    cur = expandKeys(cur as Obj)[seg]
  }
  return cur
}

export function formatEvent(record: Obj, color: boolean): string {
  const time = clean(get(record, '@timestamp'), 40).padEnd(24)
  const levelRaw = clean(get(record, 'log.level'), 8) || '-'
  let level = levelRaw.toUpperCase().padEnd(5)
  if (color && COLORS[levelRaw]) level = `\u001b[${COLORS[levelRaw]}m${level}\u001b[0m`
  const action = clean(get(record, 'event.action'), 40) || '-'
  const outcome = clean(get(record, 'event.outcome'), 10) || '-'
  const userId = get(record, 'user.id')
  const effective = get(record, 'user.effective.id')
  const actor =
    userId === undefined
      ? '-'
      : `${clean(userId, 60)}${effective !== undefined ? ` (for ${clean(effective, 60)})` : ''}`

  const extra: string[] = []
  const resourceType = get(record, 'audit.resource.type')
  if (resourceType !== undefined) {
    const id = get(record, 'audit.resource.id')
    extra.push(`${clean(resourceType, 40)}${id !== undefined ? `:${clean(id, 60)}` : ''}`)
  }
  const rows = get(record, 'db.response.returned_rows')
  if (typeof rows === 'number') extra.push(`${rows} row(s)`)
  const duration = get(record, 'event.duration')
  if (typeof duration === 'number') extra.push(`${(duration / 1e6).toFixed(1)} ms`)
  const requestId = get(record, 'http.request.id')
  if (requestId !== undefined) extra.push(`req ${clean(requestId, 64)}`)
  // PostgreSQL's SQLSTATE (db.response.status_code; error.code of a failed query)
  const sqlState =
    get(record, 'db.response.status_code') ??
    (get(record, 'db') !== undefined ? get(record, 'error.code') : undefined)
  if (sqlState !== undefined) extra.push(`SQLSTATE ${clean(sqlState, 16)}`)
  const reason = get(record, 'event.reason')
  if (reason !== undefined) extra.push(`reason: ${clean(reason, 80)}`)
  const seq = get(record, 'audit.integrity.seq')
  if (typeof seq === 'number') extra.push(`#${seq}`)
  const message = clean(get(record, 'message'), 200)
  const summary = [message, ...extra].filter(Boolean).join('  ')
  return `${time} ${level} ${action.padEnd(22)} ${outcome.padEnd(7)} ${actor.padEnd(16)} ${summary}`
}

export async function pretty(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'no-color': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    io.stdout(PRETTY_USAGE)
    return 0
  }
  const color = io.isTTY === true && !values['no-color'] && !process.env.NO_COLOR
  let out: string[] = []
  await readRecords(positionals, io, (found) => {
    out.push(formatEvent(found.record, color))
    if (out.length >= 512) {
      io.stdout(`${out.join('\n')}\n`)
      out = []
    }
  })
  if (out.length > 0) io.stdout(`${out.join('\n')}\n`)
  return 0
}
