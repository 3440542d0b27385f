/**
 * `boundary-audit` command line: keygen, verify, report, pretty.
 * Exit status: 0 success / intact / complete, 1 tampering or gaps found (verify, report), 2 usage error or unreadable input.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type CliIO, readStdin, UsageError } from './io'
import { KEYGEN_USAGE, keygen } from './keygen'
import { MONITOR_REPLAY_USAGE, monitorReplay } from './monitor-replay'
import { PRETTY_USAGE, pretty } from './pretty'
import { REPORT_USAGE, report } from './report'
import { respawn, shouldRespawn } from './respawn'
import { VERIFY_USAGE, verify } from './verify'

const USAGE = `usage: boundary-audit <command> [options]

commands:
  keygen --out DIR                       create a verifier key pair
  verify [--key PRIVATE.pem] [--json] [FILE|-]
                                         check the integrity chain of exported audit logs
  report [--key PRIVATE.pem] [--actor ID | --patient ID | --session ID | --ip IP]...
         [--from TIME] [--to TIME] [--json | --csv] [FILE|-]
                                         which individuals were reached, by whom, and whether
                                         the evidence is complete
  pretty [FILE|-]                        one human-readable line per audit event
  monitor-replay --rules FILE [--json] [FILE|-]
                                         the privacy monitor's rules over an export: the alerts they raise

Run \`boundary-audit <command> --help\` for details.
`

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'keygen':
        return await keygen(rest, io)
      case 'verify':
        return await verify(rest, io)
      case 'report':
        return await report(rest, io)
      case 'pretty':
        return await pretty(rest, io)
      case 'monitor-replay':
        return await monitorReplay(rest, io)
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE)
        return 0
      case undefined:
        io.stderr(USAGE)
        return 2
      default:
        io.stderr(`boundary-audit: unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
        return 2
    }
  } catch (err) {
    const usage =
      {
        keygen: KEYGEN_USAGE,
        verify: VERIFY_USAGE,
        report: REPORT_USAGE,
        'monitor-replay': MONITOR_REPLAY_USAGE,
      }[command ?? ''] ?? PRETTY_USAGE
    if (err instanceof UsageError) {
      io.stderr(`boundary-audit ${command}: ${err.message}\n`)
      return 2
    }
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`boundary-audit ${command}: ${(err as Error).message}\n\n${usage}`)
      return 2
    }
    io.stderr(`boundary-audit ${command}: ${(err as Error)?.stack ?? String(err)}\n`)
    return 2
  }
}

function isMain(): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  const args = process.argv.slice(2)
  if (shouldRespawn(args[0])) {
    respawn(process.argv[1]!, args).then((code) => {
      process.exitCode = code
    })
  } else {
    const io: CliIO = {
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      stdin: readStdin,
      isTTY: process.stdout.isTTY === true,
    }
    main(args, io).then(
      (code) => {
        process.exitCode = code
      },
      (err) => {
        process.stderr.write(`boundary-audit: ${String(err)}\n`)
        process.exitCode = 2
      },
    )
  }
}
