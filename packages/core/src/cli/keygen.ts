import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateVerifierKeyPair } from '../integrity/keys'
import { type CliIO, UsageError } from './io'

export const KEYGEN_USAGE = `usage: boundary-audit keygen --out DIR

Writes a verifier key pair (X25519):
  DIR/verifier-public.pem    give to services: BOUNDARY_AUDIT_VERIFIER_KEY (PEM text or this path)
  DIR/verifier-private.pem   keep with the auditors (mode 0600); \`boundary-audit verify --key\` needs it
Refuses to overwrite existing files.
`

export async function keygen(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    io.stdout(KEYGEN_USAGE)
    return 0
  }
  if (!values.out) throw new UsageError('keygen needs --out DIR')
  const dir = values.out
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new UsageError(
      `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  const pair = generateVerifierKeyPair()
  const pub = join(dir, 'verifier-public.pem')
  const priv = join(dir, 'verifier-private.pem')
  // Private first, with 'wx' so an existing key is never replaced (losing it makes old logs unverifiable).
  try {
    writeFileSync(priv, pair.privateKeyPem, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(
      code === 'EEXIST'
        ? `${priv} already exists; not overwriting a verifier key (pick another --out)`
        : `cannot write ${priv}: ${code}`,
    )
  }
  chmodSync(priv, 0o600) // the umask may have widened nothing, but be explicit
  try {
    writeFileSync(pub, pair.publicKeyPem, { flag: 'wx', mode: 0o644 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(
      code === 'EEXIST' ? `${pub} already exists; not overwriting it` : `cannot write ${pub}: ${code}`,
    )
  }
  io.stdout(
    `verifier key ${pair.kid}\n  public:  ${pub}  (services: BOUNDARY_AUDIT_VERIFIER_KEY=${pub})\n  private: ${priv}  (auditors only; boundary-audit verify --key ${priv})\n`,
  )
  return 0
}
