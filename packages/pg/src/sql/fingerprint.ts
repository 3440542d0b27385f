import { createHash } from 'node:crypto'

/**
 * A stable identifier of a statement's shape: SHA-256 of the normalised text (which holds no
 * literals or parameter values, only keywords, identifiers and placeholders), first 16 hex
 * characters. Equal statements with different values share it, so a log search can group them.
 */
export function fingerprint(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex').slice(0, 16)
}
