import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { expandKeys } from '../integrity/canonical'
import { replayMonitor } from '../monitor/replay'
import type { MonitorOptions } from '../monitor/types'
import { loadPseudonymKey } from '../redact/pseudonymize'
import { type CliIO, readRecords, UsageError } from './io'

export const MONITOR_REPLAY_USAGE = `usage: boundary-audit monitor-replay --rules FILE [--pseudonym-key KEY|PATH] [--json] [FILE|-]...

Runs the privacy monitor's rules over an exported trail, in time order, with the same rule code as
the live monitor, and lists the alerts it would have raised: try thresholds on last month's trail
before turning enforcement on. --rules names a module (.mjs/.js, default export) or a .json file
holding the \`monitor\` option of createAuditLogger(). --pseudonym-key (default
BOUNDARY_AUDIT_PSEUDONYM_KEY) is needed only for watched.ids given as clear identifiers. Reads the
same inputs as \`verify\`; standard input when no FILE. Exit 0 when the replay ran, 2 on usage errors.
`

/** Loads the rules file: JSON, or a module whose default export (or `monitor` export) is the option. */
export async function loadRules(file: string): Promise<MonitorOptions> {
  const path = resolve(file)
  let value: unknown
  try {
    if (/\.json$/i.test(path)) {
      const { readFileSync } = await import('node:fs')
      value = JSON.parse(readFileSync(path, 'utf8'))
    } else {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; monitor?: unknown }
      value = mod.default ?? mod.monitor
    }
  } catch (err) {
    throw new UsageError(`cannot load the rules file ${file}: ${(err as Error)?.message ?? String(err)}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`the rules file ${file} must export an object like { breadth: { threshold: 100 } }`)
  }
  return value as MonitorOptions
}

export async function monitorReplay(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      rules: { type: 'string' },
      'pseudonym-key': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    io.stdout(MONITOR_REPLAY_USAGE)
    return 0
  }
  if (!values.rules)
    throw new UsageError('--rules FILE is required (the monitor option, as a .mjs or .json file)')
  const rules = await loadRules(values.rules)
  const keyText = values['pseudonym-key'] ?? process.env.BOUNDARY_AUDIT_PSEUDONYM_KEY
  let pseudonymKey: Buffer | undefined
  if (keyText !== undefined && keyText.trim() !== '') {
    try {
      pseudonymKey = loadPseudonymKey(keyText, '--pseudonym-key')
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
  }
  const records: unknown[] = []
  await readRecords(positionals, io, (found) => records.push(expandKeys(found.record)))

  let result: ReturnType<typeof replayMonitor>
  try {
    result = replayMonitor(records, rules, { pseudonymKey })
  } catch (err) {
    // Bad options in the rules file: the same messages createAuditLogger() gives.
    throw new UsageError((err as Error).message)
  }
  if (values.json) {
    io.stdout(`${JSON.stringify(result)}\n`)
    return 0
  }
  const rulesSeen = Object.entries(result.byRule)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ')
  io.stdout(
    `${result.records} records, ${result.accesses} accesses judged, ${result.alerts.length} alert(s)${rulesSeen ? ` (${rulesSeen})` : ''}; the trail itself holds ${result.recordedAlerts} alert(s) from the live monitor\n`,
  )
  for (const a of result.alerts) {
    const extra = [
      a.individual ? `individual ${a.individual}` : '',
      a.enforcement ? `would ${a.enforcement.join(' + ')}` : '',
    ].filter(Boolean)
    io.stdout(
      `${a.time}  ${a.rule.padEnd(10)} ${clean(a.actor).padEnd(20)} ${clean(a.message)}${extra.length ? `  (${extra.join(', ')})` : ''}\n`,
    )
  }
  return 0
}

/** Control characters from logged strings must not reach the terminal. */
function clean(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?').slice(0, 200)
}
