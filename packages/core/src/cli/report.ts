import { parseArgs } from 'node:util'
import { loadPseudonymKey, readerPseudonymKeys } from '../redact/pseudonymize'
import { createThreadedEvidenceReport, type ThreadedEvidenceCollector } from '../verify/report/evidence'
import { formatEvidence, formatEvidenceCsv } from '../verify/report/format'
import { type CliIO, inputChunks, UsageError } from './io'
import { loadRules } from './monitor-replay'

export const REPORT_USAGE = `usage: boundary-audit report [--key PRIVATE.pem]... [--pseudonym-key FILE]...
         [--actor ID]... [--session ID]... [--ip IP]... [--patient ID]... [--resource-type TYPE]
         [--from TIME] [--to TIME] [--until TIME] [--rules FILE] [--json | --csv] [FILE|-]...

Which individuals did an actor, session or client IP reach between two times, and who reached a
given individual: counted from an exported trail (the same inputs as \`verify\`), in the same pass
as its verification, over authentic records only. Says whether the evidence is complete: every
stream with records in the window verified intact through the window.

  --key FILE            verifier private key; repeat for rotated keys (without it nothing is verified)
  --pseudonym-key FILE  pseudonym secret (or a file holding it); repeat for retired keys. Default:
                        BOUNDARY_AUDIT_PSEUDONYM_KEY (+ BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS)
  --actor ID            records by this user (user.id or user.effective.id; clear or pseudonymised)
  --session ID          records of this session (audit.session, pseudonymised in the trail)
  --ip IP               records from this client IP (source.ip)
  --patient ID          records naming this individual (clear id, pseudonymised with the key(s))
  --resource-type TYPE  the audit.resource.type that names individuals (default: patient)
  --from TIME, --to TIME  the window (ISO 8601, both ends included); default: the whole input
  --until TIME          end of the period the input covers (see verify); default: its latest record
  --rules FILE          also replay the privacy monitor's rules (the \`monitor\` option of
                        createAuditLogger(), as a .mjs or .json file, as for monitor-replay) over the
                        authentic records of the window, in the same pass: the alerts they raise
  --json                machine-readable report (complete, records, individuals, byIndividual,
                        byActor, findings, ...)
  --csv                 one row per individual (for the notification workflow)

Exit status: 0 complete, 1 incomplete or tampered (the counts are a lower bound; the findings say
why), 2 usage error or unreadable input.
`

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const t = Date.parse(value)
  if (!Number.isFinite(t)) throw new UsageError(`--${name} must be an ISO 8601 time; got ${value}`)
  return t
}

function pseudonymKeys(given: readonly string[] | undefined): Buffer[] {
  try {
    if (given && given.length > 0) return given.map((g) => loadPseudonymKey(g, '--pseudonym-key'))
    return readerPseudonymKeys().map((k) => k.key)
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^boundary-audit: /, ''))
  }
}

export async function report(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      key: { type: 'string', short: 'k', multiple: true },
      'pseudonym-key': { type: 'string', multiple: true },
      actor: { type: 'string', multiple: true },
      session: { type: 'string', multiple: true },
      ip: { type: 'string', multiple: true },
      patient: { type: 'string', multiple: true },
      'resource-type': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      until: { type: 'string' },
      rules: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    io.stdout(REPORT_USAGE)
    return 0
  }
  if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other')
  const from = time('from', values.from)
  const to = time('to', values.to)
  if (from !== undefined && to !== undefined && from > to) throw new UsageError('--from is after --to')
  const keys = pseudonymKeys(values['pseudonym-key'])
  if (keys.length === 0 && (values.patient?.length || values.session?.length)) {
    io.stderr(
      'boundary-audit report: no pseudonym key (--pseudonym-key or BOUNDARY_AUDIT_PSEUDONYM_KEY): --patient and --session values are compared as given, and will not match pseudonymised ids\n',
    )
  }
  const rules = values.rules !== undefined ? await loadRules(values.rules) : undefined
  let collector: ThreadedEvidenceCollector
  try {
    collector = createThreadedEvidenceReport({
      privateKey: values.key,
      pseudonymKeys: keys,
      actors: values.actor,
      sessions: values.session,
      ips: values.ip,
      patients: values.patient,
      resourceType: values['resource-type'],
      from,
      to,
      until: time('until', values.until),
      rules,
      rulesPseudonymKey: keys[0],
    })
  } catch (err) {
    // Bad options (the rules file's included): createAuditLogger()'s messages, before any input is read.
    if (err instanceof TypeError || rules)
      throw new UsageError((err as Error).message.replace(/^boundary-audit: /, ''))
    throw err
  }
  try {
    for await (const chunk of inputChunks(positionals, io)) await collector.write(chunk)
  } catch (err) {
    await collector.abort()
    throw err
  }
  const r = await collector.end()
  io.stdout(
    values.json ? `${JSON.stringify(r, null, 2)}\n` : values.csv ? formatEvidenceCsv(r) : formatEvidence(r),
  )
  return r.exitCode
}
