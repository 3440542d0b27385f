import { describe, expect, it } from 'vitest'
import { parseTraceparent } from './traceparent'

const T = '4bf92f3577b34da6a3ce929d0e0e4736'
const S = '00f067aa0ba902b7'

describe('parseTraceparent', () => {
  it('parses a valid version-00 header', () => {
    expect(parseTraceparent(`00-${T}-${S}-01`)).toEqual({ traceId: T, spanId: S, sampled: true })
    expect(parseTraceparent(`00-${T}-${S}-00`)).toEqual({ traceId: T, spanId: S, sampled: false })
  })

  it('accepts future versions with extra fields', () => {
    expect(parseTraceparent(`cc-${T}-${S}-01-what-the-future-holds`)?.traceId).toBe(T)
  })

  it('rejects invalid headers', () => {
    const bad = [
      undefined,
      '',
      `00-${T}-${S}`,
      `00-${T}-${S}-01-extra`, // version 00 has exactly four fields
      `ff-${T}-${S}-01`, // version ff is invalid
      `00-${'0'.repeat(32)}-${S}-01`, // all-zero trace id
      `00-${T}-${'0'.repeat(16)}-01`, // all-zero parent id
      `00-${T.toUpperCase()}-${S}-01`, // uppercase hex
      `00-${T.slice(1)}-${S}-01`,
      `00-${T}-${S}-0g`,
      `00_${T}_${S}_01`,
      `00-${T}-${S}-01`.repeat(20),
    ]
    for (const h of bad) expect(parseTraceparent(h), String(h)).toBeUndefined()
  })

  it('rejects repeated headers (ambiguous)', () => {
    expect(parseTraceparent([`00-${T}-${S}-01`, `00-${T}-${S}-01`])).toBeUndefined()
    expect(parseTraceparent([`00-${T}-${S}-01`])?.traceId).toBe(T)
  })
})
