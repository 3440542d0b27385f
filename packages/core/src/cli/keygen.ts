import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateVerifierKeyPair } from '../integrity/keys'
import { loadPseudonymKey, pseudonymKeyId } from '../redact/pseudonymize'
import { type CliIO, UsageError } from './io'

export const KEYGEN_USAGE = `usage: boundary-audit keygen --out DIR

Writes a verifier key pair (X25519) and a pseudonym key:
  DIR/verifier-public.pem    give to services: BOUNDARY_AUDIT_VERIFIER_KEY (PEM text or this path)
  DIR/verifier-private.pem   keep with the auditors (mode 0600); \`boundary-audit verify --key\` needs it
  DIR/pseudonym.key          a secret of the services (mode 0600), the same for every replica:
                             BOUNDARY_AUDIT_PSEUDONYM_KEY (the secret text or this path); without it
                             patient ids are masked and the trail cannot say which patient a record
                             concerns. The auditors need it too, to look a patient up in a report.
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
  const pseudonymPath = join(dir, 'pseudonym.key')
  // All or nothing: a half-filled DIR (a new verifier key next to an old pseudonym key) invites mix-ups.
  for (const path of [priv, pub, pseudonymPath]) {
    if (existsSync(path))
      throw new UsageError(`${path} already exists; not overwriting keys (pick another --out)`)
  }
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
  const secret = `${randomBytes(32).toString('hex')}\n`
  try {
    writeFileSync(pseudonymPath, secret, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(
      code === 'EEXIST'
        ? `${pseudonymPath} already exists; not overwriting a pseudonym key (a new key breaks the correlation with older records; pick another --out)`
        : `cannot write ${pseudonymPath}: ${code}`,
    )
  }
  chmodSync(pseudonymPath, 0o600)
  const kid = pseudonymKeyId(loadPseudonymKey(pseudonymPath))
  io.stdout(
    `pseudonym key ${kid}\n  secret:  ${pseudonymPath}  (services and auditors: BOUNDARY_AUDIT_PSEUDONYM_KEY=${pseudonymPath})\n`,
  )
  io.stdout(
    `verifier key ${pair.kid}\n  public:  ${pub}  (services: BOUNDARY_AUDIT_VERIFIER_KEY=${pub})\n  private: ${priv}  (auditors only; boundary-audit verify --key ${priv})\n`,
  )
  return 0
}
