import { parseArgs } from 'node:util'
import type { VerifyReport } from '../verify/findings'
import { formatReport } from '../verify/format'
import { createThreadedVerifier, type ThreadedVerifier } from '../verify/parallel/threaded'
import { type CliIO, inputChunks, UsageError } from './io'

export const VERIFY_USAGE = `usage: boundary-audit verify [--key PRIVATE.pem]... [--json] [--until TIME] [--ignore-order] [FILE|-]...

Checks the integrity chain of audit records as they come back from the logging stack: raw NDJSON,
Kubernetes CRI log files, Fluentd / Fluent Bit / Docker records (JSON under "log"), Elasticsearch
exports (hits with _source, or a search response). Reads standard input when no FILE is given.

  --key FILE       verifier private key (from \`boundary-audit keygen\`); repeat for rotated keys
  --json           machine-readable report on stdout
  --until TIME     end of the period the input covers (ISO 8601); default: the latest record.
                   A stream silent for longer than its checkpoint interval before TIME is reported
                   as truncated.
  --ignore-order   do not report records that appear out of the order they were written

Exit status: 0 intact, 1 tampering or gaps found, 2 usage error, unreadable input or nothing verifiable.
`

export async function verify(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      key: { type: 'string', short: 'k', multiple: true },
      json: { type: 'boolean' },
      until: { type: 'string' },
      'ignore-order': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) {
    io.stdout(VERIFY_USAGE)
    return 0
  }
  let until: number | undefined
  if (values.until !== undefined) {
    until = Date.parse(values.until)
    if (!Number.isFinite(until)) throw new UsageError(`--until must be an ISO 8601 time; got ${values.until}`)
  }
  let verifier: ThreadedVerifier
  try {
    verifier = createThreadedVerifier({
      privateKey: values.key,
      until,
      ignoreOrder: values['ignore-order'] === true,
    })
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message.replace(/^boundary-audit: /, ''))
    throw err
  }
  try {
    for await (const chunk of inputChunks(positionals, io)) await verifier.write(chunk)
  } catch (err) {
    await verifier.abort()
    throw err
  }
  const report: VerifyReport = await verifier.end()
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
  return report.exitCode
}
