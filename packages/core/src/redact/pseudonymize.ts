// Pseudonyms: a keyed HMAC of the normalised identifier, so one patient's events correlate across
// processes and restarts while the log holds nothing an attacker could enumerate (an unkeyed hash of
// a 9-digit SSN is reversed by trying all 10^9 of them).
//
// A pseudonym names its key: `ps_<kid>_<24 hex>`, kid = 6 hex digits derived from the key (never the
// key itself), so that keys can rotate and a reader holding several keys (the report) knows which one
// made a pseudonym. Trails written before key ids hold `ps_<24 hex>`; the 24-hex tail is the same HMAC
// in both forms, so readers compare tails (and kids when both sides have one).
import { createHmac } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { normalizeFor } from './detectors'
import { MAX_PSEUDONYM_INPUT } from './limits'

/** Bytes a pseudonym secret needs at least. */
export const MIN_KEY_BYTES = 16

/** What the key id is an HMAC of: a fixed label, so the kid says nothing about any identifier. */
const KEY_ID_LABEL = 'boundary-audit/pseudonym-key-id'

// Key ids are computed once per key object (a compiled policy holds one Buffer for its lifetime).
const keyIds = new WeakMap<Buffer, string>()

/** The key's short id: the first 6 hex digits of HMAC-SHA-256(key, "boundary-audit/pseudonym-key-id"). */
export function pseudonymKeyId(key: Buffer): string {
  let kid = keyIds.get(key)
  if (kid === undefined) {
    kid = createHmac('sha256', key).update(KEY_ID_LABEL, 'utf8').digest('hex').slice(0, 6)
    keyIds.set(key, kid)
  }
  return kid
}

/**
 * `ps_<kid>_` + the first 24 hex digits (96 bits) of HMAC-SHA-256(key, normalised value), kid being
 * `pseudonymKeyId(key)`.
 */
export function hmacPseudonym(
  key: Buffer,
  category: string,
  value: string,
  normalize?: (value: string) => string,
): string {
  let input: string
  try {
    input = normalize ? String(normalize(value)) : normalizeFor(category, value)
  } catch {
    input = normalizeFor(category, value)
  }
  if (input.length > MAX_PSEUDONYM_INPUT) input = input.slice(0, MAX_PSEUDONYM_INPUT)
  const tail = createHmac('sha256', key).update(input, 'utf8').digest('hex').slice(0, 24)
  return `ps_${pseudonymKeyId(key)}_${tail}`
}

/** A pseudonym in either form: `ps_<kid>_<24 hex>` (kid set) or the older `ps_<24 hex>` (kid undefined). */
export interface ParsedPseudonym {
  kid: string | undefined
  tail: string
}

const PSEUDONYM = /^ps_(?:([0-9a-f]{6})_)?([0-9a-f]{24})$/

/** Splits a pseudonym into key id and HMAC tail; undefined for anything else (masks, clear text). */
export function parsePseudonym(value: string): ParsedPseudonym | undefined {
  if (typeof value !== 'string') return undefined
  const m = PSEUDONYM.exec(value)
  return m ? { kid: m[1], tail: m[2] as string } : undefined
}

function looksLikePath(text: string): boolean {
  // Padded base64 (`openssl rand -base64 32`: 44 characters ending in '=') may start with '/', but no
  // path ends in '=': such a value is a secret.
  return /^(\/|\.\.?\/)\S*$/.test(text) && !/^[A-Za-z0-9+/]+={1,2}$/.test(text)
}

/**
 * A pseudonym secret from its text or from a file holding it, by the rules of
 * BOUNDARY_AUDIT_PSEUDONYM_KEY: a value naming an existing file is read (surrounding white space,
 * such as the file's final newline, is dropped); a value that looks like a path (`/…`, `./…`, `../…`,
 * no spaces, not padded base64) but names no file is an error, not a secret (a missing Secret mount
 * must not silently become a different key); anything else is the secret itself, surrounding white
 * space dropped too (so the file and its content as an environment value give the same key). The
 * bytes are the UTF-8 text: at least 16 of them. `where` names the setting in error messages.
 */
export function loadPseudonymKey(textOrPath: string | Uint8Array, where = 'pseudonym key'): Buffer {
  if (textOrPath instanceof Uint8Array) return checkLength(Buffer.from(textOrPath), where)
  if (typeof textOrPath !== 'string') {
    throw new TypeError(
      `boundary-audit: ${where} must be the secret (at least ${MIN_KEY_BYTES} bytes) or a path to a file holding it; got ${textOrPath === null ? 'null' : typeof textOrPath}`,
    )
  }
  let text = textOrPath.trim()
  let from = ''
  if (isFile(textOrPath)) {
    try {
      text = readFileSync(textOrPath, 'utf8').trim()
    } catch (err) {
      throw new TypeError(
        `boundary-audit: ${where}: cannot read ${textOrPath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      )
    }
    from = ` (read from ${textOrPath})`
  } else if (looksLikePath(text)) {
    throw new TypeError(
      // The value is not echoed: it might be a secret that merely starts with '/'.
      `boundary-audit: ${where} looks like a path (it starts with /, ./ or ../) but names no readable file; mount the key file there, or give a secret that does not start like a path (create one with \`boundary-audit keygen --out DIR\`: DIR/pseudonym.key)`,
    )
  }
  return checkLength(Buffer.from(text, 'utf8'), `${where}${from}`)
}

function isFile(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || path.includes('\0')) return false
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function checkLength(bytes: Buffer, where: string): Buffer {
  if (bytes.length < MIN_KEY_BYTES) {
    throw new TypeError(
      `boundary-audit: ${where} must be at least ${MIN_KEY_BYTES} bytes (create one with \`boundary-audit keygen --out DIR\`, or \`openssl rand -hex 32\`); got ${bytes.length} bytes`,
    )
  }
  return bytes
}

/** A reader's key: the secret and its id. */
export interface PseudonymKey {
  kid: string
  key: Buffer
}

/**
 * The keys a READER (report, monitor) tries: the current one (BOUNDARY_AUDIT_PSEUDONYM_KEY) first,
 * then the retired ones (BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS: comma-separated, each a secret or a path
 * by the rules of `loadPseudonymKey`). Writers use one key only and never read the old ones: a trail
 * whose writers mixed keys for the same patient could not be correlated. Duplicate kids are dropped.
 */
export function readerPseudonymKeys(env: NodeJS.ProcessEnv = process.env): PseudonymKey[] {
  const keys: PseudonymKey[] = []
  const add = (text: string, where: string) => {
    const key = loadPseudonymKey(text, where)
    const kid = pseudonymKeyId(key)
    if (!keys.some((k) => k.kid === kid)) keys.push({ kid, key })
  }
  const current = env.BOUNDARY_AUDIT_PSEUDONYM_KEY?.trim()
  if (current) add(current, 'BOUNDARY_AUDIT_PSEUDONYM_KEY')
  const old = (env.BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0)
  for (const [i, v] of old.entries()) add(v, `BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS[${i}]`)
  return keys
}

/**
 * True when `pseudonym` (either form) is what `key` makes of `value` in `category`: the 24-hex tails
 * agree and, when the pseudonym names a key, so do the kids.
 */
export function pseudonymMatches(pseudonym: string, key: Buffer, category: string, value: string): boolean {
  const p = parsePseudonym(pseudonym)
  if (!p) return false
  const mine = parsePseudonym(hmacPseudonym(key, category, value)) as ParsedPseudonym
  return p.tail === mine.tail && (p.kid === undefined || p.kid === mine.kid)
}

/** The mask for a category: `[REDACTED:<category>]`. */
export function maskOf(category: string): string {
  return `[REDACTED:${category}]`
}
