import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  hmacPseudonym,
  loadPseudonymKey,
  parsePseudonym,
  pseudonymKeyId,
  pseudonymMatches,
  readerPseudonymKeys,
} from './pseudonymize'

const dir = mkdtempSync(join(tmpdir(), 'ba-pskey-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const KEY = Buffer.from('0123456789abcdef0123456789abcdef')

describe('pseudonyms name their key', () => {
  it('ps_<kid>_<24 hex>: kid = HMAC(key, label)[0..6], tail = the HMAC of the normalised value', () => {
    const kid = createHmac('sha256', KEY).update('boundary-audit/pseudonym-key-id').digest('hex').slice(0, 6)
    const tail = createHmac('sha256', KEY).update('p-1001').digest('hex').slice(0, 24)
    expect(pseudonymKeyId(KEY)).toBe(kid)
    expect(hmacPseudonym(KEY, 'resource', ' p-1001 ')).toBe(`ps_${kid}_${tail}`)
  })

  it('the tail is the pre-key-id pseudonym, so readers match both forms', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (value) => {
        const now = hmacPseudonym(KEY, 'resource', value)
        const parsed = parsePseudonym(now)
        expect(parsed?.kid).toBe(pseudonymKeyId(KEY))
        const legacy = `ps_${parsed?.tail}`
        expect(parsePseudonym(legacy)).toEqual({ kid: undefined, tail: parsed?.tail })
        expect(pseudonymMatches(legacy, KEY, 'resource', value)).toBe(true)
        expect(pseudonymMatches(now, KEY, 'resource', value)).toBe(true)
        // the right tail under another key id is not a match
        expect(pseudonymMatches(`ps_000000_${parsed?.tail}`, KEY, 'resource', value)).toBe(
          pseudonymKeyId(KEY) === '000000',
        )
      }),
    )
  })

  it('parsePseudonym refuses anything else', () => {
    for (const v of ['ps_abc', '[REDACTED:resource]', 'ps_12345_0123456789abcdef01234567', 'p-1001', ''])
      expect(parsePseudonym(v)).toBeUndefined()
  })
})

describe('loadPseudonymKey', () => {
  it('takes the secret text, or a file holding it (white space around it dropped)', () => {
    const path = join(dir, 'pseudonym.key')
    writeFileSync(path, '  0123456789abcdef0123456789abcdef\n')
    expect(loadPseudonymKey(path).equals(KEY)).toBe(true)
    expect(loadPseudonymKey('0123456789abcdef0123456789abcdef').equals(KEY)).toBe(true)
    expect(loadPseudonymKey(Buffer.from(KEY)).equals(KEY)).toBe(true)
  })

  it('a path that names no file is an error, never taken as the secret', () => {
    expect(() =>
      loadPseudonymKey(join(dir, 'missing', 'pseudonym.key'), 'BOUNDARY_AUDIT_PSEUDONYM_KEY'),
    ).toThrow(/BOUNDARY_AUDIT_PSEUDONYM_KEY looks like a path .* names no readable file/)
    expect(() => loadPseudonymKey('./nope/pseudonym.key')).toThrow(/looks like a path/)
    // padded base64 that happens to start with '/' is a secret, not a path
    const b64 = '/3q2+7w8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHw='
    expect(loadPseudonymKey(b64).toString()).toBe(b64)
    // the file's content given as text (with its newline) is the same key as the file
    expect(loadPseudonymKey('0123456789abcdef0123456789abcdef\n').equals(KEY)).toBe(true)
  })

  it('fewer than 16 bytes is an error that says how to make a key', () => {
    const short = join(dir, 'short.key')
    writeFileSync(short, 'abc\n')
    expect(() => loadPseudonymKey(short)).toThrow(/at least 16 bytes.*keygen.*got 3 bytes/)
    expect(() => loadPseudonymKey('too short')).toThrow(/at least 16 bytes/)
    expect(() => loadPseudonymKey(42 as never)).toThrow(/must be the secret/)
  })
})

describe('readerPseudonymKeys (report, monitor: current key plus retired ones)', () => {
  it('current first, then BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS, duplicates dropped', () => {
    const old = join(dir, 'old.key')
    writeFileSync(old, 'an older secret of 32 characters\n')
    const keys = readerPseudonymKeys({
      BOUNDARY_AUDIT_PSEUDONYM_KEY: KEY.toString(),
      BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS: ` ${old} , ${KEY.toString()},`,
    })
    expect(keys.map((k) => k.kid)).toEqual([pseudonymKeyId(KEY), pseudonymKeyId(loadPseudonymKey(old))])
    expect(readerPseudonymKeys({})).toEqual([])
  })
})
