import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LinkedIds, MAX_LINKED_IDS, MIN_TOKEN_LENGTH } from './linked-ids'

const PS = 'ps_4e1a7c_0123456789abcdef01234567'
const MASK = '[REDACTED:resource]'

function linked(...pairs: [string, string][]): LinkedIds {
  const ids = new LinkedIds()
  for (const [clear, replacement] of pairs) ids.add(clear, replacement)
  return ids
}

/** True when `id` occurs in `text` as a whole token under the documented rule. */
function occursAsToken(text: string, id: string): boolean {
  const t = text.toLowerCase()
  const needle = id.toLowerCase()
  const word = /[a-z0-9]/
  for (let i = t.indexOf(needle); i !== -1; i = t.indexOf(needle, i + 1)) {
    const before = i > 0 ? (t[i - 1] as string) : ''
    const after = t[i + needle.length] ?? ''
    if (!word.test(before) && !word.test(after)) return true
  }
  return false
}

describe('LinkedIds.replaceIn', () => {
  it('replaces whole tokens, case-insensitively, and leaves longer tokens alone', () => {
    const ids = linked(['p-1001', PS])
    expect(ids.replaceIn('Patient p-1001 not found')).toBe(`Patient ${PS} not found`)
    expect(ids.replaceIn('chart P-1001: locked; "p-1001"')).toBe(`chart ${PS}: locked; "${PS}"`)
    expect(ids.replaceIn('p-10012 and xp-1001 are other ids')).toBe('p-10012 and xp-1001 are other ids')
    expect(ids.replaceIn('/patients/p-1001/notes')).toBe(`/patients/${PS}/notes`)
  })

  it('an id that is part of a compound with separators is replaced too (over-redaction is the safe side)', () => {
    const ids = linked(['1001', PS])
    expect(ids.replaceIn('p-1001 and 10010 and 0001001')).toBe(`p-${PS} and 10010 and ${PS}`)
  })

  it('prefers the longer id at the same place', () => {
    const a = 'ps_aaaaaa_aaaaaaaaaaaaaaaaaaaaaaaa'
    const b = 'ps_bbbbbb_bbbbbbbbbbbbbbbbbbbbbbbb'
    const ids = linked(['1001', a], ['p-1001', b])
    expect(ids.replaceIn('p-1001 / 1001')).toBe(`${b} / ${a}`)
  })

  it('never touches pseudonyms or masks already in the text', () => {
    const ids = linked(['4e1a7c', 'ps_ffffff_ffffffffffffffffffffffff'], ['resource', 'X'])
    expect(ids.replaceIn(`${PS} ${MASK}`)).toBe(`${PS} ${MASK}`)
  })

  it(`ids shorter than ${MIN_TOKEN_LENGTH} characters mask the whole string they occur in as a token`, () => {
    const ids = linked(['7', PS])
    expect(ids.replaceIn('patient 7 not found')).toBe(MASK)
    expect(ids.replaceIn('patient 007 not found')).toBe(MASK)
    expect(ids.replaceIn('GET /patients/:id 404, 17 rows, v7.1x')).toBe(
      'GET /patients/:id 404, 17 rows, v7.1x',
    )
  })

  it(`more than ${MAX_LINKED_IDS} ids: every scanned string is masked`, () => {
    const ids = new LinkedIds()
    for (let i = 0; i <= MAX_LINKED_IDS; i++) ids.add(`id-${i}`, PS)
    expect(ids.overflow).toBe(true)
    expect(ids.replaceIn('anything')).toBe(MASK)
  })

  it('regex characters in ids are literal', () => {
    const ids = linked(['a.b*c(1)', PS])
    expect(ids.replaceIn('x a.b*c(1) y aXb*c(1)')).toBe(`x ${PS} y aXb*c(1)`)
  })
})

describe('property: a clear id never remains as a token next to its pseudonym', () => {
  const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''))
  const shortAlnum = fc.string({ unit: alnum, minLength: 1, maxLength: 8 })
  const opaqueId = fc.oneof(
    fc.uuid(),
    shortAlnum,
    fc
      .tuple(fc.constantFrom('p', 'MRN', 'chart', 'x'), fc.constantFrom('-', '_', '.', ':'), shortAlnum)
      .map(([a, s, b]) => `${a}${s}${b}`),
    fc.integer({ min: 0, max: 10_000_000 }).map(String),
  )
  const filler = fc.array(
    fc.oneof(
      fc.string({ unit: alnum, maxLength: 10 }),
      fc.constantFrom(' ', '-', '/', ':', '"', '.', ', ', '_', '#', PS, MASK, 'ps_', '0', 'x'),
    ),
    { maxLength: 12 },
  )

  it('whatever the surrounding text (ids glued to words, inside numbers, around pseudonyms)', () => {
    fc.assert(
      fc.property(opaqueId, filler, filler, fc.boolean(), (id, before, after, upper) => {
        const ids = linked([id, PS])
        const planted = upper ? id.toUpperCase() : id
        const text = `${before.join('')}${[' ', '', '/'][before.length % 3]}${planted}${[' ', '', '.'][after.length % 3]}${after.join('')}`
        const out = ids.replaceIn(text)
        expect(occursAsToken(out, id)).toBe(false)
        if (/^[0-9]+$/.test(id)) {
          // leading zeros do not hide an all-digit id
          expect(occursAsToken(out, `0${id}`)).toBe(false)
        }
        // the pseudonyms and masks that were there stay intact
        const count = (s: string, what: string) => s.split(what).length - 1
        if (out !== MASK) expect(count(out, PS)).toBeGreaterThanOrEqual(count(text, PS))
      }),
      { numRuns: 2000 },
    )
  })

  it('text without the id as a token is returned unchanged', () => {
    fc.assert(
      fc.property(opaqueId, filler, (id, parts) => {
        const text = parts.join('')
        fc.pre(!occursAsToken(text, id) && !(/^[0-9]+$/.test(id) && /(?<![A-Za-z0-9])0+/.test(text)))
        expect(linked([id, PS]).replaceIn(text)).toBe(text)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('property: the substring check before the pattern changes no result', () => {
  // A LinkedIds with a few ids checks the text for each id before building its pattern; one with
  // more runs the pattern. Extra ids holding `~` (never in these texts) force the pattern, so the
  // two must agree on every text, Unicode whose case folds to ASCII included.
  const unit = fc.constantFrom(...'abcxyzABCXYZ0123456789 -_./:"#İıſKßςΣéÉ\u0000'.split(''), PS, MASK)
  const id = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'abcxyzABC0123-_.'.split('')), minLength: 1, maxLength: 8 }),
    fc.integer({ min: 0, max: 99_999 }).map(String),
    fc.constantFrom('straße', 'ÉLAN-7', 'kelvin', 'sigma-σ'),
  )
  it('a non-ASCII id is matched as the pattern matches it (final sigma folds to sigma)', () => {
    // (masked, not pseudonymised: the match is looked up as `sigma-ς`, which no id is)
    expect(linked(['sigma-σ', PS]).replaceIn('see SIGMA-ς now')).toBe(`see ${MASK} now`)
  })
  it('for one to four ids, planted in any case or not at all', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(id, { minLength: 1, maxLength: 4, selector: (v) => v.toLowerCase() }),
        fc.array(fc.oneof(unit, fc.string({ unit, maxLength: 6 })), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (ids, parts, plants) => {
          const text = [...parts]
          for (const [n, at] of plants.entries()) {
            const planted = ids[n % ids.length] as string
            text.splice(at % (text.length + 1), 0, n % 2 ? planted.toUpperCase() : planted)
          }
          const few = new LinkedIds()
          const many = new LinkedIds()
          for (const [i, v] of ids.entries()) {
            few.add(v, `ps_${i}`)
            many.add(v, `ps_${i}`)
          }
          for (let i = 0; i < 5; i++) many.add(`~never~${i}`, 'unused')
          const joined = text.join('')
          expect(few.replaceIn(joined)).toBe(many.replaceIn(joined))
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('LinkedIds.scrubRecord', () => {
  it('replaces in message, reason, error, details, url and db names; leaves the actor and request facts', () => {
    const ids = linked(['p-1001', PS])
    const record: Record<string, any> = {
      '@timestamp': '2026-12-06T00:00:00.000Z',
      message: 'patient-record-read patient failure: p-1001',
      event: { action: 'patient-record-read', reason: 'p-1001 is locked', id: 'e' },
      error: { type: 'Error', message: 'patient p-1001 is locked' },
      audit: { resource: { id: PS, type: 'patient' }, details: { note: ['see p-1001'] } },
      url: { path: '/x/p-1001' },
      db: { collection: { name: 'p-1001' }, query: { text: 'select 1' } },
      user: { id: 'p-1001' },
      user_agent: { original: 'p-1001' },
      http: { request: { id: 'p-1001' } },
    }
    ids.scrubRecord(record)
    const line = JSON.stringify(record)
    expect(record.user.id).toBe('p-1001')
    expect(record.user_agent.original).toBe('p-1001')
    expect(record.http.request.id).toBe('p-1001')
    delete record.user
    delete record.user_agent
    delete record.http
    expect(JSON.stringify(record)).not.toMatch(/p-1001/)
    expect(line.split(PS).length - 1).toBe(7) // the resource id and six replacements
  })
})
