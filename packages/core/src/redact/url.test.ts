import { describe, expect, it } from 'vitest'
import { compilePolicy, redactUrlPath } from './index'

const policy = compilePolicy(undefined, {})
const u = (p: string) => redactUrlPath(p, policy)

describe('redactUrlPath', () => {
  it('keeps ordinary paths and ids as they are', () => {
    for (const p of [
      '/',
      '/health',
      '/api/v1/patients/8c1d2f6e-4b1a-4c55-9a57-0d7b7c1a1f20/notes/42',
      '/patients/12345',
      '/addresses/42',
      '/static/app.3f9a1c.js',
      '/files/report%202026.pdf',
    ]) {
      expect(u(p)).toBe(p)
    }
  })
  it('replaces segments that hold an identifier, decoded first', () => {
    expect(u('/users/jane%40example.org/profile')).toBe('/users/[REDACTED:email]/profile')
    expect(u('/lookup/123-45-6789')).toBe('/lookup/[REDACTED:ssn]')
    expect(u('/call/%2B1%20555%20123%204567')).toBe('/call/[REDACTED:phone]')
    expect(u('/cards/4111111111111111/charge')).toBe('/cards/[REDACTED:card]/charge')
  })
  it('replaces the segment after one that names an identifier', () => {
    expect(u('/patients/ssn/123456789')).toBe('/patients/ssn/[REDACTED:ssn]')
    expect(u('/patients/by-name/Jane%20Roe')).toBe('/patients/by-name/[REDACTED:name]')
    expect(u('/patients/by-mrn/A12345')).toBe('/patients/by-mrn/[REDACTED:mrn]')
    expect(u('/search/dob/1980-01-02')).toBe('/search/dob/[REDACTED:dob]')
    expect(u('/reset-password/3q2+7w==')).toBe('/reset-password/[REDACTED:credential]')
  })
  it('drops query strings and fragments', () => {
    expect(u('/p?ssn=123-45-6789&x=1')).toBe('/p')
    expect(u('/p#jane@example.org')).toBe('/p')
  })
  it('redacts matrix parameters by key and value', () => {
    expect(u('/files;jsessionid=ABC123;v=2')).toBe('/files;jsessionid=[REDACTED:session];v=2')
  })
  it('tolerates bad encodings and double encoding', () => {
    expect(u('/x/%E0%A4%A/%ZZ')).toBe('/x/%E0%A4%A/%ZZ')
    expect(u('/x/%E0%A4%A/jane%40example.org')).toBe('/x/%E0%A4%A/[REDACTED:email]')
    expect(u('/x/jane%2540example.org')).toBe('/x/[REDACTED:email]')
    expect(u('/bad%/123-45-6789%')).toBe('/bad%/[REDACTED:ssn]%25')
  })
  it('finds an identifier that only the once-decoded form shows (fast-check counterexample)', () => {
    // "%0a@a.aa" is an email (RFC 5322 allows % in the local part); decoded twice it is "\n@a.aa".
    expect(u('/users/%250a%40a.aa/profile')).toBe('/users/[REDACTED:email]/profile')
  })
  it('never lets control characters through and never throws', () => {
    expect(u('/a%1B%5B31m/b')).toBe('/a%1B%5B31m/b')
    expect(u('/a\x1b[31m/b\u0000')).toBe('/a/b')
    expect(u(undefined as never)).toBe('undefined')
    expect(u('/'.repeat(100_000)).length).toBeLessThanOrEqual(2048)
  })
  it('pseudonymises path identifiers in pseudonymize mode', () => {
    const p = compilePolicy({ mode: 'pseudonymize', pseudonymKey: 'k'.repeat(32) }, {})
    expect(redactUrlPath('/patients/ssn/123-45-6789', p)).toMatch(
      /^\/patients\/ssn\/ps_[0-9a-f]{6}_[0-9a-f]{24}$/,
    )
  })
})
