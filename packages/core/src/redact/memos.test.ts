// The policy's memos of unchanged strings (BoundedCache, cache.ts) must never change an output: a string that hashes to the
// slot of a remembered PHI-free one is still redacted, each policy keeps its own memo, and any sequence
// of strings comes out exactly as it would through a policy that never saw one before.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BoundedCache } from '../cache'
import type { RedactionOptions } from '../types'
import { compilePolicy, redact, redactText, redactUrlPath } from './index'
import { internal, MEMO_LENGTH, type Policy } from './policy'

type Memo = BoundedCache
const texts = (p: Policy) => internal(p).plainTexts
const paths = (p: Policy) => internal(p).plainPaths
const segments = (p: Policy) => internal(p).plainSegments

/** Both strings land in the same slot: the memo holding one is consulted for the other. */
function expectTwins(m: Memo, a: string, b: string): void {
  expect(a).toHaveLength(b.length)
  expect(m.slot(a)).not.toBe(-1)
  expect(m.slot(a)).toBe(m.slot(b))
}

/** No remembered string holds the needle. */
function expectAbsent(m: Memo, needle: string): void {
  expect(m.keptKeys().filter((s) => s.includes(needle))).toEqual([])
}

describe('memo of unchanged strings', () => {
  it('remembers a PHI-free text and still redacts its same-slot twin holding an SSN', () => {
    const policy = compilePolicy(undefined, {})
    const plain = 'id zzzzzzzzzzz noted on the ward round this morning'
    const planted = 'id 123-45-6789 noted on the ward round this morning'
    expectTwins(texts(policy), plain, planted)
    expect(redactText(plain, policy)).toBe(plain)
    expect(texts(policy).has(plain)).toBe(true)
    for (let i = 0; i < 2; i++) {
      expect(redactText(planted, policy)).toBe('id [REDACTED:ssn] noted on the ward round this morning')
      expect(redact({ note: planted }, policy)).toEqual({
        note: 'id [REDACTED:ssn] noted on the ward round this morning',
      })
    }
    expect(texts(policy).has(plain)).toBe(true) // a changed string does not take the slot
    expectAbsent(texts(policy), '6789')
    expectAbsent(texts(policy), 'REDACTED')
    expect(redactText(plain, policy)).toBe(plain)
  })

  it('remembers a PHI-free path and still redacts its same-slot twin holding an email', () => {
    const policy = compilePolicy(undefined, {})
    const plain = '/records/zzzzzzzzzzzzzzzzzz/notes/history/of/the/ward/today'
    const planted = '/records/jane%40example.org/notes/history/of/the/ward/today'
    expectTwins(paths(policy), plain, planted)
    expect(redactUrlPath(plain, policy)).toBe(plain)
    expect(paths(policy).has(plain)).toBe(true)
    for (let i = 0; i < 2; i++) {
      expect(redactUrlPath(planted, policy)).toBe('/records/[REDACTED:email]/notes/history/of/the/ward/today')
    }
    expectAbsent(paths(policy), 'example')
    expectAbsent(texts(policy), 'example')
    expect(redactUrlPath(plain, policy)).toBe(plain)
  })

  it('remembers PHI-free path segments and still redacts a same-slot twin segment', () => {
    const policy = compilePolicy(undefined, {})
    const plain = 'note zzzzzzzzzzzzzzzzzz and the rest of it today'
    const planted = 'note jane%40example.org and the rest of it today'
    expectTwins(segments(policy), plain, planted)
    expect(redactUrlPath(`/a/${plain}/b`, policy)).toBe(`/a/${plain}/b`)
    expect(segments(policy).has(plain)).toBe(true)
    for (let i = 0; i < 2; i++) {
      expect(redactUrlPath(`/c/${planted}/d`, policy)).toBe(
        '/c/note%20[REDACTED:email]%20and%20the%20rest%20of%20it%20today/d',
      )
    }
    expectAbsent(segments(policy), 'example')
  })

  it('never remembers a segment that names an identifier, nor one right after it', () => {
    const policy = compilePolicy(undefined, {})
    expect(redactUrlPath('/records/ssn', policy)).toBe('/records/ssn')
    expect(redactUrlPath('/by-email/ward', policy)).toBe('/by-email/[REDACTED:email]')
    expect(redactUrlPath('/ssn/abc', policy)).toBe('/ssn/[REDACTED:ssn]')
    expect(segments(policy).has('records')).toBe(true)
    for (const s of ['ssn', 'by-email', 'ward', 'abc']) expect(segments(policy).has(s)).toBe(false)
    expect(redactUrlPath('/ward', policy)).toBe('/ward')
    expect(segments(policy).has('ward')).toBe(true)
    // "ward" after "by-email" is still the email it names, remembered or not.
    expect(redactUrlPath('/by-email/ward', policy)).toBe('/by-email/[REDACTED:email]')
    expect(redactUrlPath('/x/ssn/123456789', policy)).toBe('/x/ssn/[REDACTED:ssn]')
  })

  it('never remembers a path whose query string was dropped, nor long strings', () => {
    const policy = compilePolicy(undefined, {})
    expect(redactUrlPath('/p?ssn=123-45-6789', policy)).toBe('/p')
    expectAbsent(paths(policy), '?')
    const long = `note ${'x'.repeat(MEMO_LENGTH)}`
    expect(redactText(long, policy)).toBe(long)
    expect(texts(policy).has(long)).toBe(false)
  })

  it('keeps one memo per policy: a string PHI-free under one is still redacted under another', () => {
    const lax = compilePolicy(undefined, {})
    const strict = compilePolicy(
      { keys: ['visit'], detectors: [{ name: 'ticket', pattern: /\bWX-\d{4}\b/g }] },
      {},
    )
    const note = 'escalated as WX-1234 by the ward'
    const path = '/visit/42/summary'
    for (let i = 0; i < 2; i++) {
      expect(redactText(note, lax)).toBe(note)
      expect(redactText(note, strict)).toBe('escalated as [REDACTED:ticket] by the ward')
      expect(redactUrlPath(path, lax)).toBe(path)
      expect(redactUrlPath(path, strict)).toBe('/visit/[REDACTED:visit]/summary')
    }
    expect(texts(lax).has(note)).toBe(true)
    expect(texts(strict).has(note)).toBe(false)
    expect(paths(lax).has(path)).toBe(true)
    expect(paths(strict).has(path)).toBe(false)
  })

  it('shares nothing with policies compiled from the same options', () => {
    const a = compilePolicy(undefined, {})
    const b = compilePolicy(undefined, {})
    redactText('shift handover done', a)
    expect(texts(a).has('shift handover done')).toBe(true)
    expect(texts(b).has('shift handover done')).toBe(false)
  })
})

// ---------------------------------------------------------------------------------------------------
// Any sequence, with repeats and same-slot twins, comes out as through a fresh policy per call.

const KEY = 'memo-test-pseudonym-key-0123456789'
const OPTIONS: RedactionOptions[] = [
  {},
  {
    mode: 'pseudonymize',
    pseudonymKey: KEY,
    detectors: [{ name: 'ticket', pattern: /\bWX-\d{4}\b/g }],
  },
  { mode: 'remove', keys: ['visit'] },
]

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''))
const identifier = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 899 }),
      fc.integer({ min: 1, max: 99 }),
      fc.integer({ min: 1, max: 9999 }),
    )
    .map(
      ([a, g, s]) =>
        `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`,
    ),
  fc
    .tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('example.org', 'mail.com', 'clinic.net'))
    .map(([local, domain]) => `${local}@${domain}`),
  digits(4).map((d) => `WX-${d}`),
  digits(5),
  fc.constantFrom('MRN 4411234', 'Mr John Smith', 'DOB 1980-01-02'),
)
const word = fc.constantFrom('note', 'ward', 'round', 'visit', 'records', 'by-email', 'ssn', 'summary', 'of')
/** A long enough tail puts the middle character (part of the slot hash) outside the identifier. */
const tail = fc.array(word, { minLength: 6, maxLength: 9 })

/** An identifier in a text and in a path, and the same strings with it overwritten by `z`s. */
const twins = fc
  .record({ id: identifier, head: fc.constantFrom('id ', 'ref: ', ''), dir: word, tail })
  .map(({ id, head, dir, tail }) => {
    const text = (x: string) => `${head}${x} ${tail.join(' ')}`
    const path = (x: string) => `/${dir}/${encodeURIComponent(x)}/${tail.join('/')}`
    const z = (s: string) => 'z'.repeat(s.length)
    return [text(id), text(z(id)), path(id), path(z(encodeURIComponent(id)))]
  })

const sequence = fc.array(twins, { minLength: 1, maxLength: 4 }).chain((groups) => {
  const pool = groups.flat()
  return fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 24 })
})

// Compiled once: their memos fill up across every run, as a long-lived logger's would.
const remembering = OPTIONS.map((o) => compilePolicy(o, {}))

describe('memo property', () => {
  it('redacting a sequence gives exactly what a fresh policy gives for each string', () => {
    fc.assert(
      fc.property(sequence, (strings) => {
        for (let p = 0; p < OPTIONS.length; p++) {
          for (const s of strings) {
            const fresh = () => compilePolicy(OPTIONS[p], {})
            expect(redactText(s, remembering[p]!)).toBe(redactText(s, fresh()))
            expect(redactUrlPath(s, remembering[p]!)).toBe(redactUrlPath(s, fresh()))
            expect(redact({ note: s, list: [s] }, remembering[p]!)).toEqual(
              redact({ note: s, list: [s] }, fresh()),
            )
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
