import { describe, expect, it } from 'vitest'
import type { RedactionOptions } from '../types'
import { compilePolicy, pseudonymize, redact, redactText } from './index'

const KEY = 'k'.repeat(32)
const bad =
  (options: unknown, env: NodeJS.ProcessEnv = {}) =>
  () =>
    compilePolicy(options as RedactionOptions, env)

describe('compilePolicy: bad options fail with a message naming the option', () => {
  it.each([
    ['not an object', 'mask', /redaction must be an object; got "mask"/],
    ['unknown option', { paths: ['a'] }, /redaction\.paths is not an option/],
    [
      'unknown mode',
      { mode: 'hash' },
      /redaction\.mode must be one of 'mask', 'remove', 'pseudonymize'; got "hash"/,
    ],
    [
      'keys not strings',
      { keys: ['ok', 42] },
      /redaction\.keys\[1\] must be a non-empty string; got number 42/,
    ],
    ['keys not an array', { keys: 'ssn' }, /redaction\.keys must be an array of strings/],
    ['allowKeys empty string', { allowKeys: [''] }, /redaction\.allowKeys\[0\]/],
    [
      'unknown built-in',
      { disableDetectors: ['nmae'] },
      /redaction\.disableDetectors must name built-in detectors .*; got "nmae"/,
    ],
    [
      'regex without g',
      { detectors: [{ name: 'mrn', pattern: /H\d+/ }] },
      /redaction\.detectors\[0\]\.pattern must have the g flag .*; got \/H\\d\+\//,
    ],
    [
      'pattern not a RegExp',
      { detectors: [{ name: 'mrn', pattern: 'H\\d+' }] },
      /detectors\[0\]\.pattern must be a RegExp/,
    ],
    [
      'bad detector name',
      { detectors: [{ name: 'My MRN', pattern: /x/g }] },
      /detectors\[0\]\.name must be 1-32 lowercase/,
    ],
    [
      'bad detector mode',
      { detectors: [{ name: 'x', pattern: /x/g, mode: 'hide' }] },
      /detectors\[0\]\.mode must be one of/,
    ],
    [
      'unknown opt-in',
      { detectors: ['ipv4'] },
      /detectors\[0\] must be a detector object or an opt-in built-in \(ip, zip\); got "ipv4"/,
    ],
    ['bad category mode', { modes: { ssn: 'drop' } }, /redaction\.modes\.ssn must be one of/],
    [
      'short key',
      { pseudonymKey: 'short' },
      /redaction\.pseudonymKey must be at least 16 bytes .*; got 5 bytes/,
    ],
    [
      'key of wrong type',
      { pseudonymKey: 1234 },
      /redaction\.pseudonymKey must be the secret \(a string or Buffer/,
    ],
  ])('%s', (_name, options, message) => {
    expect(bad(options)).toThrow(TypeError)
    expect(bad(options)).toThrow(message)
  })
  it('checks the environment key too, without echoing it', () => {
    expect(bad(undefined, { BOUNDARY_AUDIT_PSEUDONYM_KEY: 'tooshort' })).toThrow(
      /BOUNDARY_AUDIT_PSEUDONYM_KEY must be at least 16 bytes .*; got 8 bytes/,
    )
    const tooShort = () => compilePolicy({ pseudonymKey: 'secretvalue' }, {})
    expect(tooShort).toThrow(/redaction\.pseudonymKey must be at least 16 bytes .*; got 11 bytes/)
    expect(tooShort).not.toThrow(/secretvalue/)
  })
})

describe('modes', () => {
  it('mask is the default', () => {
    const p = compilePolicy(undefined, {})
    expect(redact({ email: 'a@b.co' }, p)).toEqual({ email: '[REDACTED:email]' })
    expect(p.warnings).toEqual([])
    expect(p.hasPseudonymKey).toBe(false)
  })
  it('remove drops the key, or the matched text', () => {
    const p = compilePolicy({ mode: 'remove' }, {})
    expect(redact({ email: 'a@b.co', ok: 1 }, p)).toEqual({ ok: 1 })
    expect(redactText('write to a@b.co today', p)).toBe('write to  today')
  })
  it('pseudonymize gives stable ps_ values, keyed, normalised per category', () => {
    const p = compilePolicy({ mode: 'pseudonymize', pseudonymKey: KEY }, {})
    const a = redactText('ssn 123-45-6789', p)
    const b = redactText('SSN: 123456789', p)
    expect(a).toMatch(/^ssn ps_[0-9a-f]{6}_[0-9a-f]{24}$/)
    expect(b.slice(5)).toBe(a.slice(4))
    expect(redactText('John@Example.com', p)).toBe(redactText('john@example.com', p))
    expect(redactText('(555) 123-4567', p)).toBe(redactText('+1 555.123.4567', p))
    // Another key, another pseudonym: nothing an attacker without the key could enumerate.
    const q = compilePolicy({ mode: 'pseudonymize', pseudonymKey: 'x'.repeat(32) }, {})
    expect(redactText('ssn 123-45-6789', q)).not.toBe(a)
  })
  it('reads the key from BOUNDARY_AUDIT_PSEUDONYM_KEY', () => {
    const p = compilePolicy({ mode: 'pseudonymize' }, { BOUNDARY_AUDIT_PSEUDONYM_KEY: KEY })
    const q = compilePolicy({ mode: 'pseudonymize', pseudonymKey: Buffer.from(KEY) }, {})
    expect(p.hasPseudonymKey).toBe(true)
    expect(redact({ email: 'a@b.co' }, p)).toEqual(redact({ email: 'a@b.co' }, q))
  })
  it('without a key pseudonymize masks and warns once', () => {
    const p = compilePolicy({ mode: 'pseudonymize', modes: { email: 'pseudonymize' } }, {})
    expect(p.warnings).toHaveLength(1)
    expect(p.warnings[0]).toMatch(/no pseudonym key .*cannot say which patient a record concerns/)
    expect(redact({ email: 'a@b.co' }, p)).toEqual({ email: '[REDACTED:email]' })
    expect(pseudonymize('P-1', p, 'resource')).toBe('[REDACTED:resource]')
  })
  it('per-category modes override the default; credentials are never pseudonymised', () => {
    const p = compilePolicy(
      { mode: 'pseudonymize', pseudonymKey: KEY, modes: { phone: 'remove', ssn: 'mask' } },
      {},
    )
    const out = redact(
      { phone: '555-123-4567', ssn: '123-45-6789', password: 'hunter2', email: 'a@b.co' },
      p,
    ) as Record<string, unknown>
    expect(out.phone).toBeUndefined()
    expect(out.ssn).toBe('[REDACTED:ssn]')
    expect(out.password).toBe('[REDACTED:credential]')
    expect(out.email).toMatch(/^ps_[0-9a-f]{6}_[0-9a-f]{24}$/)
  })
  it('a detector mode wins over the category mode', () => {
    const p = compilePolicy({ detectors: [{ name: 'mrn', pattern: /H\d{6}/g, mode: 'remove' }] }, {})
    expect(redactText('chart H123456.', p)).toBe('chart .')
  })
})

describe('pseudonymize()', () => {
  it('is HMAC-SHA-256 truncated to 24 hex digits, never an unkeyed hash', async () => {
    const { createHash, createHmac } = await import('node:crypto')
    const p = compilePolicy({ pseudonymKey: KEY }, {})
    const kid = createHmac('sha256', KEY).update('boundary-audit/pseudonym-key-id').digest('hex').slice(0, 6)
    const expected = `ps_${kid}_${createHmac('sha256', KEY).update('P-000123').digest('hex').slice(0, 24)}`
    expect(pseudonymize(' P-000123 ', p, 'resource')).toBe(expected)
    expect(pseudonymize('P-000123', p, 'resource')).not.toContain(
      createHash('sha256').update('P-000123').digest('hex').slice(0, 24),
    )
  })
  it('never throws on odd input', () => {
    const p = compilePolicy({ pseudonymKey: KEY }, {})
    expect(pseudonymize(42 as never, p, 'resource')).toMatch(/^ps_/)
    expect(pseudonymize('x', p, 'Not A Category')).toMatch(/^ps_/)
    expect(pseudonymize('x', {} as never, 'session')).toBe('[REDACTED:session]')
  })
})
